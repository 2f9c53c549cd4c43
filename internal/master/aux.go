package master

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"uwsgo/internal/child"
)

// aux is a mule or a spooler the options ask for: a process that loads the app like a
// worker but serves no requests. Its process (a proc of its role) is started with the
// workers and again whenever it exits, after a growing delay if it keeps dying.
type aux struct {
	role  child.Role
	id    int    // mule id (from 1) or spooler number
	arg   string // the mule's script ("" for none) or the spooler's directory
	proc  *proc  // the running process; nil between one and the next
	fails int    // exits soon after starting, in a row
}

// planAux lists the mules and spoolers the options ask for.
func (m *Master) planAux() error {
	for i, script := range m.cfg.Shared.Mules {
		m.aux = append(m.aux, &aux{role: child.Mule, id: i + 1, arg: script})
	}
	for i, dir := range m.cfg.Shared.Spoolers {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--spooler %s: %w", dir, err)
		}
		m.aux = append(m.aux, &aux{role: child.Spooler, id: i + 1, arg: dir})
	}
	return nil
}

func (m *Master) spawnAux(a *aux) {
	p := &proc{role: a.role, id: a.id, arg: a.arg, record: -1, spawned: time.Now()}
	if err := m.start(p); err != nil {
		m.log.Printf("master: starting %s: %v", p, err)
		return
	}
	a.proc = p
	if a.role == child.Spooler && a.id == 1 {
		m.shared.SpoolerPID.Store(int64(p.pid))
	}
	m.log.Printf("master: %s (pid %d) started%s", p, p.pid, map[bool]string{true: " for " + a.arg, false: ""}[a.arg != ""])
}

// onAuxExit respawns the mule or spooler whose process p exited.
func (m *Master) onAuxExit(p *proc, st *os.ProcessState) {
	var a *aux
	for _, x := range m.aux {
		if x.proc == p {
			a = x
		}
	}
	a.proc = nil
	if m.exiting != "" {
		m.log.Printf("master: %s (pid %d) %s", p, p.pid, describeExit(st))
		return
	}
	delay := time.Duration(0)
	if time.Since(p.spawned) < 5*time.Second && p.stopping == "" {
		a.fails++
		delay = backoff(a.fails)
	} else {
		a.fails = 0
	}
	m.log.Printf("master: %s (pid %d) %s: respawning it in %v", p, p.pid, describeExit(st), delay)
	time.AfterFunc(delay, func() { m.events <- event{aux: a} })
}

// stopAux signals every mule and spooler.
func (m *Master) stopAux(sig syscall.Signal, why string) {
	for _, a := range m.aux {
		if a.proc != nil {
			a.proc.stopping = why
			a.proc.process.Signal(sig)
		}
	}
}

// sendSignalAux hands a uWSGI signal to the mules or spoolers target names.
func (m *Master) sendSignalAux(msg child.Message, target string) int {
	var to []*proc
	for _, a := range m.aux {
		if a.proc == nil {
			continue
		}
		switch {
		case a.role == child.Spooler && (target == "spooler" || target == "spoolers"):
		case a.role == child.Mule && (target == "mules" || target == "mule" || target == "mule0"):
		case a.role == child.Mule && target == "mule"+strconv.Itoa(a.id):
		default:
			continue
		}
		to = append(to, a.proc)
	}
	if len(to) > 0 && (target == "mule" || target == "mule0") {
		m.nextMule++
		to = to[m.nextMule%len(to) : m.nextMule%len(to)+1]
	}
	for _, p := range to {
		p.ctl.Send(msg)
	}
	return len(to)
}

// sendMule hands a message to a mule: target "" is any mule (round robin), a number that
// mule, anything else a farm (round robin among its mules).
func (m *Master) sendMule(target string, data []byte) int {
	var to []*aux
	var farm bool
	for _, a := range m.aux {
		if a.role != child.Mule || a.proc == nil {
			continue
		}
		switch {
		case target == "" || target == "0":
			to = append(to, a)
		case target == strconv.Itoa(a.id):
			to = append(to, a)
		}
	}
	if target != "" && target != "0" && len(to) == 0 {
		farm = true
		for _, f := range m.cfg.Shared.Farms {
			if f.Name != target {
				continue
			}
			for _, id := range f.Mules {
				for _, a := range m.aux {
					if a.role == child.Mule && a.id == id && a.proc != nil {
						to = append(to, a)
					}
				}
			}
		}
	}
	if len(to) == 0 {
		return 0
	}
	m.nextMule++
	a := to[m.nextMule%len(to)]
	a.proc.ctl.Send(child.Message{Kind: child.MuleMessage, Data: data, Farm: farm})
	return 1
}

// wakeSpooler tells the spooler of dir that a job was written.
func (m *Master) wakeSpooler(dir string) {
	for _, a := range m.aux {
		if a.role == child.Spooler && a.proc != nil && (dir == "" || a.arg == dir) {
			a.proc.ctl.Send(child.Message{Kind: child.Wake})
		}
	}
}
