// Package shared is the instance's shared state, laid out in one shm segment from the
// options: user locks (--locks), the table of uWSGI signals (UwsgiSignalTable), the
// spooler's pid, caches (--cache2, --cache), shared areas (--sharedarea) and metrics
// (--metric), in that order. The master (or the single process) creates it; workers map
// it. Every process derives the same layout from the same options, so nothing but the
// descriptor is passed.
package shared

import (
	"fmt"
	"os"
	"sync/atomic"

	"uwsgo/internal/options"
	"uwsgo/internal/shm"
	"uwsgo/internal/shm/cache"
	"uwsgo/internal/shm/metrics"
	"uwsgo/internal/shm/sharedarea"
)

// State is the mapped shared state.
type State struct {
	Segment      *shm.Segment
	Locks        []*shm.Lock // user locks 0..N for --locks N (lock 0 always exists)
	Caches       []*cache.Cache
	Areas        []*sharedarea.Area
	Metrics      *metrics.Set
	UwsgiSignals *UwsgiSignalTable
	// SpoolerPID is the first spooler's pid (0: none), written by the master.
	SpoolerPID *atomic.Int64
	size       int
}

type plan struct {
	locks   int
	caches  []cache.Config
	areas   []int
	metrics []metrics.Metric
}

func planOf(cfg *options.Config) (plan, error) {
	// uWSGI's --locks N makes user locks 0 to N (its check is lock > N): N+1 of them.
	p := plan{locks: cfg.Shared.Locks + 1, areas: cfg.Shared.Sharedareas}
	for _, spec := range cfg.Shared.Caches {
		c, err := cache.ParseSpec(spec)
		if err != nil {
			return p, err
		}
		p.caches = append(p.caches, c)
	}
	if n := cfg.Shared.Cache; n > 0 {
		p.caches = append(p.caches, cache.Config{Name: "default", Items: n, BlockSize: cfg.Shared.CacheBlockSize, KeySize: cache.DefaultKeySize})
	}
	seen := map[string]bool{}
	for _, c := range p.caches {
		if seen[c.Name] {
			return p, fmt.Errorf("two caches are named %q", c.Name)
		}
		seen[c.Name] = true
	}
	for _, spec := range cfg.Shared.Metrics {
		m, err := metrics.Parse(spec)
		if err != nil {
			return p, err
		}
		p.metrics = append(p.metrics, m)
	}
	return p, nil
}

func (p plan) size() int {
	n := p.locks*shm.LockSize + signalTableSize + 64
	for _, c := range p.caches {
		n += c.Size()
	}
	for _, a := range p.areas {
		n += sharedarea.Size(a)
	}
	return n + metrics.Size(len(p.metrics))
}

// Create makes the shared state for cfg.
func Create(cfg *options.Config) (*State, error) {
	p, err := planOf(cfg)
	if err != nil {
		return nil, err
	}
	seg, err := shm.Create("uwsgo-shared", p.size())
	if err != nil {
		return nil, fmt.Errorf("shared memory: %w", err)
	}
	return attach(p, seg, true), nil
}

// Open maps the shared state a master passed as f.
func Open(cfg *options.Config, f *os.File) (*State, error) {
	p, err := planOf(cfg)
	if err != nil {
		return nil, err
	}
	seg, err := shm.Map(f, p.size())
	if err != nil {
		return nil, fmt.Errorf("shared memory: %w", err)
	}
	return attach(p, seg, false), nil
}

func attach(p plan, seg *shm.Segment, initialize bool) *State {
	s := &State{Segment: seg, size: p.size()}
	off := 0
	for i := 0; i < p.locks; i++ {
		s.Locks = append(s.Locks, seg.Lock(off))
		off += shm.LockSize
	}
	s.UwsgiSignals = &UwsgiSignalTable{lock: seg.Lock(off), mem: seg.Bytes(off+shm.LockSize, signalTableSize-shm.LockSize)}
	off += signalTableSize
	s.SpoolerPID = seg.Int64(off)
	off += 64
	for _, c := range p.caches {
		s.Caches = append(s.Caches, cache.Attach(c, seg, off))
		off += c.Size()
	}
	for _, a := range p.areas {
		s.Areas = append(s.Areas, sharedarea.Attach(seg, off, a))
		off += sharedarea.Size(a)
	}
	s.Metrics = metrics.Attach(p.metrics, seg, off, initialize)
	return s
}

// Cache finds a cache by name; "" is the first one configured (uWSGI's default cache).
func (s *State) Cache(name string) *cache.Cache {
	for _, c := range s.Caches {
		if name == "" || c.Name == name {
			return c
		}
	}
	return nil
}
