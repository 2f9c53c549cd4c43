package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// app is one of the WSGI apps in apps/, the same file for every Python server.
type app struct {
	Name      string
	File      string
	Path      string // the request's path
	Type      string // the Content-Type every server must answer
	Label     string
	Threads   int  // Python threads per worker
	BodyBytes int  // request body wrk sends (a POST when > 0)
	Scale     bool // also run with more than one worker
	// Expected names the file under apps/expected/ holding the answer's body; empty when
	// bare.go builds it.
	Expected string
	ASGI     bool // an ASGI app (asgi.go): its callable is app
	// Connections, when more than -connections, is what wrk opens for this app.
	Connections int
}

const (
	textPlain = "text/plain"
	textHTML  = "text/html; charset=utf-8"
	appJSON   = "application/json"
)

var apps = []app{
	{Name: "hello", File: "hello.py", Path: "/", Type: textPlain, Label: "hello world (a list)", Threads: 1, Scale: true},
	{Name: "gen", File: "gen.py", Path: "/", Type: textPlain, Label: "hello world from a generator of two chunks", Threads: 1},
	{Name: "write", File: "write.py", Path: "/", Type: textPlain, Label: "hello world through write()", Threads: 1},
	{Name: "mid", File: "mid.py", Path: "/", Type: textHTML, Label: "mid-weight page (100-row table + json.dumps of 50 entries)", Threads: 1, Scale: true},
	{Name: "big", File: "big.py", Path: "/", Type: "application/octet-stream", Label: "a 1 MiB response", Threads: 1},
	{Name: "post", File: "post.py", Path: "/", Type: textPlain, Label: "POST of 16 KiB, answering its length", Threads: 1, BodyBytes: 16 << 10, Scale: true},
	{Name: "sleep", File: "sleep.py", Path: "/", Type: textPlain, Label: "I/O-bound: sleeps 10 ms (8 threads per worker)", Threads: 8, Scale: true},
	{Name: "flask", File: "flaskapp.py", Path: "/", Type: textHTML, Label: "Flask: a Jinja2 template with a loop of 10 rows", Threads: 1, Scale: true, Expected: "flask"},
	{Name: "flask-json", File: "flaskapp.py", Path: "/json", Type: appJSON, Label: "Flask: jsonify of 20 entries", Threads: 1, Expected: "flask-json"},
	{Name: "django", File: "djangoapp.py", Path: "/", Type: textHTML, Label: "Django: a template with a loop of 10 rows, default middleware", Threads: 1, Scale: true, Expected: "django"},
	{Name: "django-orm", File: "djangoapp.py", Path: "/rows", Type: appJSON, Label: "Django: 20 rows through the ORM from SQLite, as JSON", Threads: 1, Expected: "django-orm"},
}

// frameworkApps are the apps whose targets compare uwsgo with uWSGI+PyPy.
var frameworkApps = []string{"flask", "flask-json", "django", "django-orm"}

func appNames() []string {
	var n []string
	for _, a := range apps {
		n = append(n, a.Name)
	}
	return n
}

func appByName(name string) app {
	for _, a := range apps {
		if a.Name == name {
			return a
		}
	}
	panic("unknown app " + name)
}

// server is one server under test: how to start it for an app and a number of workers.
type server struct {
	Name  string
	Label string
	PyPy  bool // JIT: warmed up for the whole -warmup
	// Python servers run on one core per worker at most (the GIL); Go ones use every core
	// they are given. Used to tell whether a run was limited by the load generator.
	GoRuntime bool
	// InRoot servers run inside the Debian trixie root (chroot), on its PyPy 3.11.
	InRoot bool
	// Python is the interpreter whose plain loop gives the app's own cost on this server
	// (a key of pythons; empty for the bare Go server).
	Python  string
	Command func(h *harness, a app, workers, port int) []string
	Env     []string // added to the server's environment
	Notes   string
	Runs    kinds // WSGI apps, ASGI apps or both (asgi.go)
}

// seedPluginArgv is the command line of uWSGI's PyPy plugin in the trixie root.
func seedPluginArgv(h *harness, a app, workers, port int) []string {
	argv := []string{"/usr/bin/uwsgi-core", "--plugin", "pypy3", "--pypy-home", "/usr/lib/pypy3.11",
		"--pypy-lib", "/usr/lib/x86_64-linux-gnu/libpypy3.11-c.so", "--need-app=false",
		"--http11-socket", addr(port), "--pypy-wsgi-file", h.rootAppFile(a)}
	return h.chroot(append(argv, uwsgiArgs(a, workers)...))
}

var servers = []server{
	{
		Name: "uwsgo", Label: "uwsgo (PyPy 3.9)", PyPy: true, GoRuntime: true, Python: "pypy3.9",
		Runs: runsWSGI | runsASGI,
		Command: func(h *harness, a app, workers, port int) []string {
			return uwsgoArgv(h.uwsgoBin, h.appFile(a), a, workers, port)
		},
		Notes: "Debian 12's PyPy 7.3.11 (Python 3.9) on the host; one process for 1 worker, `--master --processes N` for N workers",
	},
	{
		Name: "uwsgo-311", Label: "uwsgo (PyPy 3.11)", PyPy: true, GoRuntime: true, InRoot: true, Python: "pypy3.11",
		Runs: runsWSGI | runsASGI,
		Command: func(h *harness, a app, workers, port int) []string {
			return h.chroot(uwsgoArgv(h.stageIn("uwsgo"), h.rootAppFile(a), a, workers, port))
		},
		Notes: "the same binary, built on the host, run in the trixie root on Debian 13's PyPy 7.3.19 (Python 3.11); it needs no compiler there",
	},
	{
		Name: "uwsgi-pypy", Label: "uWSGI 2.0 + PyPy 3.11", PyPy: true, InRoot: true, Python: "pypy3.11",
		Command: seedPluginArgv,
		Notes: "the system uwsgo replaces: Debian 13's uwsgi-core 2.0.28 with uwsgi-plugin-pypy3, in the trixie root. " +
			"`--http11-socket` keeps connections alive (`--http-socket` closes every one) and `--tcp-nodelay` keeps a response " +
			"written in several pieces from waiting ~40 ms for the client's delayed ACK (without it a generator answered 20 req/s): " +
			"the best a uWSGI user can configure; " +
			"`--need-app=false` because the plugin reports no app loaded when it has one; " +
			"at every start its cffi setup compiles C, so the root needs gcc, libc6-dev and pypy3-dev",
	},
	{
		// The same, with the GC nursery uwsgo gives PyPy: how much of the difference is
		// that one setting (internal/pypy/nursery.go), and how much is the server.
		Name: "uwsgi-pypy-nursery", Label: "uWSGI 2.0 + PyPy 3.11, 4 MB nursery", PyPy: true, InRoot: true, Python: "pypy3.11",
		Command: seedPluginArgv,
		Env:     []string{"PYPY_GC_NURSERY=" + loopNursery},
		Notes: "uWSGI+PyPy as above with PYPY_GC_NURSERY=4MB, the nursery uwsgo gives PyPy unless told otherwise; " +
			"PyPy's own choice is half /proc/cpuinfo's cache size, which is 480 MB on this machine",
	},
	{
		Name: "go", Label: "bare Go net/http", GoRuntime: true,
		Command: func(h *harness, a app, workers, port int) []string {
			argv := []string{h.self, "-bare", addr(port), "-bare-app", a.Name}
			if a.Threads > 1 {
				argv = append(argv, "-bare-threads", strconv.Itoa(a.Threads*workers))
			}
			return argv
		},
		Notes: "one process whatever the worker count (GOMAXPROCS follows its CPUs); answers each app's expected bytes, and does not run for the framework apps (a static answer is no bound for a rendered page); the sleep app allows 8 × workers handlers at once",
	},
	{
		Name: "uwsgi", Label: "uWSGI 2.0 + CPython 3.11", Python: "cpython",
		Command: func(h *harness, a app, workers, port int) []string {
			argv := []string{"/usr/bin/uwsgi-core", "--plugin", "python3", "--http11-socket", addr(port),
				"--wsgi-file", h.appFile(a)}
			return append(argv, uwsgiArgs(a, workers)...)
		},
		Notes: "`--http11-socket` keeps connections alive, `--tcp-nodelay` as for uWSGI+PyPy; no master for 1 worker",
	},
	{
		Name: "gunicorn", Label: "gunicorn (CPython)", Python: "cpython",
		Command: func(h *harness, a app, workers, port int) []string {
			return gunicorn("/usr/bin/python3", h, a, workers, port)
		},
		Notes: "sync workers (one request at a time, no keep-alive); gthread workers with `--threads 8` for the sleep app",
	},
	{
		Name: "gunicorn-pypy", Label: "gunicorn (PyPy 3.9)", PyPy: true, Python: "pypy3.9",
		Command: func(h *harness, a app, workers, port int) []string {
			return gunicorn("/usr/bin/pypy3", h, a, workers, port)
		},
		Notes: "as gunicorn (CPython), run by `pypy3 -m gunicorn` on Debian's packages",
	},
}

func uwsgoArgv(bin, file string, a app, workers, port int) []string {
	load := "--pypy-wsgi-file"
	if a.ASGI {
		load = "--pypy-asgi-file"
	}
	argv := []string{bin, "--http-socket", addr(port), load, file, "--disable-logging"}
	if a.Threads > 1 {
		argv = append(argv, "--threads", strconv.Itoa(a.Threads))
	}
	if workers > 1 {
		argv = append(argv, "--master", "--processes", strconv.Itoa(workers))
	}
	return argv
}

// uwsgiArgs are the options both uWSGI servers get after their socket and app.
func uwsgiArgs(a app, workers int) []string {
	argv := []string{"--tcp-nodelay", "--disable-logging", "--die-on-term", "--ignore-sigpipe", "--ignore-write-errors", "--disable-write-exception"}
	if a.Threads > 1 {
		argv = append(argv, "--threads", strconv.Itoa(a.Threads))
	}
	if workers > 1 {
		argv = append(argv, "--master", "--processes", strconv.Itoa(workers))
	}
	return argv
}

func gunicorn(python string, h *harness, a app, workers, port int) []string {
	argv := []string{python, "-m", "gunicorn", "--bind", addr(port), "--workers", strconv.Itoa(workers),
		"--chdir", filepath.Dir(h.appFile(a))}
	if a.Threads > 1 {
		argv = append(argv, "--worker-class", "gthread", "--threads", strconv.Itoa(a.Threads))
	}
	return append(argv, strings.TrimSuffix(a.File, ".py")+":application")
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

func serverNames() []string {
	var n []string
	for _, s := range servers {
		n = append(n, s.Name)
	}
	return n
}

func serverByName(name string) server {
	for _, s := range servers {
		if s.Name == name {
			return s
		}
	}
	panic("unknown server " + name)
}

// cap is how many cores the server can keep busy on the CPUs it was given.
func (s server) cap(workers, cpus int) int {
	if s.GoRuntime || workers > cpus {
		return cpus
	}
	return workers
}
