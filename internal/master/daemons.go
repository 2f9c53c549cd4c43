package master

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is an --attach-daemon command: an external process (a queue consumer, a
// scheduler) that the master starts through /bin/sh, starts again whenever it exits
// (after a growing delay if it keeps dying at once), and stops with the instance. A
// reload of the workers leaves it running: it does not run the app's code.
//
// A --smart-attach-daemon goes to the background itself and names its process in a
// pidfile: the master follows that pid instead of the command's own process, starts the
// command again when the pid is gone, and sends it SIGTERM when the instance stops.
type daemon struct {
	command  string
	pidfile  string // smart daemons only
	process  *os.Process
	pid      int
	started  time.Time
	fails    int
	stopping bool
	killAt   time.Time // when stopping: SIGKILL if it is still there
}

// daemonEvent is a daemon's exit (st set) or its delayed start coming due (st nil).
type daemonEvent struct {
	d  *daemon
	st *os.ProcessState
}

func (m *Master) planDaemons() {
	for _, c := range m.cfg.Processes.AttachDaemon {
		m.daemons = append(m.daemons, &daemon{command: c})
	}
	for _, c := range m.cfg.Processes.SmartAttachDaemon {
		pidfile, command, _ := strings.Cut(c, " ")
		m.daemons = append(m.daemons, &daemon{command: strings.TrimSpace(command), pidfile: pidfile})
	}
}

// smartPID is the live process a smart daemon's pidfile names, 0 if none.
func smartPID(pidfile string) int {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	// A daemon is not its parent's child: dead, it may stay a zombie where nothing
	// reaps orphans (a container's init), and a zombie still takes signals.
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return 0
		}
	}
	return pid
}

// checkSmartDaemons starts again the smart daemons whose pid is gone, once their
// command has finished starting them.
func (m *Master) checkSmartDaemons(now time.Time) {
	for _, d := range m.daemons {
		// A daemon may write its pidfile a moment after the command returns.
		if d.pidfile == "" || d.process != nil || d.stopping || d.started.IsZero() ||
			now.Sub(d.started) < 2*time.Second || smartPID(d.pidfile) != 0 {
			continue
		}
		if now.Sub(d.started) < 10*time.Second {
			d.fails++
		} else {
			d.fails = 0
		}
		delay := backoff(d.fails)
		m.log.Printf("master: smart daemon %q: no live process in %s: starting it again in %v", d.command, d.pidfile, delay)
		d.started = time.Time{} // until the delayed start
		time.AfterFunc(delay, func() { m.daemonEvents <- daemonEvent{d: d} })
	}
}

func (m *Master) startDaemon(d *daemon) {
	p, err := startShell(d.command)
	if err != nil {
		m.log.Printf("master: --attach-daemon %q: %v", d.command, err)
		return
	}
	d.process, d.pid, d.started, d.stopping = p, p.Pid, time.Now(), false
	m.log.Printf("master: daemon %q (pid %d) started", d.command, d.pid)
	go func() {
		st, _ := p.Wait()
		m.daemonEvents <- daemonEvent{d: d, st: st}
	}()
}

func (m *Master) onDaemonEvent(e daemonEvent) {
	d := e.d
	if e.st == nil {
		if m.exiting == "" {
			m.startDaemon(d)
		}
		return
	}
	d.process = nil
	if d.pidfile != "" {
		// The command's own process is done once the daemon is in the background;
		// checkSmartDaemons follows the pidfile from here.
		if !e.st.Success() {
			m.log.Printf("master: smart daemon %q (pid %d) %s", d.command, d.pid, describeExit(e.st))
		}
		return
	}
	if m.exiting != "" {
		m.log.Printf("master: daemon %q (pid %d) %s", d.command, d.pid, describeExit(e.st))
		return
	}
	delay := time.Duration(0)
	if time.Since(d.started) < 5*time.Second {
		d.fails++
		delay = backoff(d.fails)
	} else {
		d.fails = 0
	}
	m.log.Printf("master: daemon %q (pid %d) %s: starting it again in %v", d.command, d.pid, describeExit(e.st), delay)
	time.AfterFunc(delay, func() { m.daemonEvents <- daemonEvent{d: d} })
}

func (m *Master) daemonsAlive() bool {
	for _, d := range m.daemons {
		if d.process != nil {
			return true
		}
	}
	return false
}

// stopDaemons asks every daemon to stop (SIGTERM) and gives it the workers' mercy time.
func (m *Master) stopDaemons() {
	mercy := m.cfg.Processes.ReloadMercy
	for _, d := range m.daemons {
		if d.pidfile != "" && !d.stopping {
			d.stopping = true
			if pid := smartPID(d.pidfile); pid != 0 {
				m.log.Printf("master: stopping smart daemon %q (pid %d)", d.command, pid)
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
		if d.process != nil && !d.stopping {
			d.stopping, d.killAt = true, time.Now().Add(mercy)
			d.process.Signal(syscall.SIGTERM)
		}
	}
}

// killLateDaemons kills the daemons still there after their mercy time.
func (m *Master) killLateDaemons(now time.Time) {
	for _, d := range m.daemons {
		if d.process != nil && d.stopping && now.After(d.killAt) {
			m.log.Printf("master: daemon %q (pid %d) did not stop within the mercy time: killing it", d.command, d.pid)
			d.process.Kill()
			d.killAt = now.Add(time.Hour)
		}
	}
}

// startShell runs command through /bin/sh for --attach-daemon and --cron: its output is
// the instance's log, and it dies with the master even if the master is killed outright.
func startShell(command string) (*os.Process, error) {
	attr := &os.ProcAttr{
		Files: []*os.File{nil, os.Stderr, os.Stderr},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	return os.StartProcess("/bin/sh", []string{"/bin/sh", "-c", command}, attr)
}
