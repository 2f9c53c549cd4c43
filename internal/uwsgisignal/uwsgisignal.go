// Package uwsgisignal is uWSGI's signal framework: numbered events 0..255 that the app
// registers with a target (register_signal), raises (uwsgi.signal) or has raised by the
// clock (timers, crons) or the file system (file monitors), and that run a Python handler
// in the target processes. They are not Unix signals, which are os/signal's (and, for
// the app's own signal.signal(), the worker's unixSignals).
//
// The Router lives where all processes can be reached: in the master, or in the single
// process. Registration itself is in shared memory (shared.UwsgiSignalTable), so any
// process can tell whether a signal is registered; raising and the clock sources go
// through the Router, which hands each signal to the processes its target names (send).
// Every worker of a lazy-apps instance runs the same add_timer() calls, so sources are
// deduplicated.
package uwsgisignal

import (
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"uwsgo/internal/shm/shared"
)

// Source is a clock or file-system source of a signal.
type Source struct {
	Kind       string `json:"kind"` // "timer", "rbtimer", "cron" or "filemon"
	Num        int    `json:"num"`
	Seconds    int    `json:"secs,omitempty"`
	Iterations int    `json:"iterations,omitempty"` // rbtimer: how many times (0: for ever)
	Cron       [5]int `json:"cron,omitempty"`       // minute, hour, day, month, weekday; -1 any, -N every N
	Path       string `json:"path,omitempty"`
}

type source struct {
	Source
	next    time.Time
	fired   int
	mtime   time.Time
	checked bool
}

// Router raises signals and runs their clocks.
type Router struct {
	table *shared.UwsgiSignalTable
	send  func(num int, target string) int
	log   *log.Logger

	mu       sync.Mutex
	sources  []*source
	lastCron time.Time
}

// New makes a router; send hands a signal to the processes target names and says how
// many it reached.
func New(table *shared.UwsgiSignalTable, send func(num int, target string) int, logger *log.Logger) *Router {
	return &Router{table: table, send: send, log: logger}
}

// Raise hands num to its target.
func (r *Router) Raise(num int) error {
	target := r.table.Target(num)
	if target == "" {
		return fmt.Errorf("uWSGI signal %d is not registered", num)
	}
	if r.send(num, target) == 0 {
		return fmt.Errorf("uWSGI signal %d: no process of target %q to run it", num, target)
	}
	return nil
}

// Add starts a source, unless the same one runs already.
func (r *Router) Add(s Source) error {
	switch s.Kind {
	case "timer", "rbtimer":
		if s.Seconds <= 0 {
			return fmt.Errorf("%s for signal %d: the period must be at least 1 second", s.Kind, s.Num)
		}
	case "cron", "filemon":
	default:
		return fmt.Errorf("unknown signal source %q", s.Kind)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.sources {
		if o.Source == s {
			return nil
		}
	}
	src := &source{Source: s, next: time.Now().Add(time.Duration(s.Seconds) * time.Second)}
	if s.Kind == "filemon" {
		if st, err := os.Stat(s.Path); err == nil {
			src.mtime, src.checked = st.ModTime(), true
		}
	}
	r.sources = append(r.sources, src)
	return nil
}

// Tick raises what is due; call it every second.
func (r *Router) Tick(now time.Time) {
	var due []int
	r.mu.Lock()
	cronMinute := now.Truncate(time.Minute)
	newMinute := cronMinute.After(r.lastCron)
	if newMinute {
		r.lastCron = cronMinute
	}
	kept := r.sources[:0]
	for _, s := range r.sources {
		switch s.Kind {
		case "timer", "rbtimer":
			if !now.Before(s.next) {
				due = append(due, s.Num)
				s.fired++
				s.next = s.next.Add(time.Duration(s.Seconds) * time.Second)
				if s.next.Before(now) {
					s.next = now.Add(time.Duration(s.Seconds) * time.Second)
				}
			}
			if s.Kind == "rbtimer" && s.Iterations > 0 && s.fired >= s.Iterations {
				continue
			}
		case "cron":
			if newMinute && CronMatches(s.Cron, now) {
				due = append(due, s.Num)
			}
		case "filemon":
			if st, err := os.Stat(s.Path); err == nil {
				if s.checked && !st.ModTime().Equal(s.mtime) {
					due = append(due, s.Num)
				}
				s.mtime, s.checked = st.ModTime(), true
			}
		}
		kept = append(kept, s)
	}
	r.sources = kept
	r.mu.Unlock()
	for _, num := range due {
		if err := r.Raise(num); err != nil {
			r.log.Printf("%v", err)
		}
	}
}

// CronMatches applies uWSGI's cron fields (add_cron and --cron alike) to t: minute,
// hour, day of the month, month, day of the week (0 = Sunday); -1 is any value, -N
// (N > 1) every N.
func CronMatches(c [5]int, t time.Time) bool {
	values := [5]int{t.Minute(), t.Hour(), t.Day(), int(t.Month()), int(t.Weekday())}
	for i, want := range c {
		switch {
		case want == -1:
		case want < -1:
			if values[i]%(-want) != 0 {
				return false
			}
		case want != values[i]:
			return false
		}
	}
	return true
}
