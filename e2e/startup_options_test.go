package e2e

// Options through the real binary (command line, ini files, UWSGI_* variables, --help,
// --version), the start-up and request log, and --honour-stdin.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startupAppDir is a temporary directory holding a copy of startup_app.py as app.py, for
// ini files that name it with %d.
func startupAppDir(t *testing.T) (dir, app string) {
	t.Helper()
	dir = t.TempDir()
	app = startupWrite(t, filepath.Join(dir, "app.py"), startupRead(t, testdata("startup_app.py")))
	return dir, app
}

// TestStartupOptionSources: the same settings given as --key value, --key=value, an ini
// file's [uwsgi] or other section (with %d and %(name)) and UWSGI_* variables all serve.
func TestStartupOptionSources(t *testing.T) {
	t.Parallel()
	type run struct {
		env, args   []string
		file        string // the app file that must answer
		multithread bool   // --threads > 1 took effect
		sock        string // uwsgi.startup_sock the app must see ("" = not set)
	}
	cases := []struct {
		name string
		make func(t *testing.T, addr string) run
	}{
		{"--key value", func(t *testing.T, addr string) run {
			app := testdata("startup_app.py")
			return run{args: []string{"--http-socket", addr, "--pypy-wsgi-file", app, "--threads", "4"}, file: app, multithread: true}
		}},
		{"--key=value", func(t *testing.T, addr string) run {
			app := testdata("startup_app.py")
			return run{args: []string{"--http-socket=" + addr, "--pypy-wsgi-file=" + app, "--threads=4"}, file: app, multithread: true}
		}},
		{"--ini FILE with %d", func(t *testing.T, addr string) run {
			dir, app := startupAppDir(t)
			ini := startupWrite(t, filepath.Join(dir, "site.ini"), fmt.Sprintf(
				"[uwsgi]\nhttp-socket = %s\npypy-wsgi-file = %%dapp.py\nthreads = 3\n", addr))
			return run{args: []string{"--ini", ini}, file: app, multithread: true}
		}},
		{"--ini FILE:other", func(t *testing.T, addr string) run {
			dir, app := startupAppDir(t)
			ini := startupWrite(t, filepath.Join(dir, "site.ini"), fmt.Sprintf(
				"[uwsgi]\nhttp-socket = %s\npypy-wsgi-file = %%dwrong_section.py\nneed-app = true\n\n"+
					"[other]\nhttp-socket = %s\npypy-wsgi-file = %%dapp.py\nthreads = 2\n",
				freeAddr(t), addr))
			return run{args: []string{"--ini", ini + ":other"}, file: app, multithread: true}
		}},
		{"--ini with %(name)", func(t *testing.T, addr string) run {
			dir, app := startupAppDir(t)
			ini := startupWrite(t, filepath.Join(dir, "site.ini"), fmt.Sprintf(
				"[uwsgi]\nhttp-socket = %s\nstartup-appdir = %%d\npypy-wsgi-file = %%(startup-appdir)app.py\n"+
					"pypy-eval = import uwsgi; uwsgi.startup_sock = '%%(http-socket)'\n", addr))
			return run{args: []string{"--ini", ini}, file: app, sock: addr}
		}},
		{"UWSGI_HTTP_SOCKET", func(t *testing.T, addr string) run {
			app := testdata("startup_app.py")
			return run{env: []string{"UWSGI_HTTP_SOCKET=" + addr}, args: []string{"--pypy-wsgi-file", app}, file: app}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			r := c.make(t, addr)
			s := Run(t, append(r.args, "--need-app"), startupClean, Env(r.env...))
			s.Addr = addr
			info := startupGetInfo(t, s)
			if info.File != r.file {
				t.Errorf("served by %s, want %s", info.File, r.file)
			}
			if info.Multithread != r.multithread {
				t.Errorf("wsgi.multithread = %v, want %v", info.Multithread, r.multithread)
			}
			switch {
			case info.StartupSock != nil && *info.StartupSock != r.sock:
				t.Errorf("%%(http-socket) expanded to %q, want %q", *info.StartupSock, r.sock)
			case info.StartupSock == nil && r.sock != "":
				t.Errorf("uwsgi.startup_sock is not set: the ini's pypy-eval did not run")
			}
			if !strings.Contains(s.Log(), addr) {
				t.Errorf("the log does not name the socket %s:\n%s", addr, s.Log())
			}
		})
	}
}

// TestStartupUnknownOption: a misspelt option stops uwsgo with a suggestion.
func TestStartupUnknownOption(t *testing.T) {
	t.Parallel()
	code, out := Run(t, []string{"--http-sockt", freeAddr(t), "--pypy-wsgi-file", testdata("startup_app.py")}, NoWait()).ExitWithin(10 * time.Second)
	startupNoCrash(t, out)
	if code == 0 || !strings.Contains(out, "--http-sockt") || !strings.Contains(out, "--http-socket") {
		t.Fatalf("exit %d, want non-zero and a message naming --http-sockt and --http-socket; output:\n%s", code, out)
	}
}

// TestStartupVersion: --version prints uwsgo's version and exits 0; it is the version the
// app sees as uwsgi.version.
func TestStartupVersion(t *testing.T) {
	t.Parallel()
	code, out := Run(t, []string{"--version"}, NoWait()).ExitWithin(10 * time.Second)
	m := regexp.MustCompile(`^uwsgo v?(\d+\.\d+\.\d+\S*)\n?$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("--version: exit %d, output %q; want 0 and \"uwsgo X.Y.Z\"", code, out)
	}
	info := startupGetInfo(t, Run(t, []string{"--pypy-wsgi-file", testdata("startup_app.py")}, HTTP(), startupClean))
	if info.Version != m[1] {
		t.Errorf("uwsgi.version is %q, --version says %q", info.Version, m[1])
	}
}

// TestStartupHelp: --help lists the options in groups, sockets apart from PyPy's.
func TestStartupHelp(t *testing.T) {
	t.Parallel()
	code, out := Run(t, []string{"--help"}, NoWait()).ExitWithin(10 * time.Second)
	if code != 0 {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	group := map[string]string{} // option -> heading of its group
	heading := ""
	headings := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, ":") && line != "" && line[0] != ' ' {
			heading = line
			headings++
			continue
		}
		for _, o := range []string{"--http-socket", "--pypy-home", "--pypy-wsgi-file", "--threads"} {
			if strings.Contains(line, o+" ") && group[o] == "" {
				group[o] = heading
			}
		}
	}
	if headings < 3 {
		t.Errorf("--help has %d group headings, want the options grouped:\n%s", headings, out)
	}
	for _, o := range []string{"--http-socket", "--pypy-home", "--pypy-wsgi-file", "--threads"} {
		if group[o] == "" {
			t.Errorf("--help does not list %s under a group heading", o)
		}
	}
	if group["--http-socket"] == group["--pypy-home"] {
		t.Errorf("--http-socket and --pypy-home are in the same group %q", group["--pypy-home"])
	}
	if group["--pypy-home"] != group["--pypy-wsgi-file"] || !strings.Contains(group["--pypy-home"], "PyPy") {
		t.Errorf("--pypy-home is under %q and --pypy-wsgi-file under %q, want both under a PyPy heading", group["--pypy-home"], group["--pypy-wsgi-file"])
	}
	if t.Failed() {
		t.Logf("--help:\n%s", out)
	}
}

// startupPyPyVersion is "PyPy X.Y.Z" as the installed pypy3 reports it.
func startupPyPyVersion(t *testing.T) string {
	t.Helper()
	out, err := rooted(exec.Command("pypy3", "--version")).CombinedOutput()
	if err != nil {
		t.Fatalf("pypy3 --version: %v (Debian package pypy3)", err)
	}
	v := regexp.MustCompile(`PyPy \d+\.\d+\.\d+`).FindString(string(out))
	if v == "" {
		t.Fatalf("pypy3 --version says no PyPy version: %q", out)
	}
	return v
}

// startupLineWith is the first line of log containing every one of subs ("" if none).
func startupLineWith(log string, subs ...string) string {
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return l
		}
	}
	return ""
}

var (
	startupThreadsRe  = regexp.MustCompile(`\b4 threads\b|\bthreads\W{0,3}4\b`)
	startupBytesRe    = regexp.MustCompile(`\b(\d+) bytes\b`)
	startupDurationRe = regexp.MustCompile(`\b\d+(\.\d+)?\s?(ns|µs|us|ms|s)\b`)
)

// TestStartupLog: the start-up lines name PyPy's version, home and library, the app, the
// threads and the socket; each request gets a line with method, URI, status, bytes and
// duration; "dynamic mode" is never said when the app loaded.
func TestStartupLog(t *testing.T) {
	t.Parallel()
	pypyVersion := startupPyPyVersion(t)
	app := testdata("startup_app.py")
	for _, threads := range []string{"1", "4"} {
		t.Run("threads "+threads, func(t *testing.T) {
			t.Parallel()
			s := Run(t, []string{"--threads", threads, "--pypy-wsgi-file", app}, HTTP(), startupClean)
			// Two requests: each must get its own line.
			uri := "/startup-log?threads=" + threads
			other := "/startup-log-other?n=2"
			status, body := startupGetBody(t, s, uri)
			if status != 200 {
				t.Fatalf("GET %s: %d %q", uri, status, body)
			}
			if status, b := startupGetBody(t, s, other); status != 200 {
				t.Fatalf("GET %s: %d %q", other, status, b)
			}
			if !s.WaitLog(other, 10*time.Second) {
				t.Fatalf("no log line for GET %s:\n%s", other, s.Log())
			}
			s.Stop()
			log := s.Log()
			for _, u := range []string{uri, other} {
				if n := strings.Count(log, "GET "+u); n != 1 {
					t.Errorf("%d log lines for GET %s, want 1", n, u)
				}
			}

			if !strings.Contains(log, pypyVersion) {
				t.Errorf("the log does not say %q", pypyVersion)
			}
			line := startupPyPyLine(log)
			if !strings.Contains(line, startupDebianHome) || !startupNamesFile(line, startupDebianLib) {
				t.Errorf("no start-up line names the home %s and the library %s; got %q", startupDebianHome, startupDebianLib, line)
			}
			if startupLineWith(log, app) == "" {
				t.Errorf("no line names the app %s", app)
			}
			if startupLineWith(log, s.Addr) == "" {
				t.Errorf("no line names the socket %s", s.Addr)
			}
			if threads == "4" && !startupThreadsRe.MatchString(log) {
				t.Errorf("no line says the 4 threads (%s)", startupThreadsRe)
			}
			if strings.Contains(log, "dynamic mode") {
				t.Errorf("the log says \"dynamic mode\" although the app loaded")
			}

			req := startupLineWith(log, "GET", uri)
			switch {
			case !strings.Contains(req, " 200"):
				t.Errorf("request line %q lacks the status 200", req)
			case startupBytesRe.FindStringSubmatch(req) == nil:
				t.Errorf("request line %q lacks the bytes sent", req)
			case !startupDurationRe.MatchString(startupBytesRe.ReplaceAllString(req, "")):
				t.Errorf("request line %q lacks the duration", req)
			}
			if m := startupBytesRe.FindStringSubmatch(req); m != nil {
				var n int
				fmt.Sscan(m[1], &n)
				if n < len(body) {
					t.Errorf("request line says %d bytes, but the body alone was %d", n, len(body))
				}
			}
			if t.Failed() {
				t.Logf("server output:\n%s", log)
			}
		})
	}
}

// TestStartupDisableLogging: --disable-logging drops the request lines, not the start-up
// ones. The server is stopped before the log is read, so no line can still be on its way.
func TestStartupDisableLogging(t *testing.T) {
	t.Parallel()
	app := testdata("startup_app.py")
	s := Run(t, []string{"--disable-logging", "--pypy-wsgi-file", app}, HTTP(), startupClean)
	for i := 0; i < 3; i++ {
		if status, body := startupGetBody(t, s, fmt.Sprintf("/startup-nolog-%d", i)); status != 200 {
			t.Fatalf("GET: %d %q", status, body)
		}
	}
	s.Stop()
	log := s.Log()
	if strings.Contains(log, "/startup-nolog-") {
		t.Errorf("--disable-logging: the log has request lines")
	}
	for _, w := range []string{app, s.Addr, " ready ("} {
		if !strings.Contains(log, w) {
			t.Errorf("--disable-logging: the start-up lines lack %q", w)
		}
	}
	if startupPyPyLine(log) == "" {
		t.Errorf("--disable-logging: no start-up line names PyPy's home and library")
	}
	if t.Failed() {
		t.Logf("server output:\n%s", log)
	}
}

// TestStartupHonourStdin: the app's stdin is /dev/null unless --honour-stdin, which keeps
// the pipe the test gave.
func TestStartupHonourStdin(t *testing.T) {
	t.Parallel()
	for _, honour := range []bool{false, true} {
		t.Run(fmt.Sprintf("honour-stdin=%v", honour), func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			var st syscall.Stat_t
			if err := syscall.Fstat(int(r.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			args := []string{"--pypy-wsgi-file", testdata("startup_app.py")}
			want := "/dev/null"
			if honour {
				args = append(args, "--honour-stdin")
				want = fmt.Sprintf("pipe:[%d]", st.Ino)
			}
			info := startupGetInfo(t, Run(t, args, HTTP(), startupClean, Stdin(r)))
			if info.Stdin != want {
				t.Fatalf("the app's stdin is %q, want %q", info.Stdin, want)
			}
		})
	}
}
