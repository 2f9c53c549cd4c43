package e2e

// uWSGI's uwsgidecorators module, as Debian ships it, under a master with two workers:
// testdata/uwsgimod_deco.py decorates a function with each decorator.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const umodDecorators = "/usr/lib/python3/dist-packages/uwsgidecorators.py"

// umodDecoStart runs testdata/uwsgimod_deco.py; it returns the directory whose file
// "watched" @filemon watches.
func umodDecoStart(t *testing.T, extra ...string) (*Server, string) {
	t.Helper()
	if _, err := os.Stat(inRoot(umodDecorators)); err != nil {
		t.Fatalf("uwsgidecorators is not installed (scripts/install-deps installs python3-uwsgidecorators): %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "watched"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--master", "--processes", "2", "--threads", "2",
		"--pypy-pp", filepath.Dir(testdata("uwsgimod_deco.py")), "--pypy-wsgi", "uwsgimod_deco",
		"--cache2", "name=deco,items=100", "--pypy-eval", fmt.Sprintf("UMOD_DIR = %q", dir)}
	return Start(t, append(args, extra...)...), dir
}

// umodDecoCount is the count of name in the "deco" cache (0 when absent).
func umodDecoCount(t *testing.T, s *Server, name string) int64 {
	t.Helper()
	return umodInt(t, s, 0, fmt.Sprintf("out = num(%q, 'deco') or 0", name))
}

// umodDecoWait waits until the count of name reaches at least n.
func umodDecoWait(t *testing.T, s *Server, name string, n int64, d time.Duration) int64 {
	t.Helper()
	var c int64
	if !eventually(d, func() bool { c = umodDecoCount(t, s, name); return c >= n }) {
		t.Fatalf("%s ran %d times in %v, want %d\n%s", name, c, d, n, s.Log())
	}
	return c
}

func TestUwsgiModDecorators(t *testing.T) {
	t.Parallel()
	s, dir := umodDecoStart(t)

	t.Run("import", func(t *testing.T) {
		umodEq(t, s, 0, "import uwsgidecorators; out = uwsgidecorators.__file__", "'"+umodDecorators+"'")
	})

	t.Run("postfork", func(t *testing.T) {
		// @postfork: once in each worker; @postfork(2): in worker 2 only.
		umodEq(t, s, 0, "out = [num(k, 'deco') for k in ('postfork', 'postfork-w1', 'postfork-w2', 'postfork2', 'postfork2-w1', 'postfork2-w2')]",
			"[2, 1, 1, 1, None, 1]")
	})

	t.Run("rpc", func(t *testing.T) {
		for _, wid := range []int{1, 2} {
			umodEq(t, s, wid, "out = [uwsgi.rpc(None, 'umod_hello', b'x'), uwsgi.call('umod_hello', 'y'), b'umod_hello' in uwsgi.rpc_list()]",
				fmt.Sprintf("[b'hello x from %d', b'hello y from %d', True]", wid, wid))
		}
	})

	t.Run("signal", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			umodOK(t, s, umodExec(t, s, "uwsgi.signal(30)"))
		}
		umodOK(t, s, umodExec(t, s, "uwsgi.signal(31)"))
		umodDecoWait(t, s, "sig30", 4, 10*time.Second)
		umodDecoWait(t, s, "sig31", 2, 10*time.Second)
		// Signal 31 once more, to every worker: once it ran in both, whatever was queued
		// before it ran too, and the counts are final.
		umodOK(t, s, umodExec(t, s, "uwsgi.signal(31)"))
		umodDecoWait(t, s, "sig31", 4, 10*time.Second)
		umodEq(t, s, 0, "out = [num(k, 'deco') for k in ('sig30', 'sig31', 'sig31-w1', 'sig31-w2')]", "[4, 4, 2, 2]")
	})

	t.Run("signal numbers", func(t *testing.T) {
		// get_free_signal() gives every worker the same numbers for the same decorators,
		// and they are registered (the cron's firing is unit-tested in internal/uwsgisignal).
		code := "import uwsgimod_deco as d; ns = [d.TIMER_NUM, d.RBTIMER_NUM, d.FILEMON_NUM, d.CRON_NUM]; out = [ns, len(set(ns)), [uwsgi.signal_registered(n) for n in ns]]"
		r1 := umodRepr(t, s, 1, code)
		r2 := umodRepr(t, s, 2, code)
		if r1 != r2 || !strings.HasSuffix(r1, ", 4, [True, True, True, True]]") {
			t.Errorf("the decorators' signals: worker 1 %s, worker 2 %s; want the same 4 registered numbers", r1, r2)
		}
	})

	t.Run("timers", func(t *testing.T) {
		// @timer(1) and @rbtimer(1), run by both workers at import, are one timer each:
		// started together with the same period, each is the other's clock, and they keep
		// step (a timer per worker would run twice as often as one). That the workers'
		// copies are one timer is proven by count in TestUwsgiModSignalRbTimer.
		umodDecoWait(t, s, "timer", 6, 30*time.Second)
		timer, rb := umodDecoCount(t, s, "timer"), umodDecoCount(t, s, "rbtimer")
		if rb < timer-2 || rb > timer+2 {
			t.Errorf("@timer(1) ran %d times and @rbtimer(1) %d: want them in step (a tick or two apart)", timer, rb)
		}
	})

	t.Run("filemon", func(t *testing.T) {
		if c := umodDecoCount(t, s, "filemon"); c != 0 {
			t.Fatalf("@filemon ran %d times before the file changed", c)
		}
		future := time.Now().Add(time.Hour)
		if err := os.Chtimes(filepath.Join(dir, "watched"), future, future); err != nil {
			t.Fatal(err)
		}
		umodDecoWait(t, s, "filemon", 1, 10*time.Second)
	})

	t.Run("lock", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := umodTryExecOn(s, 1+i%2, "import uwsgimod_deco as d\nout = sum(d.locked_increment('%d-%d' % (os.getpid(), threading.get_ident())) for i in range(5))", 60*time.Second)
				if err != nil || r.Err() != "" || r.Repr != "0" {
					t.Errorf("@lock: %v %s, %s clashes", err, r.Err(), r.Repr)
				}
			}()
		}
		wg.Wait()
		umodEq(t, s, 0, "out = uwsgi.cache_get('locked', 'deco')", "b'80'")
	})

	t.Run("thread", func(t *testing.T) {
		// The decorated call returns at once; the function runs on its own thread.
		r := umodOK(t, s, umodExec(t, s, "import uwsgimod_deco as d\nr = d.in_background('bg'); out = [r is d.in_background.f, uwsgi.cache_get('bg', 'deco')]"))
		if r.Repr != "[True, None]" {
			t.Fatalf("@thread call: %s, want [True, None] (returns the function before it ran)", r.Repr)
		}
		var v string
		if !eventually(10*time.Second, func() bool {
			v = umodRepr(t, s, 0, "v = uwsgi.cache_get('bg', 'deco'); out = v and int(v)")
			return v != "None"
		}) {
			t.Fatalf("the @thread function never ran")
		}
		if tid, _ := strconv.ParseInt(v, 10, 64); tid == r.TID {
			t.Errorf("the @thread function ran on the request's thread %d", tid)
		}
	})
}

func TestUwsgiModDecoratorHarakiri(t *testing.T) {
	t.Parallel()
	s, _ := umodDecoStart(t)
	// In time: the function's result, and set_user_harakiri(0) after it.
	r := umodOK(t, s, umodExecOn(t, s, 1, "import uwsgimod_deco as d\nout = d.slow(0.1)"))
	if r.Repr != "'done'" {
		t.Fatalf("@harakiri(2) function that returns in time: %s", r.Repr)
	}
	if r2 := umodOK(t, s, umodExecOn(t, s, 1, "time.sleep(3); out = 1")); r2.PID != r.PID {
		t.Fatalf("worker 1 went from pid %d to %d after an @harakiri function returned in time\n%s", r.PID, r2.PID, s.Log())
	}
	// Too slow: killed.
	res := make(chan umodReply, 1)
	go func() {
		r, _, _ := umodTryExec(s, 0, "import uwsgimod_deco as d\nout = d.slow(10)", 30*time.Second)
		res <- r
	}()
	if !s.WaitLog("HARAKIRI", 15*time.Second) {
		t.Fatalf("an @harakiri(2) function sleeping 10 s was not killed\n%s", s.Log())
	}
	if !strings.Contains(s.Log(), "set_user_harakiri") {
		t.Errorf("the HARAKIRI line does not name set_user_harakiri:\n%s", s.Log())
	}
	if r := <-res; r.Repr == "'done'" {
		t.Errorf("the @harakiri(2) function that sleeps 10 s returned")
	}
}

// @spool and @mulefunc need a spooler and mules: the decorated call in a worker runs the
// function in the spooler or a mule.
func TestUwsgiModDecoratorSpoolMule(t *testing.T) {
	t.Parallel()
	spooler := filepath.Join(t.TempDir(), "spool")
	s, _ := umodDecoStart(t, "--spooler", spooler, "--mule", "--mule")

	t.Run("spool", func(t *testing.T) {
		r := umodOK(t, s, umodExec(t, s, "import uwsgimod_deco as d\nout = d.spooled({'name': 'job1', 'n': '7'})"))
		// Like uWSGI, the call answers the job's file name.
		if !strings.HasPrefix(r.Repr, "b'"+spooler+"/") {
			t.Errorf("the @spool call returned %s, want the job file in %s", r.Repr, spooler)
		}
		umodDecoWait(t, s, "spool", 1, 15*time.Second)
		umodEq(t, s, 0, "out = uwsgi.cache_get('spool-args', 'deco')",
			`b"[('n', '7'), ('name', 'job1'), ('ud_spool_func', 'spooled'), ('ud_spool_ret', '-2')]"`)
		r = umodOK(t, s, umodExec(t, s, "out = eval(uwsgi.cache_get('spool-where', 'deco'))"))
		pids := umodPIDs(t, s)
		if !strings.HasPrefix(r.Repr, "[True, 0, ") || strings.Contains(r.Repr, fmt.Sprint(pids[1])) || strings.Contains(r.Repr, fmt.Sprint(pids[2])) {
			t.Errorf("the @spool function ran with [i_am_the_spooler, worker_id, pid] = %s; want the spooler, not a worker (%v)", r.Repr, pids)
		}
		umodOK(t, s, umodExec(t, s, "import uwsgimod_deco as d\nd.spooled_with_arguments(['x', 1], b={'k': 2})"))
		umodDecoWait(t, s, "spool-pass", 1, 15*time.Second)
		umodEq(t, s, 0, "out = uwsgi.cache_get('spool-pass-args', 'deco')", `b"[['x', 1], {'k': 2}]"`)
		// Done jobs leave the directory.
		if !eventually(10*time.Second, func() bool {
			ents, _ := os.ReadDir(spooler)
			return len(ents) == 0
		}) {
			ents, _ := os.ReadDir(spooler)
			t.Errorf("%d files left in the spooler directory after the jobs ran", len(ents))
		}
	})

	t.Run("mulefunc", func(t *testing.T) {
		umodOK(t, s, umodExec(t, s, "import uwsgimod_deco as d\nd.in_a_mule('m1')"))
		umodDecoWait(t, s, "mulefunc", 1, 15*time.Second)
		r := umodOK(t, s, umodExec(t, s, "out = eval(uwsgi.cache_get('mulefunc-where', 'deco'))"))
		if !strings.HasPrefix(r.Repr, "['m1', 1, 0, ") && !strings.HasPrefix(r.Repr, "['m1', 2, 0, ") {
			t.Errorf("the @mulefunc function ran with [value, mule_id, worker_id, pid] = %s; want a mule", r.Repr)
		}
		for i := 0; i < 3; i++ {
			umodOK(t, s, umodExec(t, s, "import uwsgimod_deco as d\nd.in_mule_one('to one')"))
		}
		umodDecoWait(t, s, "mulefunc1", 3, 15*time.Second)
		umodEq(t, s, 0, "out = uwsgi.cache_get('mulefunc1-where', 'deco')", `b"['to one', 1]"`)
		umodEq(t, s, 0, "out = [num('mulefunc1-w0', 'deco'), num('mulefunc1-w1', 'deco'), num('mulefunc1-w2', 'deco')]", "[3, None, None]")
	})

	t.Run("postfork", func(t *testing.T) {
		// Each worker ran @postfork once, whatever else runs.
		umodEq(t, s, 0, "out = [num('postfork-w1', 'deco'), num('postfork-w2', 'deco')]", "[1, 1]")
	})
}
