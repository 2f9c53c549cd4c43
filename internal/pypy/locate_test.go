package pypy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHome makes a directory laid out like a PyPy release: HOME/lib/pypy3.9/os.py and
// HOME/bin/pypy3.
func fakeHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, f := range []string{"lib/pypy3.9/os.py", "bin/pypy3"} {
		p := filepath.Join(home, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

func noEnv(string) string { return "" }

func noPath(string) (string, error) { return "", errors.New("not found") }

func TestLocateHomeOrder(t *testing.T) {
	opt, env, onPath := fakeHome(t), fakeHome(t), fakeHome(t)
	getenv := func(k string) string {
		if k == "PYPY_HOME" {
			return env
		}
		return ""
	}
	lookPath := func(string) (string, error) { return filepath.Join(onPath, "bin", "pypy3"), nil }

	cases := []struct {
		name, home, want, source string
		getenv                   func(string) string
	}{
		{"option first", opt, opt, "--pypy-home", getenv},
		{"then $PYPY_HOME", "", env, "$PYPY_HOME", getenv},
		{"then the pypy3 on PATH", "", onPath, "the pypy3 on PATH", noEnv},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := Locate(c.home, "", c.getenv, lookPath)
			if err != nil {
				t.Fatal(err)
			}
			if in.Home != c.want || !strings.HasPrefix(in.HomeSource, c.source) {
				t.Fatalf("home %s (from %s), want %s (from %s)", in.Home, in.HomeSource, c.want, c.source)
			}
			if in.Libs[0] != filepath.Join(c.want, "bin/libpypy3-c.so") {
				t.Fatalf("first library candidate %s, want the release layout under the home", in.Libs[0])
			}
			if last := in.Libs[len(in.Libs)-1]; strings.Contains(last, "/") {
				t.Fatalf("last candidate %s should be a bare name for the dynamic linker", last)
			}
		})
	}
}

func TestLocateDebianExecutable(t *testing.T) {
	// Debian: /usr/bin/pypy3 -> pypy3.9, standard library in /usr/lib/pypy3.9.
	prefix := t.TempDir()
	for _, d := range []string{"bin", "lib/pypy3.9"} {
		os.MkdirAll(filepath.Join(prefix, d), 0o755)
	}
	os.WriteFile(filepath.Join(prefix, "lib/pypy3.9/os.py"), nil, 0o644)
	os.WriteFile(filepath.Join(prefix, "bin/pypy3.9"), nil, 0o755)
	os.Symlink("pypy3.9", filepath.Join(prefix, "bin/pypy3"))
	in, err := Locate("", "", noEnv, func(string) (string, error) { return filepath.Join(prefix, "bin/pypy3"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "lib/pypy3.9"); in.Home != want {
		t.Fatalf("home %s, want %s", in.Home, want)
	}
}

func TestLocateWrongHome(t *testing.T) {
	empty := t.TempDir()
	_, err := Locate(empty, "", noEnv, noPath)
	if err == nil || !strings.Contains(err.Error(), "--pypy-home "+empty) || !strings.Contains(err.Error(), "os.py") {
		t.Fatalf("error %v should name the option, the home and what was looked for", err)
	}
	_, err = Locate("/does/not/exist", "", noEnv, noPath)
	if err == nil || !strings.Contains(err.Error(), "/does/not/exist") {
		t.Fatalf("error %v should name the missing home", err)
	}
}

func TestLocateLibOption(t *testing.T) {
	dir := t.TempDir()
	in, err := Locate("", dir, noEnv, noPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range in.Libs {
		if filepath.Dir(l) != dir {
			t.Fatalf("with --pypy-lib DIR every candidate must be in DIR, got %s", l)
		}
	}
	file := filepath.Join(dir, "libcustom.so")
	os.WriteFile(file, nil, 0o644)
	in, err = Locate("", file, noEnv, noPath)
	if err != nil || len(in.Libs) != 1 || in.Libs[0] != file {
		t.Fatalf("--pypy-lib FILE: %v %v", in, err)
	}
	if _, err := Locate("", filepath.Join(dir, "missing.so"), noEnv, noPath); err == nil || !strings.Contains(err.Error(), "--pypy-lib") {
		t.Fatalf("a missing --pypy-lib must be an error naming the option, got %v", err)
	}
}

func TestLocateNothingGivenKeepsLinkerNames(t *testing.T) {
	in, err := Locate("", "", noEnv, noPath)
	if err != nil {
		t.Fatal(err)
	}
	if in.Home != "" || len(in.Libs) != len(libNames) {
		t.Fatalf("with nothing to go on: home %q, libs %v; want only the dynamic linker's names", in.Home, in.Libs)
	}
}
