package e2e

// Real uWSGI configurations (issue 16): ini files written the way Django and Flask
// projects and Docker images write them, run unchanged by the real binary.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cfgWrite writes a file (making its directory) and returns its path.
func cfgWrite(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cfgStart runs uwsgo with env added and waits until it is ready.
func cfgStart(t *testing.T, dir string, env []string, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	s := Launch(t, cmd)
	s.MustBeReady()
	return s
}

// cfgProject is a Django-style project: mysite/wsgi.py exposing "app" (not
// "application", so that only --callable can find it), answering with an environment
// variable and a name from a package that lives in a PyPy virtualenv.
func cfgProject(t *testing.T) (dir, venv string) {
	t.Helper()
	dir = t.TempDir()
	cfgWrite(t, filepath.Join(dir, "src", "mysite", "__init__.py"), "")
	cfgWrite(t, filepath.Join(dir, "src", "mysite", "wsgi.py"), `import os
import greet


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s %s" % (os.environ.get("GREETING"), greet.WORD, environ.get("PATH_INFO"))).encode()]
`)
	cfgWrite(t, filepath.Join(dir, "other.py"), `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the file, not the module"]
`)
	venv = filepath.Join(dir, "venv")
	if out, err := exec.Command("pypy3", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("pypy3 -m venv: %v\n%s", err, out)
	}
	site, err := filepath.Glob(filepath.Join(venv, "lib", "pypy*", "site-packages"))
	if err != nil || len(site) != 1 {
		t.Fatalf("no site-packages in the PyPy virtualenv: %v %v", site, err)
	}
	cfgWrite(t, filepath.Join(site[0], "greet.py"), "WORD = 'from-the-venv'\n")
	return dir, venv
}

// TestUWSGIConfigCPythonNames: a uWSGI ini using the CPython plugin's names (module,
// callable, pythonpath, home, env, plugins, wsgi-file next to module) serves the app.
func TestUWSGIConfigCPythonNames(t *testing.T) {
	t.Parallel()
	dir, venv := cfgProject(t)
	addr := freeAddr(t)
	ini := cfgWrite(t, filepath.Join(dir, "uwsgi.ini"), `[uwsgi]
# the app
plugins = python3
chdir = `+dir+`
pythonpath = %(chdir)/src
module = mysite.wsgi
callable = app
; left over from an older layout: uWSGI loads the module and says so
wsgi-file = other.py
home = `+venv+`
env = GREETING=hello
env = LANG=C.UTF-8

master = true
processes = 2
enable-threads = true
thunder-lock = true
http-socket = `+addr+`
`)
	s := cfgStart(t, dir, nil, "--ini", ini)
	s.Addr = addr
	resp, body := s.Get("/x")
	if resp.StatusCode != 200 || body != "hello from-the-venv /x" {
		t.Fatalf("GET /x = %d %q, want 200 \"hello from-the-venv /x\"\n%s", resp.StatusCode, body, s.Log())
	}
	log := s.Log()
	for _, want := range []string{
		"info: plugin python3: nothing to load",
		"warning: both a module (mysite.wsgi, " + ini + ":6) and a file (other.py) are given: the module is loaded",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "enable-threads") || strings.Contains(log, "thunder-lock") {
		t.Errorf("no-op options were warned about:\n%s", log)
	}
}

// TestUWSGIConfigCPythonVirtualenv: a CPython virtualenv is refused with the reason.
func TestUWSGIConfigCPythonVirtualenv(t *testing.T) {
	t.Parallel()
	dir, _ := cfgProject(t)
	cvenv := filepath.Join(dir, "cvenv")
	if out, err := exec.Command("python3", "-m", "venv", "--without-pip", cvenv).CombinedOutput(); err != nil {
		t.Skipf("python3 -m venv: %v\n%s", err, out)
	}
	code, out := RunToExit(t, 30*time.Second, nil, "--http-socket", freeAddr(t), "--chdir", dir,
		"--pythonpath", "src", "--module", "mysite.wsgi", "--callable", "app", "--virtualenv", cvenv)
	if code != 1 || !strings.Contains(out, "--virtualenv "+cvenv+" is a CPython virtualenv (lib/python3.") ||
		!strings.Contains(out, "cannot run on PyPy") {
		t.Fatalf("exit %d, want 1 naming the CPython virtualenv; output:\n%s", code, out)
	}
}
