package pypy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Install is where a PyPy lives: the home (its standard library) and the candidates for
// libpypy-c, tried in order until one loads.
//
// The library is found from the home, by pattern, never from a fixed list of versions: a
// PyPy release (pypy.org's tarballs, pyenv's copies of them) keeps it in HOME/bin as
// libpypy3.X-c.so (older ones: libpypy3-c.so, libpypy-c.so) with the standard library in
// HOME/lib/pypy3.X; Debian keeps the standard library in /usr/lib/pypy3.X and the library
// in /usr/lib/<triplet>/libpypy3.X-c.so. The home's Python version decides which library
// belongs to it; CheckPair refuses a library of another version.
type Install struct {
	Home       string
	HomeSource string   // how Home was found, for the startup log
	Libs       []string // absolute files and, last, bare names for the dynamic linker
}

// genericNames are the library names without a version, the dynamic linker's last resort.
var genericNames = []string{"libpypy3-c.so", "libpypy-c.so"}

// libPattern matches every name PyPy builds give the library: libpypy3.11-c.so,
// libpypy3-c.so, libpypy-c.so.
const libPattern = "libpypy*-c.so"

// Locate decides home and library candidates from the options, $PYPY_HOME and the pypy3
// on PATH, without loading anything. lookPath is exec.LookPath outside tests.
func Locate(home, lib string, getenv func(string) string, lookPath func(string) (string, error)) (*Install, error) {
	in := &Install{Home: home, HomeSource: "--pypy-home"}
	if home == "" {
		if h := getenv("PYPY_HOME"); h != "" {
			in.Home, in.HomeSource = h, "$PYPY_HOME"
		} else if exe, err := lookPath("pypy3"); err == nil {
			h, err := homeOfExecutable(exe)
			if err != nil {
				return nil, fmt.Errorf("the pypy3 on PATH (%s): %w", exe, err)
			}
			if h != "" {
				in.Home, in.HomeSource = h, "the pypy3 on PATH ("+exe+")"
			}
		}
	}
	version := ""
	if in.Home != "" {
		if abs, err := filepath.Abs(in.Home); err == nil {
			in.Home = abs
		}
		stdlib, err := StdlibOf(in.Home)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", in.HomeSource, in.Home, err)
		}
		version = stdlibVersion(stdlib)
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
		in.Libs = globLibs(version, filepath.Join(lib, libPattern))
		if len(in.Libs) == 0 {
			// Kept so that the error names the pattern that matched nothing.
			in.Libs = []string{filepath.Join(lib, libPattern)}
		}
	case in.Home != "":
		in.Libs = homeLibs(in.Home, version)
		if version != "" {
			// A release without its library, or a distribution's other directory: the same
			// version only, never another PyPy's.
			in.Libs = append(in.Libs, systemLibs(getenv, version)...)
			in.Libs = append(in.Libs, "libpypy"+version+"-c.so")
		} else {
			in.Libs = append(in.Libs, systemLibs(getenv, "")...)
			in.Libs = append(in.Libs, genericNames...)
		}
	default:
		in.Libs = append(systemLibs(getenv, ""), genericNames...)
	}
	in.Libs = unique(in.Libs)

	if in.Home == "" {
		in.HomeSource = "the library's name"
	}
	return in, nil
}

// unique drops repeated candidates, keeping the first of each: a file found both below the
// home and in the linker's directories is tried once.
func unique(libs []string) []string {
	seen := map[string]bool{}
	out := libs[:0]
	for _, l := range libs {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// homeLibs are the libraries a home holds: a release's HOME/bin and HOME, or, for a
// Debian-style home PREFIX/lib/pypy3.X, PREFIX/lib and PREFIX/lib/<triplet>.
func homeLibs(home, version string) []string {
	patterns := []string{filepath.Join(home, "bin", libPattern), filepath.Join(home, libPattern)}
	if version != "" && filepath.Base(home) == "pypy"+version {
		name := "libpypy" + version + "-c.so"
		parent := filepath.Dir(home)
		patterns = append(patterns, filepath.Join(parent, name), filepath.Join(parent, "*", name))
	}
	return globLibs(version, patterns...)
}

// systemLibs are the libraries in the dynamic linker's usual directories and
// $LD_LIBRARY_PATH; with a version, only that version's.
func systemLibs(getenv func(string) string, version string) []string {
	dirs := filepath.SplitList(getenv("LD_LIBRARY_PATH"))
	dirs = append(dirs, "/usr/local/lib", "/usr/local/lib/*-linux-gnu*", "/usr/lib/*-linux-gnu*", "/usr/lib64", "/usr/lib")
	name := libPattern
	if version != "" {
		name = "libpypy" + version + "-c.so"
	}
	var patterns []string
	for _, d := range dirs {
		if d != "" {
			patterns = append(patterns, filepath.Join(d, name))
		}
	}
	return globLibs(version, patterns...)
}

// globLibs expands the patterns, each pattern's matches ordered by libOrder.
func globLibs(version string, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		slices.SortStableFunc(m, func(a, b string) int { return libOrder(version, a, b) })
		out = append(out, m...)
	}
	return out
}

// libOrder puts the home's version first, then newer before older, then the names without
// a version (libpypy3-c.so, libpypy-c.so).
func libOrder(version, a, b string) int {
	va, vb := versionOfName(a), versionOfName(b)
	if (va == version) != (vb == version) && version != "" {
		if va == version {
			return -1
		}
		return 1
	}
	return compareVersions(vb, va)
}

// compareVersions compares "3.9" and "3.11" as numbers; "" is older than any version.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	return slices.Compare(pa, pb)
}

func versionParts(v string) []int {
	var parts []int
	for _, f := range strings.Split(v, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil
		}
		parts = append(parts, n)
	}
	return parts
}

var (
	nameVersion = regexp.MustCompile(`pypy(3\.\d+)`)
	soabi       = regexp.MustCompile(`pypy(3)(\d+)-pp\d+`)
)

// versionOfName is the Python version a file name carries: libpypy3.11-c.so, pypy3.11.
func versionOfName(path string) string {
	if m := nameVersion.FindStringSubmatch(filepath.Base(path)); m != nil {
		return m[1]
	}
	return ""
}

// stdlibVersion is the Python version of a standard library directory: its name
// (lib/pypy3.11), else the ABI tag of its compiled modules (_cffi.pypy311-pp73-...so).
func stdlibVersion(stdlib string) string {
	if v := versionOfName(stdlib); v != "" {
		return v
	}
	mods, _ := filepath.Glob(filepath.Join(stdlib, "*.pypy3*-pp*.so"))
	for _, m := range mods {
		if s := soabi.FindStringSubmatch(filepath.Base(m)); s != nil {
			return s[1] + "." + s[2]
		}
	}
	return ""
}

// LibVersion is the Python version of a libpypy-c: from its name, else from the ABI tag
// compiled into it (pypy311-pp73), for a library renamed or built with a generic name.
func LibVersion(lib string) string {
	if v := versionOfName(lib); v != "" {
		return v
	}
	f, err := os.Open(lib)
	if err != nil {
		return ""
	}
	defer f.Close()
	return findSOABI(f)
}

// findSOABI scans r for PyPy's ABI tag, in chunks that overlap by more than a tag's length.
func findSOABI(r io.Reader) string {
	buf := make([]byte, 0, 1<<20+64)
	chunk := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(r, chunk)
		buf = append(buf, chunk[:n]...)
		if m := soabi.FindSubmatch(buf); m != nil {
			return string(m[1]) + "." + string(m[2])
		}
		if err != nil {
			return ""
		}
		buf = append(buf[:0], buf[max(0, len(buf)-64):]...)
	}
}

// CheckPair refuses a library and a home of different Python versions: PyPy would start
// with a standard library that does not match its interpreter, or fail obscurely.
func CheckPair(home, lib string) error {
	stdlib, err := StdlibOf(home)
	if err != nil {
		return nil
	}
	hv, lv := stdlibVersion(stdlib), LibVersion(lib)
	if hv == "" || lv == "" || hv == lv {
		return nil
	}
	return fmt.Errorf("the library %s is PyPy for Python %s but the home %s has the standard library of Python %s (%s): "+
		"give a --pypy-lib and a --pypy-home of the same PyPy", lib, lv, home, hv, stdlib)
}

// homeOfExecutable maps a pypy3 executable to its home. A release's HOME/bin/pypy3.X, with
// its library beside it, has home HOME; Debian's /usr/bin/pypy3.X has /usr/lib/pypy3.X. A
// script in its place (pyenv's shim) is asked which executable it runs.
func homeOfExecutable(exe string) (string, error) {
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", nil
	}
	if isScript(real) {
		target, err := askExecutable(real)
		if err != nil {
			return "", fmt.Errorf("it is a script (a pyenv shim?) and asking it for sys.executable failed: %w", err)
		}
		if real, err = filepath.EvalSymlinks(target); err != nil {
			return "", nil
		}
	}
	prefix := filepath.Dir(filepath.Dir(real))
	v := versionOfName(real)
	var candidates []string
	if len(homeLibs(prefix, v)) > 0 {
		candidates = append(candidates, prefix)
	}
	if v != "" {
		candidates = append(candidates, filepath.Join(prefix, "lib", "pypy"+v))
	}
	candidates = append(candidates, prefix)
	for _, c := range candidates {
		if _, err := StdlibOf(c); err == nil {
			return c, nil
		}
	}
	return "", nil
}

// isScript says whether path starts with "#!".
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := io.ReadFull(f, head)
	return bytes.Equal(head[:n], []byte("#!"))
}

// askExecutable runs a pypy3 wrapper script to learn the interpreter it runs.
func askExecutable(script string) (string, error) {
	cmd := exec.Command(script, "-c", "import sys; print(sys.executable)")
	cmd.WaitDelay = time.Second
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", err
	}
	p := strings.TrimSpace(string(out))
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("it printed %q, not an absolute path", p)
	}
	return p, nil
}

// HomeOfLibrary derives the home from where a library lies when nothing else named one: a
// release's HOME/bin/libpypy3.X-c.so, or Debian's PREFIX/lib/<triplet>/libpypy3.X-c.so
// with PREFIX/lib/pypy3.X.
func HomeOfLibrary(lib string) string {
	v := LibVersion(lib)
	if v == "" {
		return ""
	}
	dir := filepath.Dir(lib)
	candidates := []string{
		filepath.Join(dir, "pypy"+v),
		filepath.Join(filepath.Dir(dir), "pypy"+v),
		"/usr/lib/pypy" + v,
	}
	if filepath.Base(dir) == "bin" {
		candidates = append([]string{filepath.Dir(dir)}, candidates...)
	}
	for _, h := range candidates {
		if stdlib, err := StdlibOf(h); err == nil && stdlibVersion(stdlib) == v {
			return h
		}
	}
	return ""
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
	// The newest first, should a home hold several.
	slices.SortFunc(globbed, func(a, b string) int {
		return compareVersions(versionOfName(filepath.Dir(b)), versionOfName(filepath.Dir(a)))
	})
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
