package master

import (
	"time"
)

// --cheaper is uWSGI's adaptive process spawning with its default "spare" algorithm:
// start --cheaper-initial workers (else --cheaper), add --cheaper-step more while every
// worker is busy, up to --processes, and stop the last one once it has been idle for
// --cheaper-overload seconds, down to --cheaper. Worker ids stay 1 to active, so a
// worker stopped for being idle is always the newest one.

// initialWorkers is how many workers start: all of them without --cheaper.
func (m *Master) initialWorkers() int {
	if m.cfg.Processes.Cheaper == 0 {
		return m.n
	}
	if n := m.cfg.Processes.CheaperInitial; n > 0 {
		return min(int(n), m.n)
	}
	return m.cfg.Processes.Cheaper
}

// busy reports whether p runs a request now.
func (m *Master) busy(p *proc) bool {
	for t := 0; t < m.board.Threads(); t++ {
		if m.board.Core(p.record, t).Started.Load() != 0 {
			return true
		}
	}
	return false
}

func (m *Master) cheaper(now time.Time) {
	least := m.cfg.Processes.Cheaper
	if least == 0 || m.exiting != "" || m.reloading {
		return
	}
	busy := 0
	for id := 1; id <= m.active; id++ {
		p := m.current(id)
		switch {
		case p == nil || !p.ready:
			// Starting: no decision until it serves.
			return
		case m.busy(p):
			busy++
			delete(m.idleSince, id)
		case m.idleSince[id].IsZero():
			m.idleSince[id] = now
		}
	}
	if busy == m.active && m.active < m.n {
		add := min(m.cfg.Processes.CheaperStep, m.n-m.active)
		m.log.Printf("master: cheaper: all %d workers busy: starting %d more (at most %d)", m.active, add, m.n)
		for ; add > 0; add-- {
			m.active++
			delete(m.idleSince, m.active)
			m.spawn(m.active, nil)
		}
		return
	}
	overload := m.cfg.Processes.CheaperOverload
	if since := m.idleSince[m.active]; m.active > least && !since.IsZero() && now.Sub(since) >= overload {
		p := m.current(m.active)
		m.active--
		m.stop(p, "cheaper: idle for "+now.Sub(since).Round(time.Second).String())
		m.notifyStatus()
	}
}
