package e2e

// End-to-end tests of ASGI apps under pre-fork: the app is imported once, in the loader,
// and every worker forked from it serves on the loop the import bound its objects to,
// with descriptors, executor threads and a lifespan of its own.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// asgiPreforkApp copies the test app into dir, so that a reload can find new code there.
func asgiPreforkApp(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile(testdata("asgi_prefork.py"))
	if err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "asgi_prefork.py")
	if err := os.WriteFile(app, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// asgiPids are the pids of the record's lines for event, in order.
func asgiPids(t *testing.T, rec, event string) []int {
	t.Helper()
	var pids []int
	for _, line := range strings.Split(asgiRecord(t, rec), "\n") {
		if what, pid, ok := strings.Cut(line, " "); ok && what == event {
			n, _ := strconv.Atoi(pid)
			pids = append(pids, n)
		}
	}
	return pids
}

// asgiAnsweredBy fetches path on new connections until each of pids has answered (its
// pid first in the body), and returns the bodies by pid.
func asgiAnsweredBy(t *testing.T, s *Server, path string, pids []int) map[int]string {
	t.Helper()
	client := masterNewClient()
	seen := map[int]string{}
	done := eventually(20*time.Second, func() bool {
		if code, body, err := masterFetch(client, s.URL(path)); err == nil && code == 200 {
			first, _, _ := strings.Cut(body, " ")
			pid, _ := strconv.Atoi(first)
			if masterIn(pid, pids) {
				seen[pid] = body
			}
		}
		return len(seen) == len(pids)
	})
	if !done {
		t.Fatalf("GET %s: want answers from each of the workers %v, got %v; output:\n%s", path, pids, seen, s.Log())
	}
	return seen
}

// asgiEpollTargets are the inodes (decimal) of what the epoll instance on descriptor fd
// of process pid watches, from /proc's fdinfo ("tfd: ... ino:HEX").
func asgiEpollTargets(t *testing.T, pid int, fd string) []string {
	t.Helper()
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd))
	if err != nil {
		t.Fatal(err)
	}
	var inodes []string
	for _, line := range strings.Split(string(info), "\n") {
		if !strings.HasPrefix(line, "tfd:") {
			continue
		}
		for _, field := range strings.Fields(line) {
			if hex, ok := strings.CutPrefix(field, "ino:"); ok {
				n, _ := strconv.ParseUint(hex, 16, 64)
				inodes = append(inodes, strconv.FormatUint(n, 10))
			}
		}
	}
	return inodes
}

// Two workers forked from one loaded ASGI app: one import, a lifespan per worker, awaiting
// requests served at once, the executor in each worker, a killed worker forked again
// without an import, new code on SIGHUP, a shutdown per worker on stop.
func TestASGIPrefork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := asgiPreforkApp(t, dir)
	rec := filepath.Join(dir, "record")
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--env", "ASGI_RECORD="+rec, "--pypy-asgi-file", app)
	workers := masterWorkers(t, s, 2)
	for _, w := range workers {
		asgiWaitRecord(t, rec, "startup "+strconv.Itoa(w))
	}
	imports := asgiPids(t, rec, "import")
	if len(imports) != 1 || masterIn(imports[0], workers) {
		t.Fatalf("the app should be imported once, by the loader (not by the workers %v): imports by %v", workers, imports)
	}
	if startups := asgiPids(t, rec, "startup"); len(startups) != 2 || masterIn(imports[0], startups) {
		t.Errorf("the lifespan startup should run once in each worker %v and never in the loader %d: ran in %v", workers, imports[0], startups)
	}

	// 50 requests each awaiting 0.3 s: 15 s one after another; they overlap on each
	// worker's loop (the semaphore they pass was made at import, in the loader).
	start := time.Now()
	var wg sync.WaitGroup
	bodies := make([]string, 50)
	errs := make([]error, 50)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := masterFetch(masterNewClient(), s.URL("/sleep"))
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			bodies[i], errs[i] = body, err
		}()
	}
	wg.Wait()
	took := time.Since(start)
	overlapped := false
	for i, body := range bodies {
		if errs[i] != nil {
			t.Fatalf("GET /sleep: %v %q; output:\n%s", errs[i], body, s.Log())
		}
		f := strings.Fields(body)
		pid, _ := strconv.Atoi(f[0])
		if !masterIn(pid, workers) {
			t.Errorf("GET /sleep answered by pid %d, not a worker %v", pid, workers)
		}
		if most, _ := strconv.Atoi(f[1]); most > 1 {
			overlapped = true
		}
	}
	if !overlapped || took > 7*time.Second {
		t.Errorf("50 requests awaiting 0.3 s took %v (15 s one at a time); overlapped on one loop: %v", took, overlapped)
	}
	// The kernel may have given one worker all 50: each serves awaiting requests.
	asgiAnsweredBy(t, s, "/sleep?0.05", workers)

	// Each worker's loop has an epoll instance and a self-pipe of its own: an inherited
	// self-pipe's wake-up could be read by another worker, and another worker's
	// registrations would wake this one.
	pipes := map[string]int{}
	for pid, body := range asgiAnsweredBy(t, s, "/loop", workers) {
		f := strings.Fields(body)
		pipe, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, f[2]))
		watched := asgiEpollTargets(t, pid, f[1])
		if !strings.HasPrefix(pipe, "socket:[") || len(watched) != 1 || "socket:["+watched[0]+"]" != pipe {
			t.Errorf("worker %d: its loop's epoll instance should watch its self-pipe (%s) alone; it watches the inodes %v", pid, pipe, watched)
		}
		if other, dup := pipes[pipe]; dup {
			t.Errorf("workers %d and %d share the self-pipe %s", other, pid, pipe)
		}
		pipes[pipe] = pid
	}

	// asyncio.to_thread and run_in_executor(None): the worker's own executor (--threads
	// sizes it, "asgi" names its threads); the loader's threads did not survive the fork.
	for pid, body := range asgiAnsweredBy(t, s, "/executor", workers) {
		if f := strings.Fields(body); len(f) != 3 || !strings.HasPrefix(f[1], "asgi_") || !strings.HasPrefix(f[2], "asgi_") {
			t.Errorf("worker %d: the executor ran on %q, want the loop's threads (asgi_N)", pid, body)
		}
	}

	// kill -9: a new worker is forked from the loaded image, starts its lifespan, serves.
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var fresh int
	_, ok := masterWaitChildren(s.Cmd.Process.Pid, 20*time.Second, func(c []int) bool {
		for _, p := range c {
			if !masterIn(p, workers) {
				fresh = p
			}
		}
		return len(c) == 2 && fresh != 0
	})
	if !ok {
		t.Fatalf("no worker replaced the killed %d; output:\n%s", workers[0], s.Log())
	}
	asgiWaitRecord(t, rec, "startup "+strconv.Itoa(fresh))
	asgiAnsweredBy(t, s, "/sleep?0.01", []int{fresh})
	if n := len(asgiPids(t, rec, "import")); n != 1 {
		t.Errorf("the respawned worker imported the app again: %d imports", n)
	}

	// SIGHUP: a new loader imports the code on disk, new workers are forked from it and
	// start up, the old ones shut down.
	old := []int{workers[1], fresh}
	src, _ := os.ReadFile(app)
	if err := os.WriteFile(app, []byte(strings.Replace(string(src), `VERSION = "1"`, `VERSION = "2"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reloaded := masterAllNew(t, s, 2, old, 30*time.Second)
	for _, w := range old {
		asgiWaitRecord(t, rec, "shutdown "+strconv.Itoa(w))
	}
	for pid, body := range asgiAnsweredBy(t, s, "/version", reloaded) {
		if body != strconv.Itoa(pid)+" 2" {
			t.Errorf("after SIGHUP worker %d answered %q, want the new code's version 2", pid, body)
		}
	}
	if imports := asgiPids(t, rec, "import"); len(imports) != 2 || masterIn(imports[1], reloaded) {
		t.Errorf("the reload should import the app once more, in its loader: imports by %v, workers %v", imports, reloaded)
	}

	s.Stop()
	for _, w := range reloaded {
		if !masterIn(w, asgiPids(t, rec, "shutdown")) {
			t.Errorf("worker %d stopped without its lifespan shutdown; record:\n%s", w, asgiRecord(t, rec))
		}
	}
}

// --lazy-apps: every worker imports the ASGI app itself and runs its own lifespan.
func TestASGIPreforkLazyApps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := filepath.Join(dir, "record")
	s := Start(t, "--master", "--processes", "2", "--lazy-apps", "--env", "ASGI_RECORD="+rec, "--pypy-asgi-file", asgiPreforkApp(t, dir))
	workers := masterWorkers(t, s, 2)
	for _, w := range workers {
		asgiWaitRecord(t, rec, "startup "+strconv.Itoa(w))
	}
	imports := asgiPids(t, rec, "import")
	if len(imports) != 2 || !masterIn(imports[0], workers) || !masterIn(imports[1], workers) {
		t.Errorf("with --lazy-apps each worker %v should import the app: imports by %v", workers, imports)
	}
	asgiAnsweredBy(t, s, "/executor", workers)
}
