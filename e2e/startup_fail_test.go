package e2e

// Start-up failures: each one a clear message naming what was tried, a non-zero exit within
// seconds and never a crash dump; and the "dynamic mode" a failed app load leaves without
// --need-app.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartupFailures: what cannot start says why, exits non-zero, and does not crash.
func TestStartupFailures(t *testing.T) {
	t.Parallel()
	app := testdata("startup_app.py")
	type failure struct {
		env       []string
		args      []string
		code      int        // the exit status wanted; 0 means any non-zero one
		want      []string   // all must appear in the output
		wantAny   [][]string // from each group, one must appear
		traceback bool       // a Python traceback must appear
	}
	cases := []struct {
		name string
		make func(t *testing.T) failure
	}{
		{"no library anywhere", func(t *testing.T) failure {
			empty := t.TempDir()
			return failure{
				env:  []string{"PATH=" + t.TempDir()},
				args: []string{"--pypy-lib", empty, "--pypy-wsgi-file", app},
				want: []string{filepath.Join(empty, "libpypy*-c.so")},
			}
		}},
		{"--pypy-lib /nonexistent", func(t *testing.T) failure {
			return failure{args: []string{"--pypy-lib", "/nonexistent", "--pypy-wsgi-file", app},
				want: []string{"--pypy-lib", "/nonexistent"}}
		}},
		{"--pypy-lib of a library that is not PyPy", func(t *testing.T) failure {
			const libz = "/lib/x86_64-linux-gnu/libz.so.1"
			if _, err := os.Stat(libz); err != nil {
				t.Fatalf("%s is missing (Debian package zlib1g): %v", libz, err)
			}
			return failure{args: []string{"--pypy-lib", libz, "--pypy-wsgi-file", app},
				want: []string{libz, "rpython_startup_code"}}
		}},
		{"--pypy-home that does not exist", func(t *testing.T) failure {
			home := filepath.Join(t.TempDir(), "nothing-here")
			return failure{args: []string{"--pypy-home", home, "--pypy-wsgi-file", app},
				want:    []string{"--pypy-home", home},
				wantAny: [][]string{{"os.py", "lib-python", "standard library"}}}
		}},
		{"--pypy-home that is not a PyPy home", func(t *testing.T) failure {
			home := t.TempDir()
			return failure{args: []string{"--pypy-home", home, "--pypy-wsgi-file", app},
				want:    []string{"--pypy-home", home},
				wantAny: [][]string{{"os.py", "lib-python", "standard library"}}}
		}},
		{"--pypy-setup that raises", func(t *testing.T) failure {
			setup := startupWrite(t, filepath.Join(t.TempDir(), "bad_setup.py"), "x = 1\nraise RuntimeError('startup-setup-boom')\n")
			return failure{args: []string{"--pypy-setup", setup, "--pypy-wsgi-file", app},
				want: []string{setup, "startup-setup-boom"}, traceback: true}
		}},
		{"--pypy-setup that does not exist", func(t *testing.T) failure {
			setup := filepath.Join(t.TempDir(), "no_setup.py")
			return failure{args: []string{"--pypy-setup", setup, "--pypy-wsgi-file", app},
				want: []string{"--pypy-setup", setup}}
		}},
		{"--need-app, module not importable", func(t *testing.T) failure {
			return failure{args: []string{"--need-app", "--pypy-wsgi", "startup_no_such_module"}, code: 22,
				want: []string{"No module named 'startup_no_such_module'"}, traceback: true}
		}},
		{"--need-app, file whose import fails", func(t *testing.T) failure {
			return failure{args: []string{"--need-app", "--pypy-wsgi-file", testdata("startup_importfail.py")}, code: 22,
				want: []string{"startup_no_such_dependency", "startup_importfail.py"}, traceback: true}
		}},
		{"--need-app, file that does not exist", func(t *testing.T) failure {
			missing := filepath.Join(t.TempDir(), "missing_app.py")
			return failure{args: []string{"--need-app", "--pypy-wsgi-file", missing}, code: 22,
				want: []string{missing}}
		}},
		{"--need-app, application = 42", func(t *testing.T) failure {
			return failure{args: []string{"--need-app", "--pypy-wsgi-file", testdata("startup_notcallable.py")}, code: 22,
				want: []string{"42", "not callable"}, traceback: true}
		}},
		{"--need-app, module without the callable", func(t *testing.T) failure {
			return failure{args: []string{"--need-app", "--pypy-pp", testdata("startup_pkg"), "--pypy-wsgi", "startup_mod:startup_nope"}, code: 22,
				want: []string{"startup_nope"}, traceback: true}
		}},
		{"CPython already in the process", func(t *testing.T) failure {
			// Debian 12's CPython is 3.11, Debian 13's 3.13.
			found, _ := filepath.Glob(inRoot("/usr/lib/x86_64-linux-gnu/libpython3.*.so.1.0"))
			if len(found) == 0 {
				t.Fatalf("no libpython3.*.so.1.0 in /usr/lib/x86_64-linux-gnu: install the Debian package libpython3.11 (trixie: libpython3.13)")
			}
			libpython := strings.TrimPrefix(found[0], root)
			return failure{env: []string{"LD_PRELOAD=" + libpython}, args: []string{"--pypy-wsgi-file", app},
				wantAny: [][]string{{"CPython", "libpython"}}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := c.make(t)
			code, out := Run(t, append([]string{"--http-socket", freeAddr(t)}, f.args...), startupClean, Env(f.env...), NoWait()).ExitWithin(10 * time.Second)
			startupNoCrash(t, out)
			switch {
			case f.code != 0 && code != f.code:
				t.Errorf("exit %d, want %d", code, f.code)
			case code == 0:
				t.Errorf("exit 0, want non-zero")
			}
			for _, w := range f.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, group := range f.wantAny {
				found := false
				for _, w := range group {
					found = found || strings.Contains(out, w)
				}
				if !found {
					t.Errorf("output names none of %q", group)
				}
			}
			if f.traceback && !strings.Contains(out, "Traceback (most recent call last)") {
				t.Errorf("output lacks the Python traceback")
			}
			if strings.Contains(out, " ready (") {
				t.Errorf("uwsgo said it was ready")
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// TestStartupDynamicMode: without --need-app an app that fails to load leaves a server
// that starts, says why and that it is in dynamic mode, and answers 500.
func TestStartupDynamicMode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		why  string // in the log
	}{
		{"module not importable", []string{"--pypy-wsgi", "startup_no_such_module"}, "No module named 'startup_no_such_module'"},
		{"application = 42", []string{"--pypy-wsgi-file", testdata("startup_notcallable.py")}, "not callable"},
		{"import fails", []string{"--pypy-wsgi-file", testdata("startup_importfail.py")}, "startup_no_such_dependency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := Run(t, c.args, HTTP(), startupClean)
			for _, w := range []string{c.why, "dynamic mode"} {
				if !strings.Contains(s.Log(), w) {
					t.Errorf("start-up log lacks %q", w)
				}
			}
			status, body := startupGetBody(t, s, "/")
			if status != 500 {
				t.Errorf("GET /: %d %q, want 500", status, body)
			}
			if t.Failed() {
				t.Logf("server output:\n%s", s.Log())
			}
		})
	}
}
