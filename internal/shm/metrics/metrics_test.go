package metrics

import (
	"sync"
	"testing"

	"uwsgo/internal/shm"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Metric
	}{
		{"hits", Metric{Name: "hits", Type: "counter"}},
		{"name=level,type=gauge,initial_value=7", Metric{Name: "level", Type: "gauge", Initial: 7}},
		{"name=n, initial_value=-3", Metric{Name: "n", Type: "counter", Initial: -3}},
		{"type=absolute,name=a", Metric{Name: "a", Type: "absolute"}},
	} {
		got, err := Parse(c.spec)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	for _, spec := range []string{"type=gauge", "name=x,type=histogram", "name=x,initial_value=ten", "name=x,color=red", "name="} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
}

func newSet(t *testing.T, defs []Metric) (*Set, *shm.Segment) {
	t.Helper()
	seg, err := shm.Create("metrics-test", Size(len(defs)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.File().Close() })
	return Attach(defs, seg, 0, true), seg
}

func TestApply(t *testing.T) {
	s, seg := newSet(t, []Metric{{Name: "hits", Type: "counter"}, {Name: "level", Type: "gauge", Initial: 7}})
	if v, ok := s.Get("level"); !ok || v != 7 {
		t.Errorf("initial value: %d %v", v, ok)
	}
	if v, ok := s.Get("hits"); !ok || v != 0 {
		t.Errorf("hits: %d %v", v, ok)
	}
	for _, st := range []struct {
		op   byte
		n    int64
		want int64
	}{{'+', 5, 5}, {'-', 2, 3}, {'*', 4, 12}, {'/', 5, 2}, {'=', -9, -9}, {'+', 1, -8}, {'/', -4, 2}} {
		if v, ok := s.Apply("hits", st.op, st.n); !ok || v != st.want {
			t.Errorf("Apply(hits, %c, %d) = %d, %v; want %d", st.op, st.n, v, ok, st.want)
		}
	}
	if _, ok := s.Apply("hits", '/', 0); ok {
		t.Error("division by zero accepted")
	}
	if v, _ := s.Get("hits"); v != 2 {
		t.Errorf("a refused division changed the value to %d", v)
	}
	if _, ok := s.Apply("nope", '+', 1); ok {
		t.Error("an unknown metric accepted")
	}
	if _, ok := s.Get("nope"); ok {
		t.Error("Get of an unknown metric ok")
	}
	if s.Value(1) != 7 {
		t.Errorf("Value(1) = %d", s.Value(1))
	}
	// Another process's view (attached without initializing) sees the same numbers and
	// does not reset them.
	other := Attach(s.Defs, seg, 0, false)
	if v, _ := other.Get("hits"); v != 2 {
		t.Errorf("the other view reads %d", v)
	}
	other.Apply("level", '+', 1)
	if v, _ := s.Get("level"); v != 8 {
		t.Errorf("a change through the other view: %d", v)
	}
}

func TestConcurrent(t *testing.T) {
	s, _ := newSet(t, []Metric{{Name: "n", Type: "counter"}})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				if i == 0 && j%100 == 0 {
					s.Apply("n", '*', 1) // under the lock, interleaved with atomic adds
				}
				s.Apply("n", '+', 1)
			}
		}(i)
	}
	wg.Wait()
	if v, _ := s.Get("n"); v != 8000 {
		t.Errorf("8 x 1000 increments: %d", v)
	}
}
