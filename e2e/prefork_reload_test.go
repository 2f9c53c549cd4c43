package e2e

// Reloads under pre-fork: a new loader loads the code as it is on disk, the workers are
// replaced from it with no request failing; a chain reload replaces them one at a time.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// preforkCopyApp copies prefork_app.py into dir, as version; preforkSetVersion changes it.
// Versions of different lengths: PyPy's cached bytecode of a file rewritten within the same
// second with the same size would still be taken as current.
func preforkCopyApp(t *testing.T, dir, version string) string {
	t.Helper()
	app := filepath.Join(dir, "app.py")
	preforkSetVersion(t, app, version)
	return app
}

func preforkSetVersion(t *testing.T, app, version string) {
	t.Helper()
	b, err := os.ReadFile(testdata("prefork_app.py"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), `VERSION = "v1"`, fmt.Sprintf("VERSION = %q", version), 1)
	if err := os.WriteFile(app, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// preforkWaitVersion waits until n workers, none of them in old, all answer version.
func preforkWaitVersion(t *testing.T, s *Server, n int, old []int, version string) []int {
	t.Helper()
	workers := masterAllNew(t, s, n, old, 20*time.Second)
	for _, f := range preforkFirst(t, s, "/", workers) {
		if f.Version != version {
			t.Errorf("worker %d answers %s, want %s", f.PID, f.Version, version)
		}
	}
	return workers
}

// preforkNoFailures stops the load and fails the test if any request failed.
func preforkNoFailures(t *testing.T, s *Server, load *masterLoad) {
	t.Helper()
	load.Stop()
	ok, fails, _ := load.counts()
	t.Logf("%d requests, %d failed", ok, len(fails))
	if len(fails) != 0 || ok == 0 {
		t.Errorf("%d requests failed during the reloads, want 0 (and some succeeded: %d):\n%s\noutput:\n%s", len(fails), ok, strings.Join(fails, "\n"), masterTail(s.Log(), 60))
	}
}

// SIGHUP and --touch-reload load the code as it is on disk now, in a new loader, and
// replace every worker from it while requests keep coming: none fails.
func TestPreforkReloadLoadsNewCode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := preforkCopyApp(t, dir, "v1")
	touch := filepath.Join(dir, "touch")
	os.WriteFile(touch, nil, 0o644)
	s := Start(t, preforkArgs(dir, app, 2, "--touch-reload", touch)...)
	workers := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers; output:\n%s", s.Log())
	}

	preforkSetVersion(t, app, "v2-x")
	masterSignal(t, s, syscall.SIGHUP)
	workers = preforkWaitVersion(t, s, 2, workers, "v2-x")

	preforkSetVersion(t, app, "v3-touched")
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(touch, later, later); err != nil {
		t.Fatal(err)
	}
	preforkWaitVersion(t, s, 2, workers, "v3-touched")
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers after the reloads; output:\n%s", s.Log())
	}
	preforkNoFailures(t, s, load)
	if got := preforkNotes(dir, "imports"); len(got) != 3 {
		t.Errorf("want one import per loaded image (3); got %v", got)
	}
}

var preforkChainRE = regexp.MustCompile(`master: (?:worker (\d+) \(pid \d+\) is ready|stopping worker (\d+) \(pid \d+\): replaced)`)

// preforkChainOrder checks the log after from: each worker was stopped only once its
// replacement was ready, and the next replacement began only after that (ready 1,
// stopped 1, ready 2, stopped 2...).
func preforkChainOrder(t *testing.T, log string, n int) {
	t.Helper()
	var got, want []string
	for _, m := range preforkChainRE.FindAllStringSubmatch(log, -1) {
		if m[1] != "" {
			got = append(got, "ready "+m[1])
		} else {
			got = append(got, "stopped "+m[2])
		}
	}
	for id := 1; id <= n; id++ {
		want = append(want, "ready "+strconv.Itoa(id), "stopped "+strconv.Itoa(id))
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("the chain reload's order: got %v, want %v", got, want)
	}
}

// A chain reload (the master FIFO's c, --touch-chain-reload) replaces the workers one at
// a time, each only after its replacement serves, from a loader with the new code; no
// request fails.
func TestPreforkChainReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := preforkCopyApp(t, dir, "v1")
	fifo, touch := filepath.Join(dir, "fifo"), filepath.Join(dir, "chain")
	os.WriteFile(touch, nil, 0o644)
	s := Start(t, preforkArgs(dir, app, 3, "--master-fifo", fifo, "--touch-chain-reload", touch)...)
	workers := masterWorkers(t, s, 3)
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers; output:\n%s", s.Log())
	}

	preforkSetVersion(t, app, "v2-x")
	from := len(s.Log())
	if err := os.WriteFile(fifo, []byte("c"), 0); err != nil {
		t.Fatal(err)
	}
	workers = preforkWaitVersion(t, s, 3, workers, "v2-x")
	if !s.WaitLog("master: worker 3 (pid", 10*time.Second) {
		t.Fatal("no worker 3 line")
	}
	preforkChainOrder(t, s.Log()[from:], 3)

	preforkSetVersion(t, app, "v3-touched")
	from = len(s.Log())
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(touch, later, later); err != nil {
		t.Fatal(err)
	}
	preforkWaitVersion(t, s, 3, workers, "v3-touched")
	preforkChainOrder(t, s.Log()[from:], 3)
	preforkNoFailures(t, s, load)
}

// A loader killed once the workers run: they go on serving (no request fails), a new
// loader loads the app, and a worker that dies afterwards is forked from the new one.
func TestPreforkLoaderDies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Start(t, preforkArgs(dir, testdata("prefork_app.py"), 2)...)
	workers := masterWorkers(t, s, 2)
	first := preforkLoader(t, s)
	load := masterStartNewConnLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers; output:\n%s", s.Log())
	}
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !s.poll(20*time.Second, func() bool { return preforkLoader(t, s) != first }) {
		t.Fatalf("no new loader loaded the app after the first one was killed; output:\n%s", s.Log())
	}
	second := preforkLoader(t, s)
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers after the new loader; output:\n%s", s.Log())
	}
	if ok, fails, _ := load.counts(); len(fails) != 0 {
		t.Errorf("%d of %d requests failed while the loader was replaced, want none:\n%s", len(fails), ok+len(fails), strings.Join(fails, "\n"))
	}
	// Its in-flight request may fail: what counts now is what serves next.
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	fresh, ok := load.waitPid(workers, 20*time.Second)
	if !ok {
		t.Fatalf("no new worker answered after the kill; output:\n%s", s.Log())
	}
	if got := preforkNotes(dir, "imports"); strings.Join(got, " ") != fmt.Sprintf("%d %d", first, second) {
		t.Errorf("imports: want one in each loader (%d, %d), got %v", first, second, got)
	}
	if pp, _ := masterProcStat(fresh); pp != s.Cmd.Process.Pid {
		t.Errorf("the new worker %d's parent is %d, want the master", fresh, pp)
	}
}

// A reload whose new code cannot load keeps the workers there are: they go on serving the
// old code with no request failing, and the next reload with code that loads replaces them.
func TestPreforkReloadBrokenCode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := preforkCopyApp(t, dir, "v1")
	s := Start(t, preforkArgs(dir, app, 2)...)
	workers := masterWorkers(t, s, 2)
	load := masterStartNewConnLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers; output:\n%s", s.Log())
	}
	if err := os.WriteFile(app, []byte("def application(environ, start_response):\n    return [b'broken'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	masterSignal(t, s, syscall.SIGHUP)
	if !s.WaitLog("master: the reload failed, the workers there are go on serving", 20*time.Second) {
		t.Fatalf("the reload of broken code was not given up; output:\n%s", s.Log())
	}
	if !load.waitOK(20, 10*time.Second) {
		t.Fatalf("the load got no answers after the failed reload; output:\n%s", s.Log())
	}
	if now := masterWorkers(t, s, 2); now[0] != workers[0] || now[1] != workers[1] {
		t.Errorf("the workers changed from %v to %v", workers, now)
	}
	preforkSetVersion(t, app, "v2-fixed")
	masterSignal(t, s, syscall.SIGHUP)
	preforkWaitVersion(t, s, 2, workers, "v2-fixed")
	preforkNoFailures(t, s, load)
}
