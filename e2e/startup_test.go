package e2e

// Start-up: loading apps from files and modules, the Python path, finding PyPy, the setup
// module, and --pypy-eval/--pypy-exec with their post-fork forms. Failures are in
// startup_fail_test.go, options, the log and stdin in startup_options_test.go.

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Debian's PyPy under test, as uwsgo sees it: bookworm's 3.9 on the host, trixie's 3.11 in
// the root. The test reads their files at inRoot(path).
var startupPyVersion, startupDebianLib, startupDebianHome = startupDebianPyPy()

func startupDebianPyPy() (version, lib, home string) {
	version = "3.9"
	homes, _ := filepath.Glob(inRoot("/usr/lib/pypy3.*/os.py"))
	if len(homes) == 1 {
		version = strings.TrimPrefix(filepath.Base(filepath.Dir(homes[0])), "pypy")
	}
	return version, "/usr/lib/x86_64-linux-gnu/libpypy" + version + "-c.so", "/usr/lib/pypy" + version
}

// startupClean keeps what the shell running the tests has (PYPY_HOME, UWSGI_*) from
// changing what uwsgo finds.
var startupClean = Unset("PYPY_HOME", "UWSGI_*")

// startupNoCrash fails the test if out looks like a Go or C crash rather than a message.
func startupNoCrash(t *testing.T, out string) {
	t.Helper()
	for _, m := range []string{"goroutine ", "panic:", "SIGSEGV", "fatal error"} {
		if strings.Contains(out, m) {
			t.Errorf("output contains %q (a crash, not a message):\n%s", m, out)
		}
	}
}

// startupInfo is what testdata/startup_app.py reports.
type startupInfo struct {
	App         string   `json:"app"`
	File        string   `json:"file"`
	Module      string   `json:"module"`
	Order       []string `json:"order"`
	CustomSetup *bool    `json:"custom_setup"`
	Stdin       string   `json:"stdin"`
	SysPath     []string `json:"sys_path"`
	Cwd         string   `json:"cwd"`
	CC          *string  `json:"cc"`
	Multithread bool     `json:"multithread"`
	Version     string   `json:"version"`
	StartupSock *string  `json:"startup_sock"`
}

func startupGetInfo(t *testing.T, s *Server) startupInfo {
	t.Helper()
	resp, body := s.Get("/info")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /info: status %d, body %q\nserver output:\n%s", resp.StatusCode, body, s.Log())
	}
	var info startupInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("GET /info: %v in %q", err, body)
	}
	if info.App != "startup_app" {
		t.Fatalf("GET /info was not answered by startup_app.py: %q", body)
	}
	return info
}

// startupPyPyLine is the start-up line that names PyPy's home and library ("" if none).
func startupPyPyLine(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "home") && strings.Contains(l, "librar") && strings.Contains(l, "/") {
			return l
		}
	}
	return ""
}

// startupNamesFile reports whether some absolute path in line is the same file as want
// (following symlinks), so that /lib/... and /usr/lib/... spellings both count.
func startupNamesFile(line, want string) bool {
	wst, err := rootStat(want)
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(line) {
		f = strings.Trim(f, "();,:'\"")
		if !strings.HasPrefix(f, "/") {
			continue
		}
		if st, err := rootStat(f); err == nil && os.SameFile(st, wst) {
			return true
		}
	}
	return false
}

// startupSymlink makes dir/name point at target.
func startupSymlink(t *testing.T, target, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// startupPyPyOnlyPath is a directory holding only a symlink named pypy3 to the system's pypy3.
func startupPyPyOnlyPath(t *testing.T) string {
	t.Helper()
	exe, err := exec.LookPath("pypy3")
	if err != nil {
		t.Fatalf("no pypy3 on PATH (Debian package pypy3): %v", err)
	}
	bin := t.TempDir()
	startupSymlink(t, exe, bin, "pypy3")
	return bin
}

func startupRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func startupWrite(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startupGetBody(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.URL(path))
	if err != nil {
		t.Fatalf("GET %s: %v\nserver output:\n%s", path, err, s.Log())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ---------------------------------------------------------------- 1. loading apps

// TestStartupLoadsApps: a mod_wsgi-style file (.py or .wsgi) serves its `application`;
// --pypy-wsgi MODULE[:CALLABLE] imports from --pypy-pp or from the current directory.
func TestStartupLoadsApps(t *testing.T) {
	t.Parallel()
	pkg := testdata("startup_pkg")
	cases := []struct {
		name string
		dir  string
		args []string
		want string
	}{
		{"wsgi-file .py", "", []string{"--pypy-wsgi-file", testdata("startup_app.py")}, `"app": "startup_app"`},
		{"wsgi-file .wsgi", "", []string{"--pypy-wsgi-file", testdata("startup_app.wsgi")}, "served by startup_app.wsgi"},
		{"wsgi-file relative to the working directory", testdata(""), []string{"--pypy-wsgi-file", "startup_app.wsgi"}, "served by startup_app.wsgi"},
		{"module via --pypy-pp", "", []string{"--pypy-pp", pkg, "--pypy-wsgi", "startup_mod"}, "startup_mod:application"},
		{"module:callable via --pypy-pp", "", []string{"--pypy-pp", pkg, "--pypy-wsgi", "startup_mod:other"}, "startup_mod:other"},
		{"module from the current directory", pkg, []string{"--pypy-wsgi", "startup_mod"}, "startup_mod:application"},
		{"module:callable from the current directory", pkg, []string{"--pypy-wsgi", "startup_mod:other"}, "startup_mod:other"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := Run(t, append([]string{"--need-app"}, c.args...), HTTP(), startupClean, Dir(c.dir))
			status, body := startupGetBody(t, s, "/")
			if status != 200 || !strings.Contains(body, c.want) {
				t.Fatalf("GET /: got %d %q, want 200 with %q\nserver output:\n%s", status, body, c.want, s.Log())
			}
		})
	}
}

// TestStartupModuleNeedsPath is the control for the current-directory cases above: from
// another directory, without --pypy-pp, startup_mod is not importable.
func TestStartupModuleNeedsPath(t *testing.T) {
	t.Parallel()
	code, out := Run(t, []string{"--http-socket", freeAddr(t), "--need-app", "--pypy-wsgi", "startup_mod"}, startupClean, NoWait()).ExitWithin(10 * time.Second)
	startupNoCrash(t, out)
	if code != 22 || !strings.Contains(out, "No module named 'startup_mod'") {
		t.Fatalf("exit %d, want 22 with \"No module named 'startup_mod'\"; output:\n%s", code, out)
	}
}

// TestStartupPythonPathOrder: the three spellings of --pypy-pp all add to sys.path, earlier
// ones first, so a module in two of the directories comes from the first one given.
func TestStartupPythonPathOrder(t *testing.T) {
	t.Parallel()
	a, b, c := testdata("startup_pp_a"), testdata("startup_pp_b"), testdata("startup_pp_c")
	cases := []struct {
		name      string
		args      []string
		wantWhere string
		order     []string // directories in the order they must appear on sys.path
	}{
		{"a b c", []string{"--pypy-pp", a, "--pypy-python-path", b, "--pypy-pythonpath", c}, "a", []string{a, b, c}},
		{"b a c", []string{"--pypy-pythonpath", b, "--pypy-pp", a, "--pypy-python-path", c}, "b", []string{b, a, c}},
		{"c b a, with =", []string{"--pypy-python-path=" + c, "--pypy-pythonpath=" + b, "--pypy-pp=" + a}, "b", []string{c, b, a}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := Run(t, append(tc.args, "--need-app", "--pypy-wsgi", "startup_dup"), HTTP(), startupClean)
			resp, body := s.Get("/")
			var got struct {
				Where   string   `json:"where"`
				OnlyC   string   `json:"onlyc"`
				SysPath []string `json:"sys_path"`
			}
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
				t.Fatalf("GET /: %d %q", resp.StatusCode, body)
			}
			if got.Where != tc.wantWhere {
				t.Errorf("startup_dup imported from startup_pp_%s, want startup_pp_%s; sys.path %q", got.Where, tc.wantWhere, got.SysPath)
			}
			if want := filepath.Join(c, "startup_onlyc.py"); got.OnlyC != want {
				t.Errorf("startup_onlyc from %q, want %q", got.OnlyC, want)
			}
			last := -1
			for _, dir := range tc.order {
				i := slices.Index(got.SysPath, dir)
				if i < 0 || i < last {
					t.Fatalf("sys.path %q: want %q in this order", got.SysPath, tc.order)
				}
				last = i
			}
		})
	}
}

// ---------------------------------------------------------------- 2. finding PyPy

// TestStartupFindsPyPy: without --pypy-home uwsgo finds PyPy from $PYPY_HOME, else the
// pypy3 on PATH, else the library the dynamic linker finds; --pypy-lib takes a file or a
// directory; a home and a library from different places work together. The start-up log
// names the home, where it came from, and the library.
func TestStartupFindsPyPy(t *testing.T) {
	t.Parallel()
	for _, f := range []string{startupDebianLib, filepath.Join(startupDebianHome, "os.py")} {
		if _, err := os.Stat(inRoot(f)); err != nil {
			t.Fatalf("Debian's PyPy is not installed (apt-get install pypy3 libpypy3-dev?): %v", err)
		}
	}
	type setup struct {
		env      []string
		args     []string
		home     string   // the home the log must name
		source   []string // what the log's line must also say about where the home came from
		notInLog []string
		lib      string // a file the log's library must be (same inode)
		copied   bool   // lib is a copy: the log must not name the system's library
	}
	cases := []struct {
		name string
		make func(t *testing.T) setup
	}{
		{"$PYPY_HOME", func(t *testing.T) setup {
			home := startupSymlink(t, startupDebianHome, t.TempDir(), "my-pypy-home")
			return setup{env: []string{"PYPY_HOME=" + home}, home: home, source: []string{"PYPY_HOME"}, lib: startupDebianLib}
		}},
		{"pypy3 on PATH", func(t *testing.T) setup {
			bin := startupPyPyOnlyPath(t)
			return setup{env: []string{"PATH=" + bin}, home: startupDebianHome,
				source: []string{filepath.Join(bin, "pypy3")}, notInLog: []string{"PYPY_HOME"}, lib: startupDebianLib}
		}},
		{"dynamic linker, nothing on PATH", func(t *testing.T) setup {
			return setup{env: []string{"PATH=" + t.TempDir()}, home: startupDebianHome,
				notInLog: []string{"PYPY_HOME", "PATH", "--pypy-home"}, lib: startupDebianLib}
		}},
		{"--pypy-lib FILE", func(t *testing.T) setup {
			return setup{args: []string{"--pypy-lib", startupDebianLib}, home: startupDebianHome,
				source: []string{startupDebianLib}, lib: startupDebianLib}
		}},
		{"--pypy-lib DIR", func(t *testing.T) setup {
			dir := t.TempDir()
			link := startupSymlink(t, startupDebianLib, dir, "libpypy"+startupPyVersion+"-c.so")
			return setup{args: []string{"--pypy-lib", dir}, home: startupDebianHome, source: []string{link}, lib: link}
		}},
		{"--pypy-home with a --pypy-lib from another build", func(t *testing.T) setup {
			other := filepath.Join(t.TempDir(), "libpypy-other-build.so")
			masterCopyFile(t, inRoot(startupDebianLib), other, 0o644)
			return setup{args: []string{"--pypy-home", startupDebianHome, "--pypy-lib", other}, home: startupDebianHome,
				source: []string{"--pypy-home", other}, lib: other, copied: true}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := c.make(t)
			s := Run(t, append(st.args, "--need-app", "--pypy-wsgi-file", testdata("startup_app.py")), HTTP(), startupClean, Env(st.env...))
			startupGetInfo(t, s)
			line := startupPyPyLine(s.Log())
			if line == "" {
				t.Fatalf("no start-up line names PyPy's home and library:\n%s", s.Log())
			}
			if !strings.Contains(line, st.home) {
				t.Errorf("start-up line does not name the home %s: %q", st.home, line)
			}
			for _, w := range st.source {
				if !strings.Contains(line, w) {
					t.Errorf("start-up line does not say %q: %q", w, line)
				}
			}
			for _, w := range st.notInLog {
				if strings.Contains(line, w) {
					t.Errorf("start-up line says %q, which was not where the home came from: %q", w, line)
				}
			}
			if c.name == "dynamic linker, nothing on PATH" && strings.Count(line, "librar") < 2 {
				t.Errorf("start-up line does not say the home came from the library: %q", line)
			}
			if !startupNamesFile(line, st.lib) {
				t.Errorf("start-up line names no path that is the library %s: %q", st.lib, line)
			}
			if st.copied && startupNamesFile(line, startupDebianLib) {
				t.Errorf("start-up line names the system library, want %s: %q", st.lib, line)
			}
		})
	}
}

// ---------------------------------------------------------------- 3. the setup module

// TestStartupPrintSym: --print-sym prints exactly the embedded setup module
// (uwsgi_pypy_setup) or the uwsgi module's body (uwsgi_pypy_module); any other name is an
// error.
func TestStartupPrintSym(t *testing.T) {
	t.Parallel()
	for sym, file := range map[string]string{"uwsgi_pypy_setup": "pypy_setup.py", "uwsgi_pypy_module": "uwsgi_module.py"} {
		want := startupRead(t, filepath.Join("..", "internal", "pypy", file))
		code, out := Run(t, []string{"--print-sym", sym}, NoWait()).ExitWithin(10 * time.Second)
		if code != 0 {
			t.Errorf("--print-sym %s: exit %d, want 0", sym, code)
		}
		if out != want {
			t.Errorf("--print-sym %s printed %d bytes that differ from internal/pypy/%s (%d bytes); first 300:\n%.300s", sym, len(out), file, len(want), out)
		}
	}

	code, out := Run(t, []string{"--print-sym", "startup_other_sym"}, NoWait()).ExitWithin(10 * time.Second)
	startupNoCrash(t, out)
	if code == 0 || !strings.Contains(out, "startup_other_sym") || !strings.Contains(out, "uwsgi_pypy_setup") || !strings.Contains(out, "uwsgi_pypy_module") {
		t.Errorf("--print-sym startup_other_sym: exit %d, want non-zero and a message naming the symbol and what exists; output:\n%s", code, out)
	}
}

// TestStartupCustomSetup: --pypy-setup FILE runs FILE instead of the embedded module.
func TestStartupCustomSetup(t *testing.T) {
	t.Parallel()
	code, embedded := Run(t, []string{"--print-sym", "uwsgi_pypy_setup"}, NoWait()).ExitWithin(10 * time.Second)
	if code != 0 {
		t.Fatalf("--print-sym: exit %d: %s", code, embedded)
	}
	file := startupWrite(t, filepath.Join(t.TempDir(), "my_setup.py"), embedded+"\nuwsgi.custom_setup = True\n")
	app := testdata("startup_app.py")

	custom := startupGetInfo(t, Run(t, []string{"--pypy-setup", file, "--pypy-wsgi-file", app}, HTTP(), startupClean))
	if custom.CustomSetup == nil || !*custom.CustomSetup {
		t.Errorf("with --pypy-setup %s the app sees uwsgi.custom_setup = %v, want True", file, custom.CustomSetup)
	}
	plain := startupGetInfo(t, Run(t, []string{"--pypy-wsgi-file", app}, HTTP(), startupClean))
	if plain.CustomSetup != nil {
		t.Errorf("without --pypy-setup the app sees uwsgi.custom_setup = %v, want none", *plain.CustomSetup)
	}
}

// TestStartupNoCompiler: start-up needs no C compiler (cffi ABI mode): PATH holds only
// pypy3 and CC is /bin/false, and the app is served.
func TestStartupNoCompiler(t *testing.T) {
	t.Parallel()
	bin := startupPyPyOnlyPath(t)
	s := Run(t, []string{"--need-app", "--pypy-wsgi-file", testdata("startup_app.py")}, HTTP(), startupClean, Env("PATH="+bin, "CC=/bin/false"))
	info := startupGetInfo(t, s)
	if info.CC != nil {
		t.Fatalf("the app found a C compiler at %s: the test did not hide it", *info.CC)
	}
}

// ---------------------------------------------------------------- 4. eval and exec

// startupAppend is Python that appends tag to uwsgi.startup_order.
func startupAppend(tag string) string {
	return `import uwsgi; uwsgi.__dict__.setdefault("startup_order", []).append(` + tag + `)`
}

// startupAppSeen is a Python expression: "TAG:True" if the app's module is in sys.modules.
func startupAppSeen(tag, app string) string {
	return `"` + tag + `:" + str(any(getattr(m, "__file__", None) == "` + app + `" for m in list(__import__("sys").modules.values())))`
}

// TestStartupEvalExecOrder: --pypy-eval and --pypy-exec run before the app, interleaved in
// the order given; the post-fork forms run after it (seeing its module) in the order
// given, then uwsgi.post_fork_hook.
func TestStartupEvalExecOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := testdata("startup_app.py")
	exec1 := startupWrite(t, filepath.Join(dir, "exec1.py"), startupAppend(`"exec1"`)+"\n")
	exec2 := startupWrite(t, filepath.Join(dir, "exec2.py"), startupAppend(`"exec2"`)+"\n")
	postExec := startupWrite(t, filepath.Join(dir, "post_exec.py"), startupAppend(startupAppSeen("post-exec1", app))+"\n")

	s := Run(t, []string{"--pypy-exec", exec1,
		"--pypy-eval-post-fork", startupAppend(startupAppSeen("post-eval1", app)),
		"--pypy-eval", startupAppend(`"eval1"`),
		"--pypy-exec-post-fork", postExec,
		"--pypy-exec", exec2,
		"--pypy-eval", startupAppend(`"eval2"`),
		"--pypy-eval-post-fork", startupAppend(startupAppSeen("post-eval2", app)),
		"--need-app", "--pypy-wsgi-file", app}, HTTP(), startupClean)
	info := startupGetInfo(t, s)
	want := []string{"exec1", "eval1", "exec2", "eval2", "app", "post-eval1:True", "post-exec1:True", "post-eval2:True", "hook"}
	if !slices.Equal(info.Order, want) {
		t.Fatalf("start-up steps ran in the order %q, want %q", info.Order, want)
	}
}

// TestStartupStepErrors: an exception in any start-up step stops the start with its
// traceback and a non-zero exit.
func TestStartupStepErrors(t *testing.T) {
	t.Parallel()
	app := testdata("startup_app.py")
	cases := []struct {
		name string
		args func(t *testing.T, dir string) []string
		want string
	}{
		{"--pypy-eval", func(t *testing.T, dir string) []string {
			return []string{"--pypy-eval", "raise ValueError('startup-eval-boom')", "--pypy-wsgi-file", app}
		}, "startup-eval-boom"},
		{"--pypy-exec", func(t *testing.T, dir string) []string {
			boom := startupWrite(t, filepath.Join(dir, "boom.py"), "x = 1\nraise ValueError('startup-exec-boom')\n")
			return []string{"--pypy-exec", boom, "--pypy-wsgi-file", app}
		}, "startup-exec-boom"},
		{"--pypy-eval-post-fork", func(t *testing.T, dir string) []string {
			return []string{"--pypy-eval-post-fork", "raise ValueError('startup-post-eval-boom')", "--pypy-wsgi-file", app}
		}, "startup-post-eval-boom"},
		{"--pypy-exec-post-fork", func(t *testing.T, dir string) []string {
			boom := startupWrite(t, filepath.Join(dir, "postboom.py"), "raise ValueError('startup-post-exec-boom')\n")
			return []string{"--pypy-exec-post-fork", boom, "--pypy-wsgi-file", app}
		}, "startup-post-exec-boom"},
		{"uwsgi.post_fork_hook set by the app", func(t *testing.T, dir string) []string {
			hookApp := startupWrite(t, filepath.Join(dir, "hookapp.py"), `import uwsgi

def application(environ, start_response):
    start_response("200 OK", [])
    return [b"hook app"]

def _hook():
    raise ValueError("startup-hook-boom")

uwsgi.post_fork_hook = _hook
`)
			return []string{"--pypy-wsgi-file", hookApp}
		}, "startup-hook-boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--http-socket", freeAddr(t)}, c.args(t, t.TempDir())...)
			code, out := Run(t, args, NoWait()).ExitWithin(10 * time.Second)
			startupNoCrash(t, out)
			if code == 0 {
				t.Errorf("exit 0, want non-zero")
			}
			for _, w := range []string{c.want, "Traceback (most recent call last)"} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if strings.Contains(out, " ready (") {
				t.Errorf("uwsgo said it was ready despite the failing step")
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
