package master

import (
	"syscall"

	"uwsgo/internal/instance"
)

// reopenLog opens the log file again in the master and tells every child to do the same
// (SIGUSR2): each process writes to the file through its own descriptors.
func (m *Master) reopenLog(why string) {
	f, err := instance.ReopenLog(m.cfg)
	switch {
	case err != nil:
		m.log.Printf("master: %s: reopening the log file %s: %v", why, f, err)
		return
	case f == "":
		m.log.Printf("master: %s: no log file to reopen (the log is standard error; --logto FILE names one)", why)
		return
	}
	m.log.Printf("master: %s: reopened the log file %s", why, f)
	for p := range m.procs {
		p.process.Signal(syscall.SIGUSR2)
	}
}
