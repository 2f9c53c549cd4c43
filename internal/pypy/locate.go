package pypy

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Install is where a PyPy lives: the home (its standard library) and the candidates for
// libpypy-c, tried in order until one loads.
type Install struct {
	Home       string
	HomeSource string   // how Home was found, for the startup log
	Libs       []string // absolute files and, last, bare names for the dynamic linker
}

// libNames are the names PyPy releases and distributions give the shared library, most
// specific first. Debian ships libpypy3.9-c.so in the system library directory.
var libNames = []string{"libpypy3.9-c.so", "libpypy3.10-c.so", "libpypy3.11-c.so", "libpypy3-c.so", "libpypy-c.so"}

// releaseLibs are where PyPy's release tarballs put the library below the home.
var releaseLibs = []string{"bin/libpypy3-c.so", "bin/libpypy-c.so", "libpypy3-c.so", "libpypy-c.so", "bin/libpypy3.9-c.so", "bin/libpypy3.10-c.so"}

// Locate decides home and library candidates from the options, $PYPY_HOME and the pypy3
// on PATH, without loading anything. lookPath is exec.LookPath outside tests.
func Locate(home, lib string, getenv func(string) string, lookPath func(string) (string, error)) (*Install, error) {
	in := &Install{Home: home, HomeSource: "--pypy-home"}
	if home == "" {
		if h := getenv("PYPY_HOME"); h != "" {
			in.Home, in.HomeSource = h, "$PYPY_HOME"
		} else if exe, err := lookPath("pypy3"); err == nil {
			if h := homeOfExecutable(exe); h != "" {
				in.Home, in.HomeSource = h, "the pypy3 on PATH ("+exe+")"
			}
		}
	}
	if in.Home != "" {
		abs, err := filepath.Abs(in.Home)
		if err == nil {
			in.Home = abs
		}
		if _, err := StdlibOf(in.Home); err != nil {
			return nil, fmt.Errorf("%s %s: %w", in.HomeSource, in.Home, err)
		}
	}

	switch {
	case lib != "":
		st, err := os.Stat(lib)
		if err != nil {
			return nil, fmt.Errorf("--pypy-lib %s: %w", lib, err)
		}
		if !st.IsDir() {
			in.Libs = []string{lib}
			break
		}
		for _, n := range libNames {
			in.Libs = append(in.Libs, filepath.Join(lib, n))
		}
	default:
		if in.Home != "" {
			for _, r := range releaseLibs {
				in.Libs = append(in.Libs, filepath.Join(in.Home, r))
			}
		}
		in.Libs = append(in.Libs, libNames...)
	}

	if in.Home == "" {
		// Without a pypy3 on PATH the library's name still tells Debian's layout.
		in.HomeSource = "the library's name"
	}
	return in, nil
}

// homeOfExecutable maps a pypy3 executable to its home: a release's bin/pypy3 lives in
// HOME/bin; Debian's /usr/bin/pypy3.9 has its standard library in /usr/lib/pypy3.9.
func homeOfExecutable(exe string) string {
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return ""
	}
	prefix := filepath.Dir(filepath.Dir(real))
	candidates := []string{prefix}
	if v := pyVersion.FindString(filepath.Base(real)); v != "" {
		candidates = []string{filepath.Join(prefix, "lib", "pypy"+v), prefix}
	}
	for _, c := range candidates {
		if _, err := StdlibOf(c); err == nil {
			return c
		}
	}
	return ""
}

var pyVersion = regexp.MustCompile(`3\.\d+`)

// HomeOfLibrary derives Debian's home from its library name: libpypy3.9-c.so -> /usr/lib/pypy3.9.
func HomeOfLibrary(lib string) string {
	v := pyVersion.FindString(filepath.Base(lib))
	if v == "" {
		return ""
	}
	h := "/usr/lib/pypy" + v
	if _, err := StdlibOf(h); err != nil {
		return ""
	}
	return h
}

// StdlibOf finds the directory of PyPy's standard library below home, in the layouts PyPy
// releases and Debian use. pypy_setup_home is no check: Debian's build falls back to its
// compiled-in prefix when the home is wrong, so a typo would load some other PyPy.
func StdlibOf(home string) (string, error) {
	const holds = "a PyPy home holds the standard library: os.py, lib-python/3/os.py or lib/pypy3*/os.py"
	if st, err := os.Stat(home); err != nil || !st.IsDir() {
		return "", errors.New("no such directory (" + holds + ")")
	}
	tried := []string{filepath.Join(home, "os.py"), filepath.Join(home, "lib-python", "3", "os.py")}
	globbed, _ := filepath.Glob(filepath.Join(home, "lib", "pypy3*", "os.py"))
	tried = append(tried, globbed...)
	for _, t := range tried {
		if _, err := os.Stat(t); err == nil {
			return filepath.Dir(t), nil
		}
	}
	return "", fmt.Errorf("no PyPy standard library there (looked for %s and %s)",
		strings.Join(tried[:2], ", "), filepath.Join(home, "lib", "pypy3*", "os.py"))
}

// LookPath is the PATH search Locate uses outside tests.
var LookPath = exec.LookPath

func resolvedPath(lib string) string {
	if r, err := filepath.EvalSymlinks(lib); err == nil {
		return r
	}
	return lib
}
