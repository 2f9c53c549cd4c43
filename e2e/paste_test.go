package e2e

// Paste Deploy: --pypy-paste and --pypy-ini-paste load a Pyramid app (Debian's
// python3-pyramid) through PasteDeploy (python3-pastedeploy), with a filter pipeline and
// logging configured from the file, served by a master's workers.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type pasteReply struct {
	PID        int    `json:"pid"`
	Worker     int    `json:"worker"`
	Greeting   string `json:"greeting"`
	ConfigFile string `json:"config_file"`
	Name       string `json:"name"`
}

// pasteGet fetches path on a new connection and decodes the Pyramid view's answer.
func pasteGet(t *testing.T, s *Server, path string) (pasteReply, http.Header) {
	t.Helper()
	resp, err := libmodeClient.Get(s.URL(path))
	if err != nil {
		t.Fatalf("GET %s: %v\nserver output:\n%s", path, err, s.Log())
	}
	defer resp.Body.Close()
	var r pasteReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v\nserver output:\n%s", path, resp.Status, err, s.Log())
	}
	return r, resp.Header
}

// pasteIni writes an app's PasteDeploy file, with its [uwsgi] section, in a directory of
// its own beside a copy of the app's module.
func pasteIni(t *testing.T, addr string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(testdata("paste_pyramid.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "paste_pyramid.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "site.ini")
	text := `# A Pyramid app behind a filter, with uwsgo's options and logging in the same file.
[pipeline:main]
pipeline = tag pyramid

[filter:tag]
use = call:paste_pyramid:tag
header = X-Paste-Filter
value = tagged by %(here)s

[app:pyramid]
use = call:paste_pyramid:main
greeting = hello from %(here)s

[uwsgi]
http-socket = ` + addr + `
master = true
processes = 2
threads = 2
; the app's module sits beside this file
pypy-pp = %d
pidfile = %(here)s/%n.pid

[loggers]
keys = root, paste_pyramid

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = console

[logger_paste_pyramid]
level = INFO
handlers = console
qualname = paste_pyramid
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[formatter_plain]
format = PASTELOG %(levelname)s [%(name)s] %(message)s
`
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return ini
}

// TestPasteIniPastePyramidWorkers: --pypy-ini-paste alone. The [uwsgi] section gives the
// socket, the master and two workers, with %d, %n and %(here)s resolved; each worker
// configures logging from the file and loads the pipeline (filter, then Pyramid app), and
// each serves it.
func TestPasteIniPastePyramidWorkers(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	ini := pasteIni(t, addr)
	dir := filepath.Dir(ini)
	s := Run(t, append(frameworkCompat(), "--pypy-ini-paste", ini))
	s.Addr = addr

	workers := libmodeWaitWorkers(t, s, 0, 2)
	if n := strings.Count(s.Log(), "is ready: app config:"+ini); n != 2 {
		t.Fatalf("both workers should report the paste app config:%s (found %d); output:\n%s", ini, n, s.Log())
	}
	pid, err := os.ReadFile(filepath.Join(dir, "site.pid"))
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(s.Cmd.Process.Pid) {
		t.Fatalf("pidfile = %%(here)s/%%n.pid should be %s/site.pid holding the master's pid %d: %q, %v", dir, s.Cmd.Process.Pid, pid, err)
	}

	for id, wpid := range workers {
		resume := libmodeOnly(t, workers, wpid)
		name := fmt.Sprintf("w%d", id)
		r, hdr := pasteGet(t, s, "/hello/"+name)
		resume()
		want := pasteReply{PID: wpid, Worker: id, Greeting: "hello from " + dir, ConfigFile: ini, Name: name}
		if r != want {
			t.Fatalf("worker %d answered %+v, want %+v", id, r, want)
		}
		if got := hdr.Get("X-Paste-Filter"); got != "tagged by "+dir {
			t.Fatalf("the pipeline's filter did not run: X-Paste-Filter = %q", got)
		}
		// The view logs through the "paste_pyramid" logger the file configures.
		if line := fmt.Sprintf("PASTELOG INFO [paste_pyramid] hello from worker %d", id); !s.WaitLog(line, 10*time.Second) {
			t.Fatalf("no %q: logging was not configured from the file; output:\n%s", line, s.Log())
		}
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM: status %d; output:\n%s", code, s.Log())
	}
}

// TestPastePasteForms: --pypy-paste takes config:ABSOLUTE, a path relative to the working
// directory (after --chdir, as in uWSGI) and a bare path; a file without logging
// sections or [uwsgi] section is fine.
func TestPastePasteForms(t *testing.T) {
	t.Parallel()
	ini := testdata("paste_app.ini")
	for _, form := range []struct{ name, value string }{
		{"config:absolute", "config:" + ini},
		{"relative", "paste_app.ini"},
		{"config:relative", "config:paste_app.ini"},
		{"absolute", ini},
	} {
		t.Run(form.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, append(frameworkCompat(), "--chdir", filepath.Dir(ini), "--pypy-pp", filepath.Dir(ini), "--pypy-paste", form.value)...)
			if !strings.Contains(s.Log(), "app loaded: config:"+ini) {
				t.Fatalf("--pypy-paste %s should load config:%s; output:\n%s", form.value, ini, s.Log())
			}
			r, hdr := pasteGet(t, s, "/hello/there")
			if r.Greeting != "hello from "+filepath.Dir(ini) || r.ConfigFile != ini || r.Name != "there" || hdr.Get("X-Paste-Filter") != "" {
				t.Fatalf("answered %+v (filter header %q)", r, hdr.Get("X-Paste-Filter"))
			}
		})
	}
}

// TestPasteErrors: what cannot load says why, naming the file (and the line where there
// is one), and exits with --need-app's status.
func TestPasteErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := testdata("paste_app.ini")
	syntax := write("syntax.ini", "[app:main]\nuse = call:paste_pyramid:main\n\nthis line is not ini\n")
	header := write("header.ini", "use = call:paste_pyramid:main\n[app:main]\n")
	nomain := write("nomain.ini", "[app:other]\nuse = call:paste_pyramid:main\n")
	badopt := write("badopt.ini", "[app:main]\nuse = call:paste_pyramid:main\n[uwsgi]\nprocesses = 2\nthreads = lots\n")
	missing := filepath.Join(dir, "missing.ini")
	// What a PyPy without PasteDeploy sees: nothing from Debian's dist-packages.
	noPaste := "import sys; sys.path[:] = [p for p in sys.path if 'dist-packages' not in p]"

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"a line that is not ini", []string{"--pypy-paste", syntax}, 22, []string{syntax + ":4", "this line is not ini"}},
		{"no section header", []string{"--pypy-paste", "config:" + header}, 22, []string{header + ":1", "no section headers"}},
		{"no [app:main]", []string{"--pypy-paste", nomain}, 22, []string{nomain, "No section 'main'"}},
		{"no such file", []string{"--pypy-paste", missing}, 22, []string{missing, "no such file"}},
		{"PasteDeploy missing", []string{"--pypy-eval", noPaste, "--pypy-paste", good}, 22, []string{good, "needs PasteDeploy", "python3-pastedeploy"}},
		{"a bad option in [uwsgi]", []string{"--pypy-ini-paste", badopt}, 1, []string{badopt + ":5", "threads", "lots"}},
		{"two apps", []string{"--pypy-paste", good, "--pypy-wsgi", "paste_pyramid"}, 22, []string{"--pypy-paste", "not both"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--http-socket", freeAddr(t), "--need-app", "--pypy-pp", filepath.Dir(good)}, c.args...)
			code, out := Run(t, args, NoWait()).ExitWithin(60 * time.Second)
			if code != c.code {
				t.Fatalf("status %d, want %d; output:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			libmodeNoCrash(t, c.name, out)
		})
	}
}
