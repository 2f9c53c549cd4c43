package e2e

// uWSGI's signal framework: register_signal with its targets, uwsgi.signal(), timers,
// rb timers, file monitors, signal_wait, and delivery that loses nothing. The app
// registers the signals at load (testdata/uwsgimod_app.py, UMOD_SIGNALS); each handler
// counts its runs in the cache "sig".

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// umodSignalServer starts the app with its signals registered, watching dir/watched.
func umodSignalServer(t *testing.T, extra ...string) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "watched"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--cache2", "name=sig,items=100", "--pypy-eval", fmt.Sprintf("UMOD_SIGNALS = %q", dir)}, extra...)
	return umodStart(t, args...), dir
}

// umodCounts reads the handler counts of signal num: all workers, worker 1, worker 2.
func umodCounts(t *testing.T, s *Server, num int) [3]int64 {
	t.Helper()
	r := umodRepr(t, s, 0, fmt.Sprintf("out = '%%d %%d %%d' %% tuple(num(k, 'sig') or 0 for k in ('s%d', 's%d-w1', 's%d-w2'))", num, num, num))
	var c [3]int64
	fmt.Sscanf(strings.Trim(r, "'"), "%d %d %d", &c[0], &c[1], &c[2])
	return c
}

// umodWaitCounts waits until signal num's counts are want, and fails with what they are.
func umodWaitCounts(t *testing.T, s *Server, num int, want [3]int64, d time.Duration) {
	t.Helper()
	var got [3]int64
	if !eventually(d, func() bool { got = umodCounts(t, s, num); return got == want }) {
		t.Fatalf("signal %d: handler runs (all, worker 1, worker 2) = %v after %v, want %v\n%s", num, got, d, want, s.Log())
	}
}

// umodSettled raises signal 10, which every worker runs, and waits until both ran it:
// whatever was queued for a worker before it has run too, so the counts read next are
// final. The ordering stands for a fixed sleep that would only make extra runs unlikely.
func umodSettled(t *testing.T, s *Server) {
	t.Helper()
	before := umodCounts(t, s, 10)
	umodOK(t, s, umodExec(t, s, "uwsgi.signal(10)"))
	var c [3]int64
	if !eventually(10*time.Second, func() bool { c = umodCounts(t, s, 10); return c[1] > before[1] && c[2] > before[2] }) {
		t.Fatalf("signal 10 (target 'workers') did not run in both workers within 10 s: %v after %v\n%s", c, before, s.Log())
	}
}

// umodTicks waits until the 1 s timer of signal 13 ran n more times: the master has gone
// through its signal sources (the other timers, the file monitor) at least n-1 times since.
func umodTicks(t *testing.T, s *Server, n int64) {
	t.Helper()
	from := umodCounts(t, s, 13)[0]
	var c int64
	if !eventually(10*time.Second+time.Duration(n)*2*time.Second, func() bool { c = umodCounts(t, s, 13)[0]; return c >= from+n }) {
		t.Fatalf("the 1 s timer of signal 13 ran %d times, waiting for %d more than %d\n%s", c, n, from, s.Log())
	}
}

func TestUwsgiModSignalTargets(t *testing.T) {
	t.Parallel()
	s, _ := umodSignalServer(t)
	umodEq(t, s, 0, "out = [uwsgi.signal_registered(n) for n in (10, 11, 12, 99)]", "[True, True, True, None]")

	// 'workers': every worker runs it, once.
	umodOK(t, s, umodExec(t, s, "uwsgi.signal(10)"))
	umodWaitCounts(t, s, 10, [3]int64{2, 1, 1}, 10*time.Second)

	// 'worker': one worker per signal; six signals, six runs.
	for i := 0; i < 6; i++ {
		umodOK(t, s, umodExec(t, s, "uwsgi.signal(11)"))
	}
	var c [3]int64
	if !eventually(10*time.Second, func() bool { c = umodCounts(t, s, 11); return c[0] >= 6 }) {
		t.Fatalf("signal 11 (target 'worker') raised 6 times ran %v times", c)
	}
	umodSettled(t, s)
	if c = umodCounts(t, s, 11); c[0] != 6 || c[1]+c[2] != 6 {
		t.Errorf("signal 11 (target 'worker') raised 6 times: runs (all, w1, w2) = %v, want 6 in all", c)
	}

	// 'worker2': only worker 2, wherever it is raised from.
	umodOK(t, s, umodExecOn(t, s, 1, "uwsgi.signal(12)"))
	umodOK(t, s, umodExecOn(t, s, 2, "uwsgi.signal(12)"))
	umodOK(t, s, umodExecOn(t, s, 1, "uwsgi.signal(12)"))
	umodWaitCounts(t, s, 12, [3]int64{3, 0, 3}, 10*time.Second)

	// Registration: a second target for a registered number is refused; the same one is
	// accepted (every worker registers the same signals); numbers are 0..255.
	umodRaises(t, s, "uwsgi.register_signal(10, 'worker1', lambda n: None)", "ValueError", "10")
	umodEq(t, s, 0, "out = uwsgi.register_signal(10, 'workers', lambda n: None)", "True")
	umodRaises(t, s, "uwsgi.register_signal(256, 'workers', lambda n: None)", "ValueError")
	umodRaises(t, s, "uwsgi.register_signal(50, 'workers', 'not callable')", "TypeError")
}

// A timer added by every worker runs once per period, not once per worker. Its reference
// clock is the rb timer of signal 14, added at the same moment by the same workers with
// the same period: when that one has run its 3 times, the timer has run about as often
// (twice per period would make it 6), and it goes on after.
func TestUwsgiModSignalTimer(t *testing.T) {
	t.Parallel()
	s, _ := umodSignalServer(t)
	if !eventually(20*time.Second, func() bool { return umodCounts(t, s, 14)[0] >= 3 }) {
		t.Fatalf("the rb timer of signal 14 did not run 3 times in 20 s\n%s", s.Log())
	}
	// One more tick may come between the two readings; a handler may lag one behind.
	if c := umodCounts(t, s, 13)[0]; c < 2 || c > 4 {
		t.Errorf("signal 13 (add_timer(13, 1) in both workers) ran %d times while the rb timer beside it ran 3, want 3 (one more or less)", c)
	}
	umodTicks(t, s, 3)
}

// add_rb_timer(num, 1, 3) runs exactly 3 times.
func TestUwsgiModSignalRbTimer(t *testing.T) {
	t.Parallel()
	s, _ := umodSignalServer(t)
	var c [3]int64
	if !eventually(15*time.Second, func() bool { c = umodCounts(t, s, 14); return c[0] >= 3 }) {
		t.Fatalf("add_rb_timer(14, 1, 3) ran %d times in 15 s, want 3", c[0])
	}
	umodTicks(t, s, 3) // three more periods
	umodSettled(t, s)
	if c = umodCounts(t, s, 14); c[0] != 3 {
		t.Errorf("add_rb_timer(14, 1, 3) ran %d times, want exactly 3", c[0])
	}
}

// add_file_monitor: a change of the file raises the signal, once per change.
func TestUwsgiModSignalFileMonitor(t *testing.T) {
	t.Parallel()
	s, dir := umodSignalServer(t)
	watched := filepath.Join(dir, "watched")
	umodTicks(t, s, 2) // the monitor has looked at the file as it is
	umodSettled(t, s)
	if c := umodCounts(t, s, 15); c[0] != 0 {
		t.Fatalf("the file monitor fired %d times before the file changed", c[0])
	}
	for i := int64(1); i <= 2; i++ {
		future := time.Now().Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(watched, future, future); err != nil {
			t.Fatal(err)
		}
		var c [3]int64
		if !eventually(10*time.Second, func() bool { c = umodCounts(t, s, 15); return c[0] >= i }) {
			t.Fatalf("change %d of the monitored file: the signal ran %d times in 10 s", i, c[0])
		}
		umodTicks(t, s, 2) // it looked again
		umodSettled(t, s)
		if c = umodCounts(t, s, 15); c[0] != i {
			t.Fatalf("after %d changes of the monitored file the signal ran %d times", i, c[0])
		}
	}
}

// 100 signals raised at once, from many requests while others run, are all handled.
func TestUwsgiModSignalReliable(t *testing.T) {
	t.Parallel()
	s, _ := umodSignalServer(t, "--threads", "2")
	stop := make(chan struct{})
	var load sync.WaitGroup
	for i := 0; i < 4; i++ {
		load.Add(1)
		go func() {
			defer load.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				umodTryExec(s, 0, "time.sleep(0.01); out = 1", 10*time.Second)
			}
		}()
	}
	var raise sync.WaitGroup
	for i := 0; i < 20; i++ {
		raise.Add(1)
		go func() {
			defer raise.Done()
			for j := 0; j < 5; j++ {
				r, _, err := umodTryExec(s, 0, "uwsgi.signal(17)", 30*time.Second)
				if err != nil || r.Err() != "" {
					t.Errorf("uwsgi.signal(17): %v %s", err, r.Err())
				}
			}
		}()
	}
	raise.Wait()
	var c [3]int64
	ok := eventually(30*time.Second, func() bool { c = umodCounts(t, s, 17); return c[0] >= 100 })
	close(stop)
	load.Wait()
	if !ok {
		t.Fatalf("100 signals raised, %d handled (w1 %d, w2 %d) after 30 s\n%s", c[0], c[1], c[2], s.Log())
	}
	umodSettled(t, s)
	if c = umodCounts(t, s, 17); c[0] != 100 {
		t.Errorf("100 signals raised, %d handled", c[0])
	}
}

// signal_wait() in a request returns when the signal comes; signal_received() names it.
// With one thread per worker (the default) the waiting request holds the worker's only
// thread, as it does in uWSGI, where signal_wait() still gets the signal.
func TestUwsgiModSignalWait(t *testing.T) {
	t.Parallel()
	for _, threads := range []string{"1", "2"} {
		t.Run("threads="+threads, func(t *testing.T) {
			s, _ := umodSignalServer(t, "--threads", threads)
			first, rest := umodStream(t, s, "/wait?num=18")
			waiter := int(first["wid"].(float64))
			umodOK(t, s, umodExecOnBusy(t, s, 3-waiter, "uwsgi.signal(18)"))
			got := make(chan string, 1)
			go func() {
				line, err := rest.ReadString('\n')
				if err != nil {
					line += err.Error()
				}
				got <- line
			}()
			select {
			case line := <-got:
				if strings.TrimSpace(line) != `{"received": 18}` {
					t.Errorf("signal_wait(18) then signal_received() in worker %d: %q, want {\"received\": 18}", waiter, line)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("signal_wait(18) in worker %d still waits 15 s after signal 18 (target 'workers') was raised\n%s", waiter, s.Log())
			}
		})
	}
}

// A signal nobody registered: uwsgi.signal() says so.
func TestUwsgiModSignalUnregistered(t *testing.T) {
	t.Parallel()
	s, _ := umodSignalServer(t)
	umodEq(t, s, 0, "out = uwsgi.signal_registered(77)", "None")
	umodOK(t, s, umodExec(t, s, "uwsgi.signal(77)"))
	if !s.WaitLog("signal 77 is not registered", 5*time.Second) {
		t.Errorf("raising unregistered signal 77 left no trace in the log:\n%s", s.Log())
	}
}

// add_cron with every field -1 is accepted (it fires at the next minute: the matching is
// unit-tested in internal/uwsgisignal).
func TestUwsgiModSignalCronRegistration(t *testing.T) {
	t.Parallel()
	s, _ := umodSignalServer(t)
	umodEq(t, s, 0, "uwsgi.register_signal(20, 'worker', lambda n: None); out = uwsgi.add_cron(20, -1, -1, -1, -1, -1)", "True")
	umodEq(t, s, 0, "out = uwsgi.add_cron(20, 30, 4, -1, -1, -5)", "True")
}
