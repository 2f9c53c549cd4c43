package master

import (
	"os"
	"syscall"
	"time"
)

// daemon is an --attach-daemon command: an external process (a queue consumer, a
// scheduler) that the master starts through /bin/sh, starts again whenever it exits
// (after a growing delay if it keeps dying at once), and stops with the instance. A
// reload of the workers leaves it running: it does not run the app's code.
type daemon struct {
	command  string
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
	for _, c := range m.cfg.All("attach-daemon") {
		m.daemons = append(m.daemons, &daemon{command: c})
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
	mercy := time.Duration(m.cfg.Int("worker-reload-mercy")) * time.Second
	for _, d := range m.daemons {
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
