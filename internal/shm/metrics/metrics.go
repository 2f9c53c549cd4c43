// Package metrics is uWSGI's --metric: named 64-bit numbers in the instance's shared
// segment that the app changes (uwsgi.metric_*) and the stats server exports.
package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"uwsgo/internal/shm"
)

// Metric is one --metric option: "NAME" or "name=NAME[,type=counter|gauge][,initial_value=N]".
type Metric struct {
	Name    string
	Type    string // "counter" or "gauge"
	Initial int64
}

// Parse reads one --metric value.
func Parse(spec string) (Metric, error) {
	m := Metric{Type: "counter"}
	if !strings.Contains(spec, "=") {
		m.Name = spec
		return m, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "name":
			m.Name = v
		case "type":
			if v != "counter" && v != "gauge" && v != "absolute" {
				return m, fmt.Errorf("--metric %s: type is counter, gauge or absolute, not %q", spec, v)
			}
			m.Type = v
		case "initial_value":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return m, fmt.Errorf("--metric %s: initial_value %q is not a number", spec, v)
			}
			m.Initial = n
		default:
			return m, fmt.Errorf("--metric %s: unknown key %q (known: name, type, initial_value)", spec, k)
		}
	}
	if m.Name == "" {
		return m, fmt.Errorf("--metric %s: no name", spec)
	}
	return m, nil
}

// Size is the bytes n metrics take: a lock for the operations atomics cannot do, and a
// word each.
func Size(n int) int { return shm.LockSize + 8*n }

// Set is the instance's metrics.
type Set struct {
	Defs  []Metric
	lock  *shm.Lock
	seg   *shm.Segment
	off   int
	index map[string]int
}

// Attach maps the metrics at off in seg. With initialize, the initial values are stored
// (the master does it once).
func Attach(defs []Metric, seg *shm.Segment, off int, initialize bool) *Set {
	s := &Set{Defs: defs, lock: seg.Lock(off), seg: seg, off: off + shm.LockSize, index: map[string]int{}}
	for i, d := range defs {
		s.index[d.Name] = i
		if initialize {
			s.word(i).Store(d.Initial)
		}
	}
	return s
}

func (s *Set) word(i int) *atomic.Int64 { return s.seg.Int64(s.off + 8*i) }

// Value reads metric i.
func (s *Set) Value(i int) int64 { return s.word(i).Load() }

// Apply changes metric name: op is '=', '+', '-', '*' or '/'. It returns the new value;
// ok is false for an unknown metric or a division by zero.
func (s *Set) Apply(name string, op byte, n int64) (int64, bool) {
	i, found := s.index[name]
	if !found {
		return 0, false
	}
	w := s.word(i)
	switch op {
	case '=':
		w.Store(n)
		return n, true
	case '+':
		return w.Add(n), true
	case '-':
		return w.Add(-n), true
	}
	if op == '/' && n == 0 {
		return 0, false
	}
	s.lock.Lock()
	defer s.lock.Unlock()
	v := w.Load()
	if op == '*' {
		v *= n
	} else {
		v /= n
	}
	w.Store(v)
	return v, true
}

// Get reads metric name.
func (s *Set) Get(name string) (int64, bool) {
	i, found := s.index[name]
	if !found {
		return 0, false
	}
	return s.word(i).Load(), true
}
