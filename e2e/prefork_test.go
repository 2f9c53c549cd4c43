package e2e

// End-to-end tests of pre-fork (issue 15), uWSGI's process model and uwsgo's default with
// a master: one loader process loads PyPy and the app, the workers are forked from it and
// run only the post-fork steps; --lazy-apps keeps every worker loading for itself. The app
// (testdata/prefork_app.py) notes in files what ran in which process.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// preforkFacts is what prefork_app.py says about the process that served a request.
type preforkFacts struct {
	PID      int    `json:"pid"`
	PPID     int    `json:"ppid"`
	Version  string `json:"version"`
	Served   int    `json:"served"`
	WorkerID int    `json:"worker_id"`
	AtImport struct {
		PID       int    `json:"pid"`
		WorkerID  int    `json:"worker_id"`
		MasterPID int    `json:"masterpid"`
		CacheGet  string `json:"cache_get"`
	} `json:"at_import"`
	Cache string `json:"cache"`
	RPC   string `json:"rpc"`
}

// preforkArgs are the options of a pre-fork instance of n workers on app, noting into dir.
func preforkArgs(dir, app string, n int, extra ...string) []string {
	return append([]string{"--master", "--processes", strconv.Itoa(n), "--cache2", "name=c,items=10",
		"--pypy-eval", fmt.Sprintf("import builtins; builtins.PREFORK_DIR = %q", dir),
		"--pypy-wsgi-file", app}, extra...)
}

// preforkFirst asks path on new connections until each of pids answered, and returns each
// one's first answer.
func preforkFirst(t *testing.T, s *Server, path string, pids []int) map[int]preforkFacts {
	t.Helper()
	client := masterNewClient()
	got := map[int]preforkFacts{}
	for i := 0; i < 300 && len(got) < len(pids); i++ {
		code, body, err := masterFetch(client, s.URL(path))
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %q %v", path, code, body, err)
		}
		var f preforkFacts
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Fatalf("GET %s: %v in %q", path, err, body)
		}
		if _, seen := got[f.PID]; !seen {
			got[f.PID] = f
		}
	}
	for _, p := range pids {
		if _, ok := got[p]; !ok {
			t.Fatalf("worker %d answered none of 300 requests on new connections (got %v)", p, got)
		}
	}
	return got
}

// preforkNotes are the lines of the app's note file name ("imports", "hooks"...).
func preforkNotes(dir, name string) []string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
}

// preforkLoader is the pid of the master's loader process.
func preforkLoader(t *testing.T, s *Server) int {
	t.Helper()
	m := regexp.MustCompile(`master: loader \(pid (\d+)\) has loaded`).FindAllStringSubmatch(s.Log(), -1)
	if m == nil {
		t.Fatalf("no loader has loaded the app; output:\n%s", s.Log())
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	return pid
}

// The default with a master: --pypy-eval and the app's import run once, in the loader;
// the three workers are forked from it and each runs --pypy-eval-post-fork and
// uwsgi.post_fork_hook, with its own worker id; before the fork uwsgi.worker_id() is 0
// and uwsgi.masterpid() the master's pid. The workers are the master's children.
func TestPreforkLoadsOnceForksWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	note := func(file string) string {
		return fmt.Sprintf("with open(%q, 'a') as f: f.write('%%d\\n' %% __import__('os').getpid())", filepath.Join(dir, file))
	}
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 3,
		"--pypy-eval", note("evals"), "--pypy-eval-post-fork", note("post-fork-evals"))...)
	workers := masterWorkers(t, s, 3)
	loader := preforkLoader(t, s)
	master := s.Cmd.Process.Pid
	if pp, _ := masterProcStat(loader); pp != master || masterIn(loader, workers) {
		t.Errorf("the loader (pid %d) should be the master's child apart from the workers %v (its parent: %d)", loader, workers, pp)
	}
	for _, name := range []string{"evals", "imports"} {
		if got := preforkNotes(dir, name); !slices.Equal(got, []string{strconv.Itoa(loader)}) {
			t.Errorf("%s: want one, in the loader (pid %d); got %v", name, loader, got)
		}
	}
	var postFork, hooks []string
	for _, w := range workers {
		postFork = append(postFork, strconv.Itoa(w))
	}
	for _, f := range preforkFirst(t, s, "/", workers) {
		if f.AtImport.PID != loader || f.AtImport.WorkerID != 0 || f.AtImport.MasterPID != master {
			t.Errorf("worker %d: at import pid %d, worker_id %d, masterpid %d; want the loader %d, 0, the master %d",
				f.PID, f.AtImport.PID, f.AtImport.WorkerID, f.AtImport.MasterPID, loader, master)
		}
		if f.PPID != master || f.WorkerID < 1 || f.WorkerID > 3 || f.Served != 1 {
			t.Errorf("worker %d: parent %d, worker_id %d, first request numbered %d; want the master %d, 1 to 3, 1", f.PID, f.PPID, f.WorkerID, f.Served, master)
		}
		hooks = append(hooks, fmt.Sprintf("%d_%d", f.PID, f.WorkerID))
	}
	for name, want := range map[string][]string{"post-fork-evals": postFork, "hooks": hooks} {
		got := preforkNotes(dir, name)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: want one per worker %v; got %v", name, want, got)
		}
	}
}

// A worker killed with SIGKILL is forked again from the loaded image: the app is not
// imported again, the replacement runs the post-fork hook and serves.
func TestPreforkRespawnWithoutImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 2)...)
	workers := masterWorkers(t, s, 2)
	preforkFirst(t, s, "/", workers)
	client := masterNewClient()
	client.Timeout = time.Second
	killed := time.Now()
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	fresh := 0
	for fresh == 0 && time.Since(killed) < 20*time.Second {
		if code, body, err := masterFetch(client, s.URL("/pid")); err == nil && code == 200 {
			if pid, _ := strconv.Atoi(body); pid != workers[1] && pid != workers[0] {
				fresh = pid
			}
		}
	}
	took := time.Since(killed)
	if fresh == 0 {
		t.Fatalf("no new worker answered within 20 s of the kill; output:\n%s", s.Log())
	}
	t.Logf("a new worker (pid %d) answered %v after the kill", fresh, took.Round(100*time.Microsecond))
	if got := preforkNotes(dir, "imports"); len(got) != 1 {
		t.Errorf("the app was imported %d times, want once: %v", len(got), got)
	}
	if hooks := preforkNotes(dir, "hooks"); len(hooks) != 3 || !strings.HasPrefix(hooks[2], strconv.Itoa(fresh)+"_") {
		t.Errorf("the post-fork hook should have run in the new worker %d too: %v", fresh, hooks)
	}
	if pp, _ := masterProcStat(fresh); pp != s.Cmd.Process.Pid {
		t.Errorf("the new worker's parent is %d, want the master %d", pp, s.Cmd.Process.Pid)
	}
}

// --lazy-apps (uWSGI's name) keeps the model where every worker loads PyPy and the app
// itself: no loader, one import per worker, each with its own worker id at import.
func TestPreforkLazyApps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 2, "--lazy-apps")...)
	workers := masterWorkers(t, s, 2)
	for _, f := range preforkFirst(t, s, "/", workers) {
		if f.AtImport.PID != f.PID || f.AtImport.WorkerID != f.WorkerID {
			t.Errorf("worker %d (id %d) should have imported the app itself; at import: pid %d, worker id %d", f.PID, f.WorkerID, f.AtImport.PID, f.AtImport.WorkerID)
		}
	}
	if got := preforkNotes(dir, "imports"); len(got) != 2 {
		t.Errorf("want one import per worker; got %v", got)
	}
	if strings.Contains(s.Log(), "loader") {
		t.Errorf("--lazy-apps started a loader:\n%s", s.Log())
	}
}

// Under pre-fork the master is a child subreaper (so forked workers are its children);
// the subprocesses a dead worker leaves behind become its children too, and it reaps
// them as init would have.
func TestPreforkReapsOrphans(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 1)...)
	workers := masterWorkers(t, s, 1)
	code, body, err := masterFetch(masterNewClient(), s.URL("/spawn"))
	child, _ := strconv.Atoi(body)
	if err != nil || code != 200 || child == 0 {
		t.Fatalf("GET /spawn: %d %q %v", code, body, err)
	}
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ppid, state := masterProcStat(child)
		if state == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orphaned subprocess %d is still there 10 s after its worker died (state %s, parent %d; the master is %d)", child, state, ppid, s.Cmd.Process.Pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
