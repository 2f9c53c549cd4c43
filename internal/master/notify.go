package master

import (
	"fmt"

	"uwsgo/internal/child"
	"uwsgo/internal/systemd"
)

// What systemd hears (Type=notify): READY=1 once every worker accepts; RELOADING=1 when a
// reload starts and READY=1 again once every replacement accepts; STOPPING=1 when a stop
// starts; and a STATUS= line (systemctl status shows it) whenever the number of ready
// workers changes.

func (m *Master) notify(lines ...string) {
	if err := m.in.Notify.Notify(lines...); err != nil {
		m.log.Printf("master: telling systemd %q: %v", lines, err)
	}
}

// notifyStatus sends the STATUS= line if it changed since the last one.
func (m *Master) notifyStatus() {
	if s := m.statusLine(); s != m.lastStatus {
		m.lastStatus = s
		m.notify("STATUS=" + s)
	}
}

func (m *Master) statusLine() string {
	ready, left := 0, 0
	for p := range m.procs {
		if p.role == child.Worker {
			left++
		}
	}
	for id := 1; id <= m.active; id++ {
		if p := m.current(id); p != nil && p.ready {
			ready++
		}
	}
	switch {
	case m.exiting != "":
		return fmt.Sprintf("stopping (%s): %d worker(s) left", m.exiting, left)
	case m.reloading:
		return fmt.Sprintf("reloading: %d of %d workers ready", ready, m.active)
	}
	return fmt.Sprintf("%d of %d workers ready, %d threads each", ready, m.active, m.cfg.Processes.Threads)
}

// notifyReady tells systemd every worker accepts: start-up or a reload is done.
func (m *Master) notifyReady() {
	m.reloading = false
	m.lastStatus = m.statusLine()
	m.notify("READY=1", "STATUS="+m.lastStatus)
}

// reloadStarts tells systemd a reload began; onReady says when it ends.
func (m *Master) reloadStarts() {
	m.reloading = true
	m.lastStatus = m.statusLine()
	m.notify(systemd.Reloading(m.lastStatus)...)
}
