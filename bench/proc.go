package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat (100 on every Linux
// that Debian ships).
const clockTicks = 100

// proc is a process the harness started, the leader of its own process group.
type proc struct {
	name    string
	cmd     *exec.Cmd
	pid     int
	started time.Time
	logPath string
	done    chan struct{} // closed once the process has been waited for
	state   *os.ProcessState
}

// procs is every process group started and not yet known to be gone, for the clean-up.
var procs = struct {
	sync.Mutex
	m map[int]*proc
}{m: map[int]*proc{}}

// startProc starts argv (prefixed with taskset when cpus is given) in a process group of
// its own, its output going to logPath.
func startProc(name string, argv, env []string, dir, cpus, logPath string) (*proc, error) {
	if cpus != "" {
		argv = append([]string{"/usr/bin/taskset", "-c", cpus}, argv...)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# %s\n", shellJoin(argv))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Pdeathsig: if the harness dies without its clean-up, the group leader goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	procs.Lock()
	defer procs.Unlock()
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p.pid = cmd.Process.Pid
	procs.m[p.pid] = p
	go func() {
		cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the group leader to stop (SIGTERM: every server here stops gracefully on it),
// waits up to grace, then kills whatever is left of the group and of the process tree
// (uwsgo's workers run in process groups of their own).
func (p *proc) stop(grace time.Duration) {
	var desc []procStat
	if t, err := readTree(p.pid); err == nil {
		desc = t.procs
	}
	if !p.exited() {
		syscall.Kill(p.pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	syscall.Kill(-p.pid, syscall.SIGKILL)
	for _, d := range desc {
		if st, err := readStat(d.pid); err == nil && st.startTime == d.startTime && d.pid != p.pid {
			syscall.Kill(d.pid, syscall.SIGKILL)
		}
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	procs.Lock()
	delete(procs.m, p.pid)
	procs.Unlock()
}

// killAll kills every process group still registered: the clean-up on any way out.
func killAll() {
	procs.Lock()
	var left []*proc
	for _, p := range procs.m {
		left = append(left, p)
	}
	procs.Unlock()
	for _, p := range left {
		p.stop(0)
	}
}

// logTail is the end of a process's log, for error messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return strings.TrimSpace(string(b))
}

// procStat is what the harness reads from /proc/PID/stat.
type procStat struct {
	pid, ppid int
	ticks     uint64 // utime + stime + cutime + cstime
	rssPages  int64
	startTime int64 // since boot, in clock ticks: tells a PID reused from the original
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return procStat{}, errors.New("short stat")
	}
	num := func(field int) int64 { // field as numbered in proc(5)
		v, _ := strconv.ParseInt(f[field-3], 10, 64)
		return v
	}
	return procStat{
		pid:       pid,
		ppid:      int(num(4)),
		ticks:     uint64(num(14) + num(15) + num(16) + num(17)),
		rssPages:  num(24),
		startTime: num(22),
	}, nil
}

// tree is the processes descending from a root (the root included), as one snapshot.
type tree struct {
	root  procStat
	procs []procStat
}

func readTree(root int) (tree, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return tree{}, err
	}
	all := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			all[pid] = st
		}
	}
	r, ok := all[root]
	if !ok {
		return tree{}, fmt.Errorf("process %d is gone", root)
	}
	t := tree{root: r}
	for pid, st := range all {
		for p, hops := pid, 0; p > 1 && hops < 64; hops++ {
			if p == root {
				t.procs = append(t.procs, st)
				break
			}
			p = all[p].ppid
		}
	}
	return t, nil
}

// cpuSeconds is the user+system time of the whole tree, including its reaped children.
func (t tree) cpuSeconds() float64 {
	var sum uint64
	for _, p := range t.procs {
		sum += p.ticks
	}
	return float64(sum) / clockTicks
}

// workerRSS is the resident memory of each worker: the root's children when it has any
// (a master, gunicorn's arbiter), else the root itself. private is the part no other
// process shares (smaps' Private_Clean + Private_Dirty): RSS also counts the pages of
// shared libraries, libpypy's ~40 MB of code among them, which every PyPy process maps
// once for all.
func (t tree) workerRSS() (perWorker, private []float64, total float64) {
	page := float64(os.Getpagesize())
	for _, p := range t.procs {
		mb := float64(p.rssPages) * page / (1 << 20)
		total += mb
		if p.pid != t.root.pid && p.ppid == t.root.pid {
			perWorker = append(perWorker, mb)
			private = append(private, privateMB(p.pid))
		}
	}
	if len(perWorker) == 0 {
		perWorker = []float64{float64(t.root.rssPages) * page / (1 << 20)}
		private = []float64{privateMB(t.root.pid)}
	}
	return perWorker, private, total
}

// privateMB reads a process's private resident memory from /proc/PID/smaps_rollup.
func privateMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	var kb float64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "Private_Clean:" || f[0] == "Private_Dirty:") {
			n, _ := strconv.ParseFloat(f[1], 64)
			kb += n
		}
	}
	return kb / 1024
}

// shellJoin quotes argv for a shell, for the record of the exact commands.
func shellJoin(argv []string) string {
	var out []string
	for _, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// cpuBusy is the busy time (everything but idle and iowait) of the given CPUs since boot,
// in seconds, from /proc/stat.
func cpuBusy(cpus []int) float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	want := map[string]bool{}
	for _, c := range cpus {
		want["cpu"+strconv.Itoa(c)] = true
	}
	var ticks int64
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 9 || !want[f[0]] {
			continue
		}
		// user nice system idle iowait irq softirq steal
		for i, v := range f[1:9] {
			if i == 3 || i == 4 {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
	}
	return float64(ticks) / clockTicks
}
