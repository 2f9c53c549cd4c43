package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The seed's own system, uWSGI's PyPy plugin, is Debian 13's, and Debian 12's libc is too
// old for its binaries: it runs inside a Debian trixie root made by scripts/trixie-root,
// through chroot, and so does uwsgo on the same PyPy 3.11 for a fair comparison. Per run
// the harness copies what those servers load (the uwsgo binary built on the host, apps/,
// apploop.py) into a directory of its own in the root, and removes it on the way out;
// nothing is mounted.

// rootNeeds are the files the root's servers and loops need, with the package providing
// each: uwsgo needs only pypy3; the plugin compiles C at every start.
var rootNeeds = [][2]string{
	{"/usr/bin/pypy3", "pypy3"},
	{"/usr/bin/uwsgi-core", "uwsgi-core"},
	{"/usr/lib/uwsgi/plugins/pypy3_plugin.so", "uwsgi-plugin-pypy3"},
	{"/usr/include/pypy3.11/Python.h", "pypy3-dev"},
	{"/usr/bin/gcc", "gcc"},
	{"/usr/include/stdio.h", "libc6-dev"},
	{"/usr/lib/python3/dist-packages/flask/__init__.py", "python3-flask"},
	{"/usr/lib/python3/dist-packages/django/__init__.py", "python3-django"},
	{"/proc/self/stat", "/proc mounted in the root"},
}

// checkRoot says what the root at dir lacks, nil when it has everything.
func checkRoot(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "usr", "bin", "apt-get")); err != nil {
		return fmt.Errorf("there is no Debian trixie root at %s (scripts/trixie-root or `make bench` makes it)", dir)
	}
	var missing []string
	for _, n := range rootNeeds {
		if _, err := os.Stat(filepath.Join(dir, n[0])); err != nil {
			missing = append(missing, n[1])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the trixie root %s lacks %s (scripts/trixie-root makes and completes it)", dir, strings.Join(missing, ", "))
	}
	return nil
}

// chroot prefixes argv (paths inside the root) to run it in the root.
func (h *harness) chroot(argv []string) []string {
	return append([]string{"/usr/sbin/chroot", h.cfg.TrixieRoot}, argv...)
}

// stageIn is the path inside the root of a file of this run's staging directory.
func (h *harness) stageIn(name string) string { return filepath.Join(h.stage, name) }

func (h *harness) rootAppFile(a app) string { return h.stageIn(filepath.Join("apps", a.File)) }

// stageRoot copies the uwsgo binary, apps/ and apploop.py into the root.
func (h *harness) stageRoot() error {
	h.stage = fmt.Sprintf("/var/tmp/uwsgo-bench-%d", os.Getpid())
	host := filepath.Join(h.cfg.TrixieRoot, h.stage)
	if err := os.RemoveAll(host); err != nil {
		return err
	}
	h.staged = host
	if err := copyFile(h.uwsgoBin, filepath.Join(host, "uwsgo"), 0o755); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(h.benchDir, "apploop.py"), filepath.Join(host, "apploop.py"), 0o644); err != nil {
		return err
	}
	src := filepath.Join(h.benchDir, "apps")
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "__pycache__" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(src, path)
		dst := filepath.Join(host, "apps", rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		return copyFile(path, dst, 0o644)
	})
}

func (h *harness) unstageRoot() {
	if h.staged != "" {
		os.RemoveAll(h.staged)
		h.staged = ""
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
