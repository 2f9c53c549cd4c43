package pypy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real PyPys these tests lay out again: Debian 12's on the host and, when
// scripts/trixie-root has made it, Debian 13's in the trixie root.
const (
	debianLib  = "/usr/lib/x86_64-linux-gnu/libpypy3.9-c.so"
	debianHome = "/usr/lib/pypy3.9"
	debianExe  = "/usr/bin/pypy3.9"
)

func trixieRoot() string {
	if r := os.Getenv("UWSGO_TRIXIE_ROOT"); r != "" {
		return r
	}
	return "/var/cache/uwsgo/trixie"
}

func needDebianPyPy(t *testing.T) {
	t.Helper()
	for _, f := range []string{debianLib, debianExe, filepath.Join(debianHome, "os.py")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("Debian's PyPy is not installed (apt-get install pypy3): %v", err)
		}
	}
}

func link(t *testing.T, target, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// releaseTree lays out a pypy.org release of Python version v under dir from Debian's
// files: HOME/bin/pypy3.X with pypy3 and python3 links to it, HOME/bin/libpypy3.X-c.so
// and the standard library in HOME/lib/pypy3.X. pyenv's versions/NAME is the same tree.
func releaseTree(t *testing.T, home, v string) string {
	t.Helper()
	copyFile(t, debianExe, filepath.Join(home, "bin", "pypy"+v))
	link(t, "pypy"+v, filepath.Join(home, "bin", "pypy3"))
	link(t, debianLib, filepath.Join(home, "bin", "libpypy"+v+"-c.so"))
	link(t, debianHome, filepath.Join(home, "lib", "pypy"+v))
	return home
}

// copyFile copies an executable: a symlink would lead the search back to Debian's.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func noEnv(string) string { return "" }

func noPath(string) (string, error) { return "", errors.New("not found") }

func pathTo(exe string) func(string) (string, error) {
	return func(string) (string, error) { return exe, nil }
}

func TestLocateHomeOrder(t *testing.T) {
	needDebianPyPy(t)
	opt, env, onPath := releaseTree(t, t.TempDir(), "3.9"), releaseTree(t, t.TempDir(), "3.9"), releaseTree(t, t.TempDir(), "3.9")
	getenv := func(k string) string {
		if k == "PYPY_HOME" {
			return env
		}
		return ""
	}
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
			in, err := Locate(c.home, "", c.getenv, pathTo(filepath.Join(onPath, "bin", "pypy3")))
			if err != nil {
				t.Fatal(err)
			}
			if in.Home != c.want || !strings.HasPrefix(in.HomeSource, c.source) {
				t.Fatalf("home %s (from %s), want %s (from %s)", in.Home, in.HomeSource, c.want, c.source)
			}
			if want := filepath.Join(c.want, "bin", "libpypy3.9-c.so"); in.Libs[0] != want {
				t.Fatalf("first library candidate %s, want the release's own %s", in.Libs[0], want)
			}
		})
	}
}

// TestLocateReleaseOnPath: a release's bin/ first on PATH gives that release's home (not
// HOME/lib/pypy3.X) and its own library before any other, for any version 3.9 and later.
func TestLocateReleaseOnPath(t *testing.T) {
	needDebianPyPy(t)
	for _, v := range []string{"3.9", "3.10", "3.11", "3.12", "3.13"} {
		t.Run(v, func(t *testing.T) {
			home := releaseTree(t, filepath.Join(t.TempDir(), "pypy"+v+"-v7.3.99-linux64"), v)
			in, err := Locate("", "", noEnv, pathTo(filepath.Join(home, "bin", "pypy3")))
			if err != nil {
				t.Fatal(err)
			}
			if in.Home != home {
				t.Fatalf("home %s, want the release's %s", in.Home, home)
			}
			if want := filepath.Join(home, "bin", "libpypy"+v+"-c.so"); in.Libs[0] != want {
				t.Fatalf("libraries %v, want %s first", in.Libs, want)
			}
			for _, l := range in.Libs {
				if lv := versionOfName(l); lv != "" && lv != v {
					t.Errorf("candidate %s is of Python %s, the home is %s", l, lv, v)
				}
			}
		})
	}
}

// TestLocateNewestFirst: where several libraries match, the home's version comes first,
// then the newest; 3.10 is newer than 3.9.
func TestLocateNewestFirst(t *testing.T) {
	needDebianPyPy(t)
	dir := t.TempDir()
	for _, v := range []string{"3.9", "3.10", "3.11"} {
		link(t, debianLib, filepath.Join(dir, "libpypy"+v+"-c.so"))
	}
	link(t, debianLib, filepath.Join(dir, "libpypy3-c.so"))
	in, err := Locate("", dir, noEnv, noPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"libpypy3.11-c.so", "libpypy3.10-c.so", "libpypy3.9-c.so", "libpypy3-c.so"}
	if len(in.Libs) != len(want) {
		t.Fatalf("libraries %v, want %v in %s", in.Libs, want, dir)
	}
	for i, w := range want {
		if in.Libs[i] != filepath.Join(dir, w) {
			t.Fatalf("libraries %v, want %v in %s", in.Libs, want, dir)
		}
	}

	home := releaseTree(t, t.TempDir(), "3.10")
	link(t, debianLib, filepath.Join(home, "bin", "libpypy3.11-c.so"))
	in, err = Locate(home, dir, noEnv, noPath)
	if err != nil {
		t.Fatal(err)
	}
	if in.Libs[0] != filepath.Join(dir, "libpypy3.10-c.so") {
		t.Fatalf("with a 3.10 home, --pypy-lib DIR gives %v: want its 3.10 library first", in.Libs)
	}
}

// TestLocateDebianLayouts: Debian 12's and 13's homes (/usr/lib/pypy3.X) find their
// library in the multiarch directory beside them, never the other version's.
func TestLocateDebianLayouts(t *testing.T) {
	needDebianPyPy(t)
	type layout struct{ exe, home, lib, v string }
	layouts := map[string]layout{"Debian 12": {debianExe, debianHome, debianLib, "3.9"}}
	if r := trixieRoot(); fileExists(filepath.Join(r, "usr/lib/pypy3.11/os.py")) {
		layouts["Debian 13"] = layout{r + "/usr/bin/pypy3.11", r + "/usr/lib/pypy3.11", r + "/usr/lib/x86_64-linux-gnu/libpypy3.11-c.so", "3.11"}
	} else {
		t.Logf("no trixie root at %s (scripts/trixie-root makes it): Debian 13 is laid out from Debian 12's files", r)
	}
	// A prefix with both versions side by side, as a machine upgraded in place may have.
	both := t.TempDir()
	for _, v := range []string{"3.9", "3.11"} {
		copyFile(t, debianExe, filepath.Join(both, "bin", "pypy"+v))
		link(t, debianHome, filepath.Join(both, "lib", "pypy"+v))
		link(t, debianLib, filepath.Join(both, "lib", "x86_64-linux-gnu", "libpypy"+v+"-c.so"))
	}
	link(t, "pypy3.11", filepath.Join(both, "bin", "pypy3"))
	layouts["both installed"] = layout{filepath.Join(both, "bin", "pypy3"), filepath.Join(both, "lib", "pypy3.11"),
		filepath.Join(both, "lib", "x86_64-linux-gnu", "libpypy3.11-c.so"), "3.11"}

	for name, l := range layouts {
		t.Run(name, func(t *testing.T) {
			for _, how := range []string{"--pypy-home", "PATH"} {
				home, lookPath := l.home, noPath
				if how == "PATH" {
					home, lookPath = "", pathTo(l.exe)
				}
				in, err := Locate(home, "", noEnv, lookPath)
				if err != nil {
					t.Fatal(err)
				}
				if in.Home != l.home || in.Libs[0] != l.lib {
					t.Fatalf("by %s: home %s, libraries %v; want %s and %s first", how, in.Home, in.Libs, l.home, l.lib)
				}
				for _, c := range in.Libs {
					if v := versionOfName(c); v != l.v {
						t.Errorf("by %s: candidate %s is not of Python %s", how, c, l.v)
					}
				}
			}
		})
	}
}

// TestLocatePyenvShim: pyenv puts a script named pypy3 on PATH; uwsgo asks it which
// interpreter it runs (the real pypy3 runs) and takes that release's home.
func TestLocatePyenvShim(t *testing.T) {
	needDebianPyPy(t)
	root := t.TempDir()
	home := releaseTree(t, filepath.Join(root, "versions", "pypy3.9-7.3.99"), "3.9")
	shim := filepath.Join(root, "shims", "pypy3")
	os.MkdirAll(filepath.Dir(shim), 0o755)
	script := "#!/bin/sh\nexec " + filepath.Join(home, "bin", "pypy3") + " \"$@\"\n"
	if err := os.WriteFile(shim, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := Locate("", "", noEnv, pathTo(shim))
	if err != nil {
		t.Fatal(err)
	}
	if in.Home != home || in.Libs[0] != filepath.Join(home, "bin", "libpypy3.9-c.so") {
		t.Fatalf("home %s, libraries %v; want pyenv's %s and its library", in.Home, in.Libs, home)
	}

	broken := filepath.Join(t.TempDir(), "pypy3")
	os.WriteFile(broken, []byte("#!/bin/sh\necho 'pyenv: pypy3: command not found' >&2\nexit 127\n"), 0o755)
	_, err = Locate("", "", noEnv, pathTo(broken))
	if err == nil || !strings.Contains(err.Error(), broken) || !strings.Contains(err.Error(), "command not found") {
		t.Fatalf("a shim that fails must be an error naming it and saying what it said, got %v", err)
	}
}

// TestCheckPair: a library and a home of different Python versions are refused with both
// paths and versions; the version of a renamed library is read from inside it.
func TestCheckPair(t *testing.T) {
	needDebianPyPy(t)
	if err := CheckPair(debianHome, debianLib); err != nil {
		t.Fatalf("Debian's own pair: %v", err)
	}
	home311 := filepath.Join(t.TempDir(), "pypy3.11-v7.3.19-linux64")
	os.MkdirAll(filepath.Join(home311, "lib", "pypy3.11"), 0o755)
	os.WriteFile(filepath.Join(home311, "lib", "pypy3.11", "os.py"), nil, 0o644)
	renamed := link(t, debianLib, filepath.Join(t.TempDir(), "libpypy-custom.so"))
	for _, lib := range []string{debianLib, renamed} {
		err := CheckPair(home311, lib)
		if err == nil {
			t.Fatalf("a 3.9 library %s with a 3.11 home was accepted", lib)
		}
		for _, w := range []string{lib, "3.9", home311, "3.11"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %s", err, w)
			}
		}
	}
	if v := LibVersion(renamed); v != "3.9" {
		t.Fatalf("version of a renamed 3.9 library: %q", v)
	}
	if r := trixieRoot(); fileExists(filepath.Join(r, "usr/lib/x86_64-linux-gnu/libpypy3.11-c.so")) {
		renamed := link(t, filepath.Join(r, "usr/lib/x86_64-linux-gnu/libpypy3.11-c.so"), filepath.Join(t.TempDir(), "libpypy-c.so"))
		if v := LibVersion(renamed); v != "3.11" {
			t.Fatalf("version of trixie's renamed library: %q", v)
		}
	}
}

func TestHomeOfLibrary(t *testing.T) {
	needDebianPyPy(t)
	if h := HomeOfLibrary(debianLib); h != debianHome {
		t.Fatalf("Debian: %q", h)
	}
	home := releaseTree(t, t.TempDir(), "3.9")
	if h := HomeOfLibrary(filepath.Join(home, "bin", "libpypy3.9-c.so")); h != home {
		t.Fatalf("a release's library gives %q, want %s", h, home)
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
	if len(in.Libs) != 1 || in.Libs[0] != filepath.Join(dir, libPattern) {
		t.Fatalf("an empty --pypy-lib DIR gives %v, want only the pattern that matched nothing", in.Libs)
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

// TestLocateNothingGiven: without a home, the linker's directories (and $LD_LIBRARY_PATH)
// are searched, newest first, then the generic names are left to the dynamic linker.
func TestLocateNothingGiven(t *testing.T) {
	dir := t.TempDir()
	link(t, "/nonexistent", filepath.Join(dir, "libpypy3.10-c.so"))
	link(t, "/nonexistent", filepath.Join(dir, "libpypy3.12-c.so"))
	getenv := func(k string) string {
		if k == "LD_LIBRARY_PATH" {
			return dir
		}
		return ""
	}
	in, err := Locate("", "", getenv, noPath)
	if err != nil {
		t.Fatal(err)
	}
	if in.Home != "" || len(in.Libs) < 4 || in.Libs[0] != filepath.Join(dir, "libpypy3.12-c.so") || in.Libs[1] != filepath.Join(dir, "libpypy3.10-c.so") {
		t.Fatalf("home %q, libraries %v: want $LD_LIBRARY_PATH's, newest first", in.Home, in.Libs)
	}
	if last := in.Libs[len(in.Libs)-1]; strings.Contains(last, "/") {
		t.Fatalf("last candidate %s should be a bare name for the dynamic linker", last)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
