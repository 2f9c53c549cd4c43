package main

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// app is one of the WSGI apps in apps/, the same file for every Python server.
type app struct {
	Name      string
	File      string
	Label     string
	Threads   int // Python threads per worker
	BodyBytes int // request body wrk sends (a POST when > 0)
}

var apps = []app{
	{Name: "hello", File: "hello.py", Label: "hello world", Threads: 1},
	{Name: "mid", File: "mid.py", Label: "mid-weight page (100-row table + json.dumps of 50 entries)", Threads: 1},
	{Name: "post", File: "post.py", Label: "POST of 16 KiB, answering its length", Threads: 1, BodyBytes: 16 << 10},
	{Name: "sleep", File: "sleep.py", Label: "I/O-bound: sleeps 10 ms (8 threads per worker)", Threads: 8},
}

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
	Command   func(h *harness, a app, workers, port int) []string
	Notes     string
}

var servers = []server{
	{
		Name: "uwsgo", Label: "uwsgo (PyPy)", PyPy: true, GoRuntime: true,
		Command: func(h *harness, a app, workers, port int) []string {
			argv := []string{h.uwsgoBin, "--http-socket", addr(port), "--pypy-wsgi-file", h.appFile(a), "--disable-logging"}
			if a.Threads > 1 {
				argv = append(argv, "--threads", strconv.Itoa(a.Threads))
			}
			if workers > 1 {
				argv = append(argv, "--master", "--processes", strconv.Itoa(workers))
			}
			return argv
		},
		Notes: "one process for 1 worker; `--master --processes N` for N workers",
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
		Notes: "one process whatever the worker count (GOMAXPROCS follows its CPUs); the sleep app allows 8 × workers handlers at once",
	},
	{
		Name: "uwsgi", Label: "uWSGI 2.0 + CPython 3.11",
		Command: func(h *harness, a app, workers, port int) []string {
			argv := []string{"/usr/bin/uwsgi-core", "--plugin", "python3", "--http11-socket", addr(port),
				"--wsgi-file", h.appFile(a), "--disable-logging", "--die-on-term",
				"--ignore-sigpipe", "--ignore-write-errors", "--disable-write-exception"}
			if a.Threads > 1 {
				argv = append(argv, "--threads", strconv.Itoa(a.Threads))
			}
			if workers > 1 {
				argv = append(argv, "--master", "--processes", strconv.Itoa(workers))
			}
			return argv
		},
		Notes: "`--http11-socket` keeps connections alive; no master for 1 worker",
	},
	{
		Name: "gunicorn", Label: "gunicorn (CPython)",
		Command: func(h *harness, a app, workers, port int) []string {
			return gunicorn("/usr/bin/python3", h, a, workers, port)
		},
		Notes: "sync workers (one request at a time, no keep-alive); gthread workers with `--threads 8` for the sleep app",
	},
	{
		Name: "gunicorn-pypy", Label: "gunicorn (PyPy)", PyPy: true,
		Command: func(h *harness, a app, workers, port int) []string {
			return gunicorn("/usr/bin/pypy3", h, a, workers, port)
		},
		Notes: "as gunicorn (CPython), run by `pypy3 -m gunicorn` on Debian's packages",
	},
}

func gunicorn(python string, h *harness, a app, workers, port int) []string {
	argv := []string{python, "-m", "gunicorn", "--bind", addr(port), "--workers", strconv.Itoa(workers),
		"--chdir", filepath.Dir(h.appFile(a))}
	if a.Threads > 1 {
		argv = append(argv, "--worker-class", "gthread", "--threads", strconv.Itoa(a.Threads))
	}
	return append(argv, a.Name+":application")
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
