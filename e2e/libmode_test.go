package e2e

// Library mode: libuwsgo.so loaded by a running pypy3 through bin/uwsgo-pypy, with no
// --pypy-home or --pypy-lib; a master whose workers (and reloads) run the launcher again;
// and the refusal to run inside CPython.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	libmodeOnce sync.Once
	libmodeLib  string
	libmodeErr  error
)

// libmodeLibrary builds libuwsgo.so once per run, beside the test binary (TestMain removes
// that directory).
// libmodeOrphanless: a test binary killed on its timeout must not leave a master (and
// its workers) behind.
var libmodeOrphanless = Setup(func(cmd *exec.Cmd, _ io.Writer) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
})

func libmodeLibrary(t *testing.T) string {
	t.Helper()
	libmodeOnce.Do(func() {
		libmodeLib = filepath.Join(filepath.Dir(binary), "libuwsgo.so")
		out, err := exec.Command("go", "build", "-buildmode=c-shared", "-o", libmodeLib, "uwsgo/cmd/libuwsgo").CombinedOutput()
		if err != nil {
			libmodeErr = fmt.Errorf("building libuwsgo.so: %v\n%s", err, out)
		}
	})
	if libmodeErr != nil {
		t.Fatal(libmodeErr)
	}
	return libmodeLib
}

// libmodeLauncher is the repository's bin/uwsgo-pypy.
func libmodeLauncher(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "bin", "uwsgo-pypy"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type libmodeReply struct {
	PID            int    `json:"pid"`
	Worker         int    `json:"worker"`
	Implementation string `json:"implementation"`
	Argv0          string `json:"argv0"`
	Signals        []int  `json:"signals"`
	Waited         bool   `json:"waited"`
}

// libmodeClient opens a connection per request: a kept-alive one would stay with the
// worker that accepted it, and the tests choose which worker accepts.
var libmodeClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func libmodeGet(t *testing.T, s *Server, path string) libmodeReply {
	t.Helper()
	resp, err := libmodeClient.Get(s.URL(path))
	if err != nil {
		t.Fatalf("GET %s: %v\nserver output:\n%s", path, err, s.Log())
	}
	defer resp.Body.Close()
	var r libmodeReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v\nserver output:\n%s", path, resp.Status, err, s.Log())
	}
	return r
}

var libmodeReady = regexp.MustCompile(`master: worker (\d+) \(pid (\d+)\) is ready`)

// libmodeWorkers maps worker id to pid for the ready lines in log after skip bytes.
func libmodeWorkers(log string, skip int) map[int]int {
	out := map[int]int{}
	for _, m := range libmodeReady.FindAllStringSubmatch(log[skip:], -1) {
		id, _ := strconv.Atoi(m[1])
		pid, _ := strconv.Atoi(m[2])
		out[id] = pid
	}
	return out
}

// libmodeWaitWorkers waits until the log after skip has n ready workers.
func libmodeWaitWorkers(t *testing.T, s *Server, skip, n int) map[int]int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if w := libmodeWorkers(s.Log(), skip); len(w) >= n {
			return w
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d workers did not become ready; output:\n%s", n, s.Log())
	return nil
}

// libmodeServedBy proves that the worker with pid serves on its own (see libmodeOnly).
func libmodeServedBy(t *testing.T, s *Server, workers map[int]int, pid int) libmodeReply {
	t.Helper()
	defer libmodeOnly(t, workers, pid)()
	return libmodeGet(t, s, "/")
}

// libmodeOnly stops every worker but pid (SIGSTOP: a stopped process cannot accept), so
// that the next new connection goes to pid; it returns what lets them go on.
func libmodeOnly(t *testing.T, workers map[int]int, pid int) (resume func()) {
	t.Helper()
	var stopped []int
	resume = func() {
		for _, p := range stopped {
			syscall.Kill(p, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	for _, other := range workers {
		if other != pid {
			syscall.Kill(other, syscall.SIGSTOP)
			stopped = append(stopped, other)
			libmodeWaitStopped(t, other)
		}
	}
	return resume
}

// libmodeWaitStopped waits until every thread of pid is stopped: kill(SIGSTOP) returns
// before they all are, and a thread still running could accept one more connection.
func libmodeWaitStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(stats) > 0
		for _, f := range stats {
			b, err := os.ReadFile(f)
			// The state follows the command name, which is in parentheses.
			if i := strings.LastIndexByte(string(b), ')'); err != nil || i < 0 || len(b) < i+3 || b[i+2] != 'T' {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d did not stop after SIGSTOP", pid)
}

// TestLibmodeMasterWorkersReload: pypy3 bin/uwsgo-pypy with a master and two workers, no
// --pypy-home or --pypy-lib. Every worker is the same PyPy running the launcher again,
// each serves, SIGHUP replaces both with new processes that serve, SIGTERM stops all.
func TestLibmodeMasterWorkersReload(t *testing.T) {
	t.Parallel()
	launcher := libmodeLauncher(t)
	addr := freeAddr(t)
	s := Run(t, []string{launcher, "--http-socket", addr, "--master", "--processes", "2", "--threads", "4",
		"--pypy-wsgi-file", testdata("libmode_app.py")}, Via("pypy3"), Env("UWSGO_LIB="+libmodeLibrary(t)), libmodeOrphanless, Within(30*time.Second))
	s.Addr = addr
	if !strings.Contains(s.Log(), "master: library mode: the workers run") {
		t.Fatalf("the master should say once that it runs in library mode; output:\n%s", s.Log())
	}
	workers := libmodeWaitWorkers(t, s, 0, 2)
	masterExe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(filepath.Base(masterExe), "pypy") {
		t.Fatalf("the master process runs %s, not PyPy", masterExe)
	}
	for id, pid := range workers {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			t.Fatal(err)
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if exe != masterExe || !strings.Contains(string(cmdline), launcher) {
			t.Fatalf("worker %d (pid %d) runs %s %q; want the master's PyPy (%s) running %s", id, pid, exe, cmdline, masterExe, launcher)
		}
		r := libmodeServedBy(t, s, workers, pid)
		if r.PID != pid || r.Worker != id || r.Implementation != "pypy" || r.Argv0 != launcher {
			t.Fatalf("with only worker %d (pid %d) accepting, the app answered %+v", id, pid, r)
		}
	}
	if n := strings.Count(s.Log(), "library mode: PyPy was already running this process"); n != 2 {
		t.Fatalf("each of the 2 workers should find PyPy already running (found %d times); output:\n%s", n, s.Log())
	}

	mark := len(s.Log())
	s.Cmd.Process.Signal(syscall.SIGHUP)
	fresh := libmodeWaitWorkers(t, s, mark, 2)
	for id, pid := range fresh {
		if pid == workers[id] {
			t.Fatalf("after SIGHUP worker %d is still pid %d", id, pid)
		}
	}
	for id, pid := range workers {
		if !s.WaitLog(fmt.Sprintf("master: worker %d (pid %d) exited with status 0", id, pid), 30*time.Second) {
			t.Fatalf("the old worker %d (pid %d) did not exit after the reload; output:\n%s", id, pid, s.Log())
		}
	}
	for id, pid := range fresh {
		if r := libmodeServedBy(t, s, fresh, pid); r.PID != pid || r.Worker != id {
			t.Fatalf("after the reload, with only worker %d (pid %d) accepting, the app answered %+v", id, pid, r)
		}
	}

	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM should stop library mode with status 0, got %d; output:\n%s", code, s.Log())
	}
	for _, pid := range fresh {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("worker pid %d outlived the master", pid)
		}
	}
}

// TestLibmodeSingleProcess: one process inside the launcher's PyPy runs Python on two
// threads at once (one request waits for an event the other sets), delivers the app's
// signal handler, and returns from uwsgi_init cleanly even when --pypy-eval rebinds the
// launcher's module globals (it runs in __main__, which is the launcher).
func TestLibmodeSingleProcess(t *testing.T) {
	t.Parallel()
	launcher := libmodeLauncher(t)
	addr := freeAddr(t)
	s := Run(t, []string{launcher, "--http-socket", addr, "--threads", "2",
		"--pypy-eval", "os = sys = ctypes = None", "--pypy-wsgi-file", testdata("libmode_app.py")}, Via("pypy3"), Env("UWSGO_LIB="+libmodeLibrary(t)), libmodeOrphanless, Within(30*time.Second))
	s.Addr = addr
	if !strings.Contains(s.Log(), "library mode: PyPy was already running this process") {
		t.Fatalf("uwsgo should have found PyPy in the process; output:\n%s", s.Log())
	}
	if r := libmodeGet(t, s, "/"); r.PID != s.Cmd.Process.Pid || r.Argv0 != launcher {
		t.Fatalf("the app should run in the launcher's own process (pid %d): %+v", s.Cmd.Process.Pid, r)
	}

	waited := make(chan libmodeReply, 1)
	go func() {
		resp, err := libmodeClient.Get(s.URL("/wait"))
		var r libmodeReply
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
		}
		waited <- r
	}()
	// /wait must be inside Python before /set runs, or /set proves nothing.
	if !s.WaitLog("libmode_app: waiting", 30*time.Second) {
		t.Fatalf("/wait never reached the app; output:\n%s", s.Log())
	}
	libmodeGet(t, s, "/set")
	if r := <-waited; !r.Waited {
		t.Fatalf("/wait never saw the event /set set: two requests could not run Python at once; output:\n%s", s.Log())
	}

	s.Cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(10 * time.Second)
	var r libmodeReply
	for time.Now().Before(deadline) {
		if r = libmodeGet(t, s, "/"); len(r.Signals) == 1 && r.Signals[0] == int(syscall.SIGUSR1) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(r.Signals) != 1 || r.Signals[0] != int(syscall.SIGUSR1) {
		t.Fatalf("the app's SIGUSR1 handler saw %v; output:\n%s", r.Signals, s.Log())
	}

	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM should end the launcher with status 0, got %d; output:\n%s", code, s.Log())
	}
}

// libmodeNoCrash fails if output shows a crash rather than an error message.
func libmodeNoCrash(t *testing.T, what, out string) {
	t.Helper()
	for _, crash := range []string{"panic:", "SIGSEGV", "fatal error:", "goroutine 1 [", "Segmentation fault", "core dumped"} {
		if strings.Contains(out, crash) {
			t.Fatalf("%s crashed (%q) instead of refusing; output:\n%s", what, crash, out)
		}
	}
}

// TestLibmodeCPythonRefused: libuwsgo.so loaded into CPython 3 says that CPython and PyPy
// cannot share a process and returns non-zero, through the launcher and through a bare
// ctypes call with uWSGI's calling convention, before binding any socket.
func TestLibmodeCPythonRefused(t *testing.T) {
	t.Parallel()
	const cpython = "/usr/bin/python3"
	if _, err := os.Stat(cpython); err != nil {
		t.Fatalf("%s is missing (Debian package python3): %v", cpython, err)
	}
	lib := libmodeLibrary(t)
	addr := freeAddr(t)
	app := testdata("libmode_app.py")
	seed := `import ctypes, sys
lib = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
args = [a.encode() for a in sys.argv[1:]]
argv = (ctypes.c_char_p * (len(args) + 1))(*args)
envs = (ctypes.c_char_p * 1)()
sys.exit(lib.uwsgi_init(len(args), argv, envs))
`
	runs := []struct {
		name string
		args []string
	}{
		{"bin/uwsgo-pypy under CPython", []string{libmodeLauncher(t), "--http-socket", addr, "--pypy-wsgi-file", app}},
		{"ctypes.CDLL in CPython", []string{"-c", seed, lib, "--http-socket", addr, "--pypy-wsgi-file", app}},
	}
	for _, r := range runs {
		code, out := Run(t, r.args, Via(cpython), Env("UWSGO_LIB="+lib), libmodeOrphanless, NoWait()).ExitWithin(60 * time.Second)
		if code == 0 || !strings.Contains(out, "CPython (libpython) is already loaded in this process") {
			t.Fatalf("%s: want the refusal to mix CPython and PyPy and a non-zero status, got %d; output:\n%s", r.name, code, out)
		}
		libmodeNoCrash(t, r.name, out)
		if strings.Contains(out, "HTTP on") {
			t.Fatalf("%s: refused only after binding the socket; output:\n%s", r.name, out)
		}
	}
}

// TestLibmodeRefusedOutsidePyPy: a C program that loads libuwsgo.so and calls uwsgi_init
// has no PyPy to serve from; uwsgo says so rather than loading one into it.
func TestLibmodeRefusedOutsidePyPy(t *testing.T) {
	t.Parallel()
	lib := libmodeLibrary(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "host.c")
	if err := os.WriteFile(src, []byte(`#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!h) { fprintf(stderr, "%s\n", dlerror()); return 100; }
	int (*init)(int, char **, char **) = (int (*)(int, char **, char **))dlsym(h, "uwsgi_init");
	char *envp[] = {0};
	return init(argc - 1, argv + 1, envp);
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(dir, "host")
	if out, err := exec.Command("gcc", "-o", host, src, "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("gcc (needed for cgo anyway): %v\n%s", err, out)
	}
	code, out := Run(t, []string{lib, "--http-socket", freeAddr(t), "--pypy-wsgi-file", testdata("libmode_app.py")}, Via(host), libmodeOrphanless, NoWait()).ExitWithin(60 * time.Second)
	if code == 0 || code == 100 || !strings.Contains(out, "this process has no PyPy") {
		t.Fatalf("want the refusal to serve outside PyPy and a non-zero status, got %d; output:\n%s", code, out)
	}
	libmodeNoCrash(t, "a C host", out)
}

// TestLibmodeBinaryPath: a script of one's own that loads libuwsgo.so (uWSGI's example, not
// the launcher) cannot tell uwsgo how to start workers, which says so and names
// --binary-path; with --binary-path naming the launcher, the workers run it and serve.
func TestLibmodeBinaryPath(t *testing.T) {
	t.Parallel()
	lib := libmodeLibrary(t)
	script := filepath.Join(t.TempDir(), "myuwsgi.py")
	if err := os.WriteFile(script, []byte(`import ctypes, os, sys
lib = ctypes.CDLL(os.environ["UWSGO_LIB"], mode=ctypes.RTLD_GLOBAL)
argv = (ctypes.c_char_p * (len(sys.argv) + 1))(*[a.encode() for a in sys.argv])
envs = (ctypes.c_char_p * 1)()
os._exit(lib.uwsgi_init(len(sys.argv), argv, envs))
`), 0o644); err != nil {
		t.Fatal(err)
	}
	app := testdata("libmode_app.py")
	code, out := Run(t, []string{script,
		"--http-socket", freeAddr(t), "--master", "--processes", "2", "--pypy-wsgi-file", app}, Via("pypy3"), Env("UWSGO_LIB="+lib), libmodeOrphanless, NoWait()).ExitWithin(60 * time.Second)
	if code == 0 || !strings.Contains(out, "--binary-path") {
		t.Fatalf("without the launcher or --binary-path the master should refuse and name --binary-path; status %d, output:\n%s", code, out)
	}
	libmodeNoCrash(t, "a master that cannot start workers", out)

	launcher := libmodeLauncher(t)
	addr := freeAddr(t)
	s := Run(t, []string{script, "--http-socket", addr, "--master", "--processes", "1",
		"--binary-path", launcher, "--pypy-wsgi-file", app}, Via("pypy3"), Env("UWSGO_LIB="+libmodeLibrary(t)), libmodeOrphanless, Within(30*time.Second))
	s.Addr = addr
	workers := libmodeWaitWorkers(t, s, 0, 1)
	r := libmodeGet(t, s, "/")
	if r.PID != workers[1] || r.Argv0 != launcher || r.Implementation != "pypy" {
		t.Fatalf("the worker should be --binary-path's launcher (pid %d) on PyPy: %+v", workers[1], r)
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM: status %d; output:\n%s", code, s.Log())
	}
}

// TestLibmodeLauncherWithoutLibrary: the launcher names where it looked.
func TestLibmodeLauncherWithoutLibrary(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "libuwsgo.so")
	code, out := Run(t, []string{libmodeLauncher(t), "--version"}, Via("pypy3"), Env("UWSGO_LIB="+missing), libmodeOrphanless, NoWait()).ExitWithin(60 * time.Second)
	if code == 0 || !strings.Contains(out, missing) || !strings.Contains(out, "make lib") {
		t.Fatalf("want a non-zero status naming %s and `make lib`; got %d:\n%s", missing, code, out)
	}
}
