package e2e

// Where users put PyPy: a pypy.org release unpacked anywhere, pyenv's copy of one behind
// its shim, and a home and a library of different Python versions, which uwsgo refuses.
// The trees are laid out from Debian's real files of the PyPy under test (3.9 on the host,
// 3.11 in the trixie root), with the library copied so that the log must name the tree's
// own library and not the system's.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// layoutCopy copies the file at path (as uwsgo sees it) to dst, with mode.
func layoutCopy(t *testing.T, path, dst string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	masterCopyFile(t, inRoot(path), dst, mode)
}

// layoutRelease lays out a pypy.org release of version v at home: bin/pypy3.X (the real
// executable, which finds its library through $ORIGIN) with pypy3 linked to it,
// bin/libpypy3.X-c.so, and lib/pypy3.X, the standard library.
func layoutRelease(t *testing.T, home, v string) string {
	t.Helper()
	layoutCopy(t, "/usr/bin/pypy"+startupPyVersion, filepath.Join(home, "bin", "pypy"+v), 0o755)
	layoutCopy(t, startupDebianLib, filepath.Join(home, "bin", "libpypy"+v+"-c.so"), 0o644)
	startupSymlink(t, "pypy"+v, filepath.Join(home, "bin"), "pypy3")
	os.MkdirAll(filepath.Join(home, "lib"), 0o755)
	startupSymlink(t, startupDebianHome, filepath.Join(home, "lib"), "pypy"+v)
	return home
}

// TestStartupPyPyLayouts: a release's bin/ on PATH, its home given, and pyenv's shim on
// PATH each give that release's home and its own library, and serve.
func TestStartupPyPyLayouts(t *testing.T) {
	t.Parallel()
	v := startupPyVersion
	cases := []struct {
		name string
		make func(t *testing.T) (env, args []string, home string)
	}{
		{"release's bin on PATH", func(t *testing.T) ([]string, []string, string) {
			home := layoutRelease(t, filepath.Join(t.TempDir(), "pypy"+v+"-v7.3.19-linux64"), v)
			return []string{"PATH=" + filepath.Join(home, "bin") + ":/usr/bin:/bin"}, nil, home
		}},
		{"--pypy-home of a release", func(t *testing.T) ([]string, []string, string) {
			home := layoutRelease(t, filepath.Join(t.TempDir(), "pypy"+v+"-v7.3.19-linux64"), v)
			return []string{"PATH=/usr/bin:/bin"}, []string{"--pypy-home", home}, home
		}},
		{"pyenv's shim on PATH", func(t *testing.T) ([]string, []string, string) {
			pyenv := t.TempDir()
			home := layoutRelease(t, filepath.Join(pyenv, "versions", "pypy"+v+"-7.3.19"), v)
			shims := filepath.Join(pyenv, "shims")
			os.MkdirAll(shims, 0o755)
			startupWrite(t, filepath.Join(shims, "pypy3"), "#!/bin/sh\nexec "+filepath.Join(home, "bin", "pypy3")+" \"$@\"\n")
			os.Chmod(filepath.Join(shims, "pypy3"), 0o755)
			return []string{"PATH=" + shims + ":/usr/bin:/bin"}, nil, home
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env, args, home := c.make(t)
			s := Run(t, append(args, "--need-app", "--pypy-wsgi-file", testdata("startup_app.py")), HTTP(), startupClean, Env(env...))
			startupGetInfo(t, s)
			line := startupPyPyLine(s.Log())
			if !strings.Contains(line, "(Python "+v+".") {
				t.Errorf("start-up line does not say Python %s: %q", v, line)
			}
			lib := filepath.Join(home, "bin", "libpypy"+v+"-c.so")
			if !strings.Contains(line, home+" ") && !strings.Contains(line, home+",") && !strings.HasSuffix(line, home) {
				t.Errorf("start-up line does not name the release's home %s: %q", home, line)
			}
			if !startupNamesFile(line, lib) || startupNamesFile(line, startupDebianLib) {
				t.Errorf("start-up line does not name the release's own library %s (and not the system's): %q", lib, line)
			}
		})
	}
}

// TestStartupRefusesMixedVersions: a home of one Python version and a library of another
// are never paired: uwsgo refuses at start-up, naming both paths and both versions.
func TestStartupRefusesMixedVersions(t *testing.T) {
	t.Parallel()
	other := "3.11"
	if startupPyVersion == "3.11" {
		other = "3.9"
	}
	home := filepath.Join(t.TempDir(), "pypy"+other+"-v7.3.19-linux64")
	os.MkdirAll(filepath.Join(home, "lib"), 0o755)
	startupSymlink(t, startupDebianHome, filepath.Join(home, "lib"), "pypy"+other)
	renamed := filepath.Join(t.TempDir(), "libpypy-c.so")
	layoutCopy(t, startupDebianLib, renamed, 0o644)
	for _, lib := range []string{startupDebianLib, renamed} {
		code, out := Run(t, []string{"--http-socket", freeAddr(t), "--pypy-home", home, "--pypy-lib", lib,
			"--pypy-wsgi-file", testdata("startup_app.py")}, startupClean, NoWait()).ExitWithin(10 * time.Second)
		startupNoCrash(t, out)
		if code == 0 {
			t.Fatalf("a %s home with a %s library started; output:\n%s", other, startupPyVersion, out)
		}
		for _, w := range []string{home, other, lib, startupPyVersion, "--pypy-home"} {
			if !strings.Contains(out, w) {
				t.Errorf("the refusal does not name %s:\n%s", w, out)
			}
		}
	}
}
