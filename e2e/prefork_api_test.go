package e2e

// What the loaded image does before the fork: warm-up requests, the app's import-time use
// of the uwsgi module, an interactive --pypy-eval on the terminal.

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --warmup runs --warmup-requests requests per URI through the app in the loader before
// any worker is forked: a worker's first request is the image's 2n+1st. A URI that does
// not answer 2xx is logged once, with its status.
func TestPreforkWarmup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 2,
		"--warmup", "/warm?x=1", "--warmup", "/missing", "--warmup-requests", "50")...)
	workers := masterWorkers(t, s, 2)
	for _, f := range preforkFirst(t, s, "/", workers) {
		if f.Served != 101 {
			t.Errorf("worker %d: its first request is the image's %dth, want the 101st (after 2 × 50 warm-up requests)", f.PID, f.Served)
		}
	}
	want := "50 of the 50 requests to /missing were not 2xx (the first: 404 Not Found)"
	if n := strings.Count(s.Log(), want); n != 1 {
		t.Errorf("want %q once in the log, found it %d times:\n%s", want, n, s.Log())
	}
	if strings.Contains(s.Log(), "/warm?x=1 were not") {
		t.Errorf("the 2xx warm-up was reported:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "GET /warm") {
		t.Errorf("warm-up requests reached the access log:\n%s", s.Log())
	}
}

// A warm-up URI must be a path: uwsgo says so and does not start.
func TestPreforkWarmupBadURI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Run(t, preforkArgs(dir, testdata("prefork_app.py"), 1, "--warmup", "warm"), HTTP(), NoWait())
	if s.Exited(20*time.Second) != 1 || !strings.Contains(s.Log(), "--warmup warm (command line): a path from the root please (/...)") {
		t.Fatalf("no error naming --warmup; output:\n%s", s.Log())
	}
}

// The app's import-time use of the uwsgi module, in the loader, takes effect in every
// worker: the uWSGI signal handlers it registered run in each worker, its timer fires, the
// cache item it set is there, its RPC function answers in each worker. Asking the cache
// before the fork raises an error that names the call and what to do instead. A Unix
// signal handler set with signal.signal() at import runs in the worker the signal is sent to.
func TestPreforkImportTimeAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 2)...)
	workers := masterWorkers(t, s, 2)
	for _, f := range preforkFirst(t, s, "/api", workers) {
		if f.Cache != "set at import" || f.RPC != strconv.Itoa(f.PID) {
			t.Errorf("worker %d: cache %q, RPC answer %q; want %q and its pid", f.PID, f.Cache, f.RPC, "set at import")
		}
		for _, want := range []string{"ValueError", "uwsgi.cache_get() needs a running worker", "uwsgi.post_fork_hook", "--lazy-apps"} {
			if !strings.Contains(f.AtImport.CacheGet, want) {
				t.Errorf("cache_get at import: %q should say %q", f.AtImport.CacheGet, want)
			}
		}
	}
	for _, w := range workers {
		if err := syscall.Kill(w, syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
	}
	if code, body, err := masterFetch(masterNewClient(), s.URL("/signal")); err != nil || code != 200 {
		t.Fatalf("GET /signal: %d %q %v", code, body, err)
	}
	// Signal 17 targets every worker; the timer's signal 18, one worker a second.
	want := map[string]bool{"18": true}
	for _, w := range workers {
		want["17_"+strconv.Itoa(w)] = true
		want[strconv.Itoa(int(syscall.SIGUSR1))+"_"+strconv.Itoa(w)] = true
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]bool{}
		for _, line := range append(preforkNotes(dir, "signals"), preforkNotes(dir, "unix-signals")...) {
			f := strings.Split(line, "_")
			got[f[0]] = true
			got[f[0]+"_"+f[1]] = true
		}
		missing := []string{}
		for k := range want {
			if !got[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handlers registered at import did not run for %v (signal_pid); they ran for %v; output:\n%s", missing, preforkNotes(dir, "signals"), s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --honour-stdin with code.interact() in --pypy-eval (the seed's IPython trick) under a
// master: the shell runs once, in the loader, on the terminal, before any worker is
// forked; after Ctrl-D the workers are forked and serve.
func TestPreforkHonourStdinInteractive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freeAddr(t)
	onTTY, term, tty := masterOnTTY(t)
	s := Run(t, append(preforkArgs(dir, testdata("prefork_app.py"), 2,
		"--pypy-eval", "import code; code.interact()", "--honour-stdin"), "--http-socket", addr), onTTY, NoWait())
	tty.Close()
	s.Addr = addr
	if !s.WaitLog(">>> ", 20*time.Second) {
		t.Fatalf("no >>> prompt on the terminal; it shows:\n%q", s.Log())
	}
	if _, err := term.WriteString("1+41\r"); err != nil {
		t.Fatal(err)
	}
	if !s.poll(10*time.Second, func() bool { return master42(s.Log()) }) {
		t.Fatalf("typing 1+41 did not print 42; the terminal shows:\n%q", s.Log())
	}
	if strings.Contains(s.Log(), "forked from") {
		t.Fatalf("a worker was forked while the shell was open:\n%q", s.Log())
	}
	if _, err := term.Write([]byte{4}); err != nil {
		t.Fatal(err)
	}
	if !s.WaitLog(" ready (master pid", 20*time.Second) {
		t.Fatalf("after Ctrl-D the instance did not become ready; the terminal shows:\n%q", s.Log())
	}
	workers := masterWorkers(t, s, 2)
	preforkFirst(t, s, "/", workers)
	if n := strings.Count(s.Log(), "(InteractiveConsole)"); n != 1 {
		t.Errorf("the shell should have run once; its banner shows %d times:\n%q", n, s.Log())
	}
	if got := preforkNotes(dir, "imports"); len(got) != 1 {
		t.Errorf("want one import; got %v", got)
	}
}
