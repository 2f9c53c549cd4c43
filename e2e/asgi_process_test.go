package e2e

// End-to-end tests of ASGI apps with the process model: lifespan in every worker, on
// reload and on stop; apps without lifespan; a failed startup; --master --processes,
// --harakiri on a blocked loop, --max-requests, stats.

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Lifespan: startup runs in every worker before its first request (the request's scope
// has the state it set), shutdown when the instance stops, and again on each reload.
func TestASGILifespanWorkers(t *testing.T) {
	t.Parallel()
	rec := filepath.Join(t.TempDir(), "record")
	fifo := filepath.Join(t.TempDir(), "fifo")
	s := Start(t, "--master", "--processes", "2", "--master-fifo", fifo, "--env", "ASGI_RECORD="+rec,
		"--pypy-asgi", "asgi_app", "--pypy-pp", testdata(""))
	workers := masterWorkers(t, s, 2)
	for _, w := range workers {
		asgiWaitRecord(t, rec, "startup "+strconv.Itoa(w))
	}
	// Every answer carries the state startup set, whichever worker gives it.
	for range 6 {
		resp, body := s.Get("/scope")
		if resp.StatusCode != 200 || !strings.Contains(body, `"state": {"greeting": "hello from lifespan"}`) {
			t.Fatalf("GET /scope: %d %s", resp.StatusCode, body)
		}
	}
	// A graceful reload: the old workers shut down, the new ones start up.
	if err := os.WriteFile(fifo, []byte("r"), 0); err != nil {
		t.Fatal(err)
	}
	fresh := masterAllNew(t, s, 2, workers, 30*time.Second)
	for _, w := range workers {
		asgiWaitRecord(t, rec, "shutdown "+strconv.Itoa(w))
	}
	for _, w := range fresh {
		asgiWaitRecord(t, rec, "startup "+strconv.Itoa(w))
	}
	s.Stop()
	for _, w := range fresh {
		if !strings.Contains(asgiRecord(t, rec), "shutdown "+strconv.Itoa(w)) {
			t.Errorf("worker %d stopped without its lifespan shutdown; record:\n%s", w, asgiRecord(t, rec))
		}
	}
	// Startup came before shutdown, in each worker.
	r := asgiRecord(t, rec)
	for _, w := range append(workers, fresh...) {
		id := " " + strconv.Itoa(w) + "\n"
		if strings.Index(r, "startup"+id) > strings.Index(r, "shutdown"+id) {
			t.Errorf("worker %d: shutdown before startup; record:\n%s", w, r)
		}
	}
}

// An app that fails on the lifespan scope is served without lifespan, as uvicorn's auto
// mode does, with a line in the log saying so; its callable is found as `application`.
func TestASGINoLifespan(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-asgi-file", testdata("asgi_nolifespan.py"))
	if _, body := s.Get("/"); body != "no lifespan here" {
		t.Errorf("GET /: %q", body)
	}
	if !strings.Contains(s.Log(), "does not support lifespan") {
		t.Errorf("the log does not say that the app has no lifespan:\n%s", s.Log())
	}
}

// A startup the app reports failed is a start-up error: the worker exits with status 1,
// naming the app's message.
func TestASGIStartupFailed(t *testing.T) {
	t.Parallel()
	code, out := Run(t, []string{"--http-socket", freeAddr(t), "--pypy-asgi-file", testdata("asgi_app.py")},
		NoWait(), Env("ASGI_FAIL_STARTUP=1")).ExitWithin(30 * time.Second)
	if code != 1 || !strings.Contains(out, "lifespan startup failed: the database is not there") {
		t.Errorf("exit status %d, output:\n%s", code, out)
	}
}

// Start-up errors of the options: no such module, no app in it, a WSGI app beside.
func TestASGILoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pypy-asgi", "no_such_module_here"}, "No module named 'no_such_module_here'"},
		{[]string{"--pypy-asgi-file", testdata("asgi_app.py"), "--callable", "nothere"}, "has no ASGI app named 'nothere'"},
		{[]string{"--pypy-asgi-file", testdata("asgi_app.py"), "--pypy-wsgi-file", testdata("app.py")}, "an ASGI app (--pypy-asgi, --pypy-asgi-file) is served alone"},
	} {
		code, out := Run(t, append([]string{"--http-socket", freeAddr(t), "--need-app"}, tc.args...), NoWait()).ExitWithin(30 * time.Second)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit status %d, want an error saying %q; output:\n%s", tc.args, code, tc.want, out)
		}
	}
}

// Two workers share the load; the stats count their requests; --max-requests replaces
// a worker after its requests; the uwsgi module works from the app.
func TestASGIMasterProcesses(t *testing.T) {
	t.Parallel()
	statsAddr := freeAddr(t)
	s := Start(t, "--master", "--processes", "2", "--max-requests", "20", "--stats", statsAddr, "--pypy-asgi-file", testdata("asgi_app.py"), "--cache2", "name=default,items=10")
	workers := masterWorkers(t, s, 2)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) string {
		resp, err := client.Get(s.URL(path))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	seen := map[string]bool{}
	for range 15 {
		seen[get("/pid")] = true
	}
	if body := get("/uwsgi-cache"); !strings.HasPrefix(body, "cached by worker ") {
		t.Errorf("the uwsgi module from an ASGI app: %q", body)
	}
	if len(seen) < 2 {
		t.Logf("15 requests on new connections were all answered by %v", seen)
	}
	// A worker counts a request as it ends, which may come just after its answer.
	total := 0.0
	for end := time.Now().Add(5 * time.Second); total != 16 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		total = 0
		for _, w := range masterStatsWorkers(t, masterStats(t, statsAddr)) {
			total += w["requests"].(float64)
		}
	}
	if total != 16 {
		t.Errorf("the stats count %v requests, want 16", total)
	}
	// With --max-requests 20, the requests to come replace at least one worker.
	deadline := time.Now().Add(20 * time.Second)
	for n := 16; ; n++ {
		now := masterWorkers(t, s, 2)
		if !masterIn(now[0], workers) || !masterIn(now[1], workers) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no worker was replaced after %d requests with --max-requests 20; output:\n%s", n, s.Log())
		}
		get("/pid")
	}
}

// --harakiri: a handler that blocks the loop (time.sleep in a coroutine) gets its worker
// killed and replaced; a request that only awaits for as long does not.
func TestASGIHarakiri(t *testing.T) {
	t.Parallel()
	rec := filepath.Join(t.TempDir(), "record")
	s := Start(t, "--master", "--processes", "1", "--harakiri", "2", "--env", "ASGI_RECORD="+rec, "--pypy-asgi-file", testdata("asgi_app.py"))
	workers := masterWorkers(t, s, 1)
	// Awaiting 3 s is no harakiri: the loop is free all along.
	if resp, body := s.Get("/sleep?3"); resp.StatusCode != 200 || body != "slept" {
		t.Fatalf("GET /sleep?3: %d %q", resp.StatusCode, body)
	}
	if strings.Contains(s.Log(), "HARAKIRI") {
		t.Fatalf("a request awaiting 3 s was taken for a blocked loop:\n%s", s.Log())
	}
	done := make(chan error, 1)
	go func() {
		c := &http.Client{Timeout: 25 * time.Second}
		resp, err := c.Get(s.URL("/block?30"))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				err = errors.New("the blocked request got 200 " + string(b))
			}
		}
		done <- err
	}()
	asgiWaitRecord(t, rec, "blocking")
	if masterWaitLogRE(s, regexp.MustCompile(`HARAKIRI[^\n]*ASGI event loop`), 15*time.Second) == nil {
		t.Fatalf("no HARAKIRI for the blocked loop; output:\n%s", s.Log())
	}
	if err := <-done; err != nil && strings.HasPrefix(err.Error(), "the blocked") {
		t.Error(err)
	}
	masterAllNew(t, s, 1, workers, 20*time.Second)
	if _, body := s.Get("/"); body != "Hello, ASGI!" {
		t.Errorf("after the harakiri: %q", body)
	}
}

// Lifespan belongs to the processes that serve: a mule loads the ASGI app (for its
// uwsgi module) but runs no startup.
func TestASGIMuleNoLifespan(t *testing.T) {
	t.Parallel()
	rec := filepath.Join(t.TempDir(), "record")
	s := Start(t, "--master", "--processes", "1", "--mules", "1", "--env", "ASGI_RECORD="+rec, "--pypy-asgi-file", testdata("asgi_app.py"))
	m := masterWaitLogRE(s, regexp.MustCompile(`mule 1: pid (\d+): waiting for messages`), 20*time.Second)
	if m == nil {
		t.Fatalf("the mule never waited for messages:\n%s", s.Log())
	}
	workers := masterWorkers(t, s, 2) // the worker and the mule
	for _, p := range workers {
		if strconv.Itoa(p) != m[1] {
			asgiWaitRecord(t, rec, "startup "+strconv.Itoa(p))
		}
	}
	if r := asgiRecord(t, rec); strings.Contains(r, "startup "+m[1]+"\n") {
		t.Errorf("the mule (pid %s) ran the lifespan startup:\n%s", m[1], r)
	}
}
