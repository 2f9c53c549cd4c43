package uwsgisignal

import (
	"bytes"
	"log"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"uwsgo/internal/options"
	"uwsgo/internal/shm/shared"
)

// fakeSend records what the router hands out; reach is how many processes each target
// has.
type fakeSend struct {
	mu    sync.Mutex
	sent  []sent
	reach map[string]int
}

type sent struct {
	num    int
	target string
}

func (f *fakeSend) send(num int, target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.reach[target]
	if !ok {
		n = 1
	}
	if n > 0 {
		f.sent = append(f.sent, sent{num, target})
	}
	return n
}

// nums is the signals sent since the last call.
func (f *fakeSend) nums() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, s := range f.sent {
		out = append(out, s.num)
	}
	f.sent = nil
	return out
}

func newRouter(t *testing.T) (*Router, *shared.UwsgiSignalTable, *fakeSend, *bytes.Buffer) {
	t.Helper()
	cfg, err := options.Parse(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := shared.Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Segment.File().Close() })
	f := &fakeSend{reach: map[string]int{}}
	var logged bytes.Buffer
	return New(st.UwsgiSignals, f.send, log.New(&logged, "", 0)), st.UwsgiSignals, f, &logged
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSignalTable(t *testing.T) {
	_, table, _, _ := newRouter(t)
	if table.Target(5) != "" {
		t.Fatal("signal 5 registered in a new table")
	}
	if !table.Register(5, "workers") || table.Target(5) != "workers" {
		t.Fatal("Register(5, workers) failed")
	}
	if !table.Register(5, "workers") {
		t.Error("registering the same target again (as every worker does) refused")
	}
	if table.Register(5, "worker1") || table.Target(5) != "workers" {
		t.Error("a second target replaced the first")
	}
	for _, bad := range []struct {
		num    int
		target string
	}{{-1, "worker"}, {256, "worker"}, {6, ""}, {7, string(bytes.Repeat([]byte("w"), 64))}} {
		if table.Register(bad.num, bad.target) {
			t.Errorf("Register(%d, %q) accepted", bad.num, bad.target)
		}
	}
	if table.Target(-1) != "" || table.Target(256) != "" {
		t.Error("Target out of range is not empty")
	}
	long := string(bytes.Repeat([]byte("w"), 63))
	if !table.Register(255, long) || table.Target(255) != long {
		t.Error("a 63-byte target on signal 255 was not kept")
	}
}

func TestRaise(t *testing.T) {
	r, table, f, _ := newRouter(t)
	if err := r.Raise(3); err == nil {
		t.Error("raising an unregistered signal succeeded")
	}
	table.Register(3, "worker2")
	if err := r.Raise(3); err != nil {
		t.Fatal(err)
	}
	if len(f.sent) != 1 || f.sent[0] != (sent{3, "worker2"}) {
		t.Errorf("sent %v, want signal 3 to worker2", f.sent)
	}
	f.reach["worker2"] = 0
	if err := r.Raise(3); err == nil {
		t.Error("raising a signal no process receives succeeded")
	}
}

func TestAddValidates(t *testing.T) {
	r, _, _, _ := newRouter(t)
	for _, s := range []Source{
		{Kind: "timer", Num: 1},
		{Kind: "rbtimer", Num: 1, Seconds: -1},
		{Kind: "alarm", Num: 1, Seconds: 1},
	} {
		if err := r.Add(s); err == nil {
			t.Errorf("Add(%+v) accepted", s)
		}
	}
}

func TestTimer(t *testing.T) {
	r, table, f, _ := newRouter(t)
	table.Register(1, "worker")
	base := time.Now()
	if err := r.Add(Source{Kind: "timer", Num: 1, Seconds: 2}); err != nil {
		t.Fatal(err)
	}
	// Every worker adds the same timer: it runs once.
	r.Add(Source{Kind: "timer", Num: 1, Seconds: 2})
	r.Add(Source{Kind: "timer", Num: 1, Seconds: 2})
	steps := []struct {
		at   time.Duration
		want []int
	}{
		{time.Second, nil},
		{2100 * time.Millisecond, []int{1}},
		{2500 * time.Millisecond, nil}, // not twice in one period
		{3 * time.Second, nil},
		{4100 * time.Millisecond, []int{1}},
		{6100 * time.Millisecond, []int{1}},
	}
	for _, s := range steps {
		r.Tick(base.Add(s.at))
		if got := f.nums(); !equal(got, s.want) {
			t.Errorf("tick at +%v: sent %v, want %v", s.at, got, s.want)
		}
	}
	// Late ticks: one signal, not a burst to catch up.
	r.Tick(base.Add(20 * time.Second))
	if got := f.nums(); !equal(got, []int{1}) {
		t.Errorf("a tick 14 s late sent %v, want one signal", got)
	}
	r.Tick(base.Add(20500 * time.Millisecond))
	if got := f.nums(); got != nil {
		t.Errorf("right after a late tick: %v", got)
	}
	// A different period is another timer.
	table.Register(2, "workers")
	r.Add(Source{Kind: "timer", Num: 2, Seconds: 1})
	r.Add(Source{Kind: "timer", Num: 2, Seconds: 3})
	now := time.Now()
	r.Tick(now.Add(3100 * time.Millisecond))
	if got := f.nums(); !equal(got, []int{2, 2}) {
		t.Errorf("timers of 1 s and 3 s on signal 2, 3 s in (signal 1's is due at +22 s): %v, want [2 2]", got)
	}
}

func TestRbTimer(t *testing.T) {
	r, table, f, _ := newRouter(t)
	table.Register(4, "worker")
	base := time.Now()
	r.Add(Source{Kind: "rbtimer", Num: 4, Seconds: 1, Iterations: 3})
	r.Add(Source{Kind: "rbtimer", Num: 4, Seconds: 1, Iterations: 3}) // the other worker
	var all []int
	for i := 1; i <= 8; i++ {
		r.Tick(base.Add(time.Duration(i)*time.Second + 100*time.Millisecond))
		all = append(all, f.nums()...)
	}
	if !equal(all, []int{4, 4, 4}) {
		t.Errorf("rbtimer of 3 iterations over 8 periods sent %v", all)
	}
	// 0 iterations: for ever.
	table.Register(5, "worker")
	base = time.Now()
	r.Add(Source{Kind: "rbtimer", Num: 5, Seconds: 1})
	n := 0
	for i := 1; i <= 10; i++ {
		r.Tick(base.Add(time.Duration(i)*time.Second + 100*time.Millisecond))
		n += len(f.nums())
	}
	if n != 10 {
		t.Errorf("rbtimer without a limit ran %d times in 10 periods", n)
	}
}

func TestFileMonitor(t *testing.T) {
	r, table, f, _ := newRouter(t)
	table.Register(6, "workers")
	path := filepath.Join(t.TempDir(), "watched")
	if err := os.WriteFile(path, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Add(Source{Kind: "filemon", Num: 6, Path: path})
	r.Add(Source{Kind: "filemon", Num: 6, Path: path})
	r.Tick(time.Now())
	r.Tick(time.Now())
	if got := f.nums(); got != nil {
		t.Fatalf("an unchanged file raised %v", got)
	}
	for i := 1; i <= 2; i++ {
		when := time.Now().Add(time.Duration(i) * time.Hour)
		os.Chtimes(path, when, when)
		r.Tick(time.Now())
		if got := f.nums(); !equal(got, []int{6}) {
			t.Errorf("change %d: sent %v, want [6] once", i, got)
		}
		r.Tick(time.Now())
		if got := f.nums(); got != nil {
			t.Errorf("change %d seen twice: %v", i, got)
		}
	}
	// A file that appears later: seen, then its changes raise.
	later := filepath.Join(t.TempDir(), "later")
	table.Register(7, "workers")
	r.Add(Source{Kind: "filemon", Num: 7, Path: later})
	r.Tick(time.Now())
	os.WriteFile(later, []byte("x"), 0o644)
	r.Tick(time.Now())
	f.nums()
	when := time.Now().Add(3 * time.Hour)
	os.Chtimes(later, when, when)
	r.Tick(time.Now())
	if got := f.nums(); !equal(got, []int{7}) {
		t.Errorf("a change of a file created after the monitor: %v", got)
	}
}

func TestCronMatches(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// 2024-03-10 is a Sunday (weekday 0).
	for _, c := range []struct {
		cron [5]int
		at   string
		want bool
	}{
		{[5]int{-1, -1, -1, -1, -1}, "2024-03-10 12:31", true},
		{[5]int{31, -1, -1, -1, -1}, "2024-03-10 12:31", true},
		{[5]int{30, -1, -1, -1, -1}, "2024-03-10 12:31", false},
		{[5]int{31, 12, -1, -1, -1}, "2024-03-10 12:31", true},
		{[5]int{31, 13, -1, -1, -1}, "2024-03-10 12:31", false},
		{[5]int{0, 0, 10, 3, -1}, "2024-03-10 00:00", true},
		{[5]int{0, 0, 11, 3, -1}, "2024-03-10 00:00", false},
		{[5]int{0, 0, 10, 4, -1}, "2024-03-10 00:00", false},
		{[5]int{-1, -1, -1, -1, 0}, "2024-03-10 08:00", true}, // Sunday
		{[5]int{-1, -1, -1, -1, 1}, "2024-03-10 08:00", false},
		{[5]int{-1, -1, -1, -1, 1}, "2024-03-11 08:00", true}, // Monday
		// -N: every N
		{[5]int{-5, -1, -1, -1, -1}, "2024-03-10 12:35", true},
		{[5]int{-5, -1, -1, -1, -1}, "2024-03-10 12:36", false},
		{[5]int{-15, -1, -1, -1, -1}, "2024-03-10 12:00", true},
		{[5]int{0, -6, -1, -1, -1}, "2024-03-10 18:00", true},
		{[5]int{0, -6, -1, -1, -1}, "2024-03-10 19:00", false},
		{[5]int{-1, -1, -2, -1, -1}, "2024-03-10 19:00", true},
		{[5]int{-1, -1, -1, -3, -1}, "2024-03-10 19:00", true},
		{[5]int{-1, -1, -1, -4, -1}, "2024-03-10 19:00", false},
	} {
		if got := CronMatches(c.cron, at(c.at)); got != c.want {
			t.Errorf("CronMatches(%v, %s) = %v, want %v", c.cron, c.at, got, c.want)
		}
	}
}

// A cron fires once in a matching minute, however often the router ticks in it.
func TestCronTick(t *testing.T) {
	r, table, f, _ := newRouter(t)
	table.Register(8, "worker")
	minute := time.Now().Truncate(time.Minute)
	r.Tick(minute.Add(-30 * time.Second)) // the router was running before the cron came
	r.Add(Source{Kind: "cron", Num: 8, Cron: [5]int{-1, -1, -1, -1, -1}})
	r.Add(Source{Kind: "cron", Num: 8, Cron: [5]int{-1, -1, -1, -1, -1}})
	r.Tick(minute.Add(-10 * time.Second))
	if got := f.nums(); got != nil {
		t.Errorf("before the minute boundary: %v", got)
	}
	for _, s := range []time.Duration{0, time.Second, 30 * time.Second, 59 * time.Second} {
		r.Tick(minute.Add(s))
	}
	if got := f.nums(); !equal(got, []int{8}) {
		t.Errorf("ticks through one minute sent %v, want [8] once", got)
	}
	r.Tick(minute.Add(61 * time.Second))
	if got := f.nums(); !equal(got, []int{8}) {
		t.Errorf("the next minute sent %v, want [8]", got)
	}
	// A cron that does not match this minute.
	table.Register(9, "worker")
	next := minute.Add(2 * time.Minute)
	r.Add(Source{Kind: "cron", Num: 9, Cron: [5]int{(next.Minute() + 1) % 60, -1, -1, -1, -1}})
	r.Tick(next)
	if got := f.nums(); !equal(got, []int{8}) {
		t.Errorf("a minute matching only the first cron sent %v", got)
	}
	r.Tick(next.Add(time.Minute))
	if got := f.nums(); !equal(got, []int{8, 9}) {
		t.Errorf("a minute matching both crons sent %v", got)
	}
}

// A source whose signal is not registered logs why it raised nothing.
func TestTickUnregistered(t *testing.T) {
	r, _, f, logged := newRouter(t)
	base := time.Now()
	r.Add(Source{Kind: "timer", Num: 40, Seconds: 1})
	r.Tick(base.Add(1100 * time.Millisecond))
	if got := f.nums(); got != nil {
		t.Errorf("an unregistered timer sent %v", got)
	}
	if !bytes.Contains(logged.Bytes(), []byte("40")) {
		t.Errorf("nothing logged for unregistered signal 40: %q", logged.String())
	}
}
