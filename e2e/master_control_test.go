package e2e

// Controlling a running master: its FIFO, --touch-reload, and the recycling limits
// (--max-requests, --max-worker-lifetime, --reload-on-rss).

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// masterFIFOWrite writes a command to a master FIFO.
func masterFIFOWrite(t *testing.T, fifo, cmd string) {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("opening the master FIFO: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(cmd); err != nil {
		t.Fatalf("writing %q to the master FIFO: %v", cmd, err)
	}
}

// --master-fifo PATH: "r" reloads gracefully (every worker new, no request lost), "q"
// stops gracefully (a request in flight completes, exit status 0), "Q" stops at once
// (a 30-second request does not hold it up).
func TestMasterFIFO(t *testing.T) {
	t.Parallel()
	start := func(t *testing.T) (*Server, string) {
		fifo := filepath.Join(masterTempDir(t), "fifo")
		s := Start(t, "--master", "--processes", "2", "--threads", "2", "--master-fifo", fifo, "--pypy-wsgi-file", masterApp())
		if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("--master-fifo should create a FIFO at %s: %v %v", fifo, st, err)
		}
		return s, fifo
	}
	t.Run("r reloads", func(t *testing.T) {
		t.Parallel()
		s, fifo := start(t)
		old := masterWorkers(t, s, 2)
		load := masterStartLoad(t, s.URL("/pid"))
		if !load.waitOK(20, 15*time.Second) {
			t.Fatalf("the load did not get going; output:\n%s", s.Log())
		}
		masterFIFOWrite(t, fifo, "r")
		if !s.WaitLog("master: master FIFO 'r': reloading the workers gracefully", 10*time.Second) {
			t.Fatalf("no reload logged after writing r; output:\n%s", masterTail(s.Log(), 30))
		}
		masterAllNew(t, s, 2, old, 30*time.Second)
		if !load.waitOK(20, 15*time.Second) {
			t.Errorf("requests stopped succeeding after the reload")
		}
		load.Stop()
		if _, fails, _ := load.counts(); len(fails) != 0 {
			t.Errorf("%d requests failed across the FIFO reload: %v", len(fails), fails)
		}
		if s.Exited(0) != -1 {
			t.Fatalf("the master exited on r")
		}
	})
	t.Run("q stops gracefully", func(t *testing.T) {
		t.Parallel()
		s, fifo := start(t)
		slow := masterFetchAsync(s.URL("/sleep?s=2"), 20*time.Second)
		if !s.WaitLog("master_app sleeping /sleep?s=2", 10*time.Second) {
			t.Fatalf("the slow request never started; output:\n%s", s.Log())
		}
		masterFIFOWrite(t, fifo, "q")
		r := <-slow
		if r.err != nil || r.code != 200 {
			t.Errorf("the request in flight at q should complete with 200, got %d %q %v", r.code, r.body, r.err)
		}
		if code := s.Exited(15 * time.Second); code != 0 {
			t.Fatalf("after q the master should exit with status 0, got %d (-1: still running); output:\n%s", code, s.Log())
		}
		if !strings.Contains(s.Log(), "master FIFO 'q': finishing requests in flight") {
			t.Errorf("the log should say q stops gracefully; output:\n%s", s.Log())
		}
	})
	t.Run("Q stops now", func(t *testing.T) {
		t.Parallel()
		s, fifo := start(t)
		workers := masterWorkers(t, s, 2)
		slow := masterFetchAsync(s.URL("/sleep?s=30"), 40*time.Second)
		if !s.WaitLog("master_app sleeping /sleep?s=30", 10*time.Second) {
			t.Fatalf("the slow request never started; output:\n%s", s.Log())
		}
		masterFIFOWrite(t, fifo, "Q")
		if code := s.Exited(10 * time.Second); code == -1 {
			t.Fatalf("the master still runs 10 s after Q, with a 30-second request in flight; output:\n%s", s.Log())
		}
		if alive := masterWaitGone(workers, time.Second); len(alive) != 0 {
			t.Errorf("workers %v outlived Q", alive)
		}
		if r := <-slow; r.err == nil && r.code == 200 {
			t.Errorf("the 30-second request completed although Q stops at once")
		}
	})
}

// --touch-reload FILE: giving the file a new modification time reloads the workers.
func TestMasterTouchReload(t *testing.T) {
	t.Parallel()
	file := filepath.Join(masterTempDir(t), "touch")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := Start(t, "--master", "--processes", "2", "--touch-reload", file, "--pypy-wsgi-file", masterApp())
	old := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	// Touched as soon as the instance is ready: uWSGI records the file's time when the
	// master starts, so any later change reloads.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(file, future, future); err != nil {
		t.Fatal(err)
	}
	if !s.WaitLog("master: --touch-reload "+file+": reloading the workers gracefully", 10*time.Second) {
		t.Fatalf("changing the mtime of %s did not reload within 10 s; output:\n%s", file, masterTail(s.Log(), 30))
	}
	masterAllNew(t, s, 2, old, 30*time.Second)
	load.Stop()
	if _, fails, _ := load.counts(); len(fails) != 0 {
		t.Errorf("%d requests failed across the touch reload: %v", len(fails), fails)
	}
}

// The same, with the file touched a second time later: each change reloads once.
func TestMasterTouchReloadTwice(t *testing.T) {
	t.Parallel()
	file := filepath.Join(masterTempDir(t), "touch")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := Start(t, "--master", "--processes", "1", "--touch-reload", file, "--pypy-wsgi-file", masterApp())
	// The master took the file's time as its baseline before it said ready, so no wait
	// is needed before the first change.
	old := masterWorkers(t, s, 1)
	for i := 1; i <= 2; i++ {
		at := time.Now().Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(file, at, at); err != nil {
			t.Fatal(err)
		}
		old = masterAllNew(t, s, 1, old, 15*time.Second)
		if n := strings.Count(s.Log(), "--touch-reload "+file+": reloading"); n != i {
			t.Fatalf("after %d change(s) of the file the master reloaded %d time(s); output:\n%s", i, n, s.Log())
		}
	}
}

// --max-requests 5: a worker that served at least 5 requests is replaced by a new
// process, and no request fails because of it.
func TestMasterMaxRequests(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--max-requests", "5", "--disable-logging", "--pypy-wsgi-file", masterApp())
	old := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	re := regexp.MustCompile(`master: worker \d \(pid \d+\) served (\d+) requests \(--max-requests 5\): replacing it`)
	m := masterWaitLogRE(s, re, 15*time.Second)
	if m == nil {
		t.Fatalf("no worker was replaced for --max-requests 5 within 15 s; output:\n%s", s.Log())
	}
	if n, _ := strconv.Atoi(m[1]); n < 5 {
		t.Errorf("a worker was replaced after %d requests, fewer than 5", n)
	}
	fresh := masterWaitReadyPid(t, s, old, 15*time.Second)
	masterWaitAnswer(t, s, fresh)
	if !load.waitOK(20, 15*time.Second) {
		t.Errorf("requests stopped succeeding; output:\n%s", masterTail(s.Log(), 30))
	}
	load.Stop()
	ok, fails, pids := load.counts()
	t.Logf("%d requests, pids that answered: %v", ok, pids)
	if len(fails) != 0 {
		t.Errorf("%d requests failed while workers were recycled, want 0: %v\noutput:\n%s", len(fails), fails, masterTail(s.Log(), 30))
	}
}

// --max-worker-lifetime 2: every worker is replaced after about 2 s, with nothing lost.
func TestMasterMaxWorkerLifetime(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--max-worker-lifetime", "2", "--disable-logging", "--pypy-wsgi-file", masterApp())
	old := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	if !s.WaitLog("(--max-worker-lifetime 2): replacing it", 10*time.Second) {
		t.Fatalf("no worker was replaced for --max-worker-lifetime 2 within 10 s; output:\n%s", s.Log())
	}
	masterAllNew(t, s, 2, old, 15*time.Second)
	if !load.waitOK(20, 15*time.Second) {
		t.Errorf("requests stopped succeeding; output:\n%s", masterTail(s.Log(), 30))
	}
	load.Stop()
	if _, fails, _ := load.counts(); len(fails) != 0 {
		t.Errorf("%d requests failed while workers were recycled, want 0: %v", len(fails), fails)
	}
}

// --reload-on-rss 1 (1 MB: every worker is over it): workers are replaced again and again
// (the log says why), but never so fast that requests fail: they keep succeeding.
func TestMasterReloadOnRSS(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--reload-on-rss", "1", "--disable-logging", "--pypy-wsgi-file", masterApp())
	load := masterStartLoad(t, s.URL("/pid"))
	re := regexp.MustCompile(`master: worker \d \(pid \d+\) uses \d+ MB of memory \(--reload-on-rss 1\): replacing it`)
	deadline := time.Now().Add(20 * time.Second)
	for len(re.FindAllString(s.Log(), -1)) < 4 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(re.FindAllString(s.Log(), -1)); n < 4 {
		t.Fatalf("expected at least 4 replacements for --reload-on-rss 1 within 20 s, got %d; output:\n%s", n, s.Log())
	}
	if !load.waitOK(50, 15*time.Second) {
		t.Errorf("requests stopped succeeding while workers were recycled; output:\n%s", masterTail(s.Log(), 30))
	}
	load.Stop()
	ok, fails, pids := load.counts()
	t.Logf("%d requests succeeded; %d pids answered", ok, len(pids))
	if len(fails) != 0 {
		t.Errorf("%d requests failed while workers were recycled, want 0: %v\noutput:\n%s", len(fails), fails, masterTail(s.Log(), 30))
	}
	if s.Exited(0) != -1 {
		t.Fatalf("the master exited")
	}
}
