package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machineInfo describes the machine and the versions of everything measured.
func machineInfo(uwsgoBin string) [][2]string {
	var m [][2]string
	add := func(k, v string) { m = append(m, [2]string{k, v}) }
	add("CPU", cpuModel())
	add("CPUs", fmt.Sprintf("%d (this process may use %s)", runtime.NumCPU(), cpuList(allowedCPUs())))
	add("memory", memTotal())
	add("kernel", strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")))
	add("Debian", strings.TrimSpace(readFile("/etc/debian_version")))
	add("Go", firstLine(run("go", "version")))
	add("uwsgo", firstLine(run(uwsgoBin, "--version")))
	add("PyPy", oneLine(run("/usr/bin/pypy3", "-c", "import sys; print(sys.version)")))
	add("CPython", firstLine(run("/usr/bin/python3", "--version")))
	add("uWSGI", firstLine(run("/usr/bin/uwsgi-core", "--version")))
	add("gunicorn", firstLine(run("/usr/bin/python3", "-c", "import gunicorn; print(gunicorn.__version__)")))
	add("wrk", firstLine(run("/usr/bin/wrk", "-v")))
	return m
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func cpuModel() string {
	for _, l := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func memTotal() string {
	for _, l := range strings.Split(readFile("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(v), &kb)
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "?"
}

// run is a command's output, whatever its exit status (wrk -v exits 1).
func run(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
