package master

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"uwsgo/internal/worker"
)

// aux is a mule or a spooler: a process that loads the app like a worker but serves no
// requests. It is respawned whenever it exits, after a growing delay if it keeps dying.
type aux struct {
	role     string // worker.RoleMule or worker.RoleSpooler
	id       int    // mule id (from 1) or spooler number
	arg      string // the mule's script ("" for none) or the spooler's directory
	process  *os.Process
	pid      int
	ctl      *os.File
	spawned  time.Time
	stopping bool
	fails    int
}

// auxEvent is an aux process's message or exit.
type auxEvent struct {
	a      *aux
	msg    *worker.ControlMessage
	exited *os.ProcessState
}

// planAux lists the mules and spoolers the options ask for.
func (m *Master) planAux() error {
	for i, script := range m.cfg.Shared.Mules {
		m.aux = append(m.aux, &aux{role: worker.RoleMule, id: i + 1, arg: script})
	}
	for i, dir := range m.cfg.Shared.Spoolers {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--spooler %s: %w", dir, err)
		}
		m.aux = append(m.aux, &aux{role: worker.RoleSpooler, id: i + 1, arg: dir})
	}
	return nil
}

func (m *Master) spawnAux(a *aux) {
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		m.log.Printf("master: %s %d: socketpair: %v", a.role, a.id, err)
		return
	}
	a.ctl = os.NewFile(uintptr(pair[0]), a.role+" control")
	child := os.NewFile(uintptr(pair[1]), "master control")
	defer child.Close()
	env := append(worker.ChildEnviron(m.cfg, a.id, -1, m.board.Records(), nil), worker.RoleEnv+"="+a.role+":"+a.arg)
	process, err := m.start(fmt.Sprintf("uwsgo %s %d", a.role, a.id), env, []uintptr{child.Fd(), m.board.File().Fd(), m.shared.Segment.File().Fd()})
	if err != nil {
		m.log.Printf("master: starting %s %d: %v", a.role, a.id, err)
		a.ctl.Close()
		return
	}
	a.process, a.pid, a.spawned, a.stopping = process, process.Pid, time.Now(), false
	if a.role == worker.RoleSpooler && a.id == 1 {
		m.shared.SpoolerPID.Store(int64(a.pid))
	}
	m.log.Printf("master: %s %d (pid %d) started%s", a.role, a.id, a.pid, map[bool]string{true: " for " + a.arg, false: ""}[a.arg != ""])
	go func() {
		sc := newScanner(a.ctl)
		for sc.Scan() {
			var msg worker.ControlMessage
			if json.Unmarshal(sc.Bytes(), &msg) == nil {
				m.auxEvents <- auxEvent{a: a, msg: &msg}
			}
		}
	}()
	go func() {
		st, _ := process.Wait()
		m.auxEvents <- auxEvent{a: a, exited: st}
	}()
}

func (m *Master) onAuxEvent(e auxEvent) {
	a := e.a
	if e.msg != nil {
		m.onMessage(nil, *e.msg)
		return
	}
	a.ctl.Close()
	a.process = nil
	if m.exiting != "" {
		m.log.Printf("master: %s %d (pid %d) %s", a.role, a.id, a.pid, describeExit(e.exited))
		return
	}
	delay := time.Duration(0)
	if time.Since(a.spawned) < 5*time.Second && !a.stopping {
		a.fails++
		delay = backoff(a.fails)
	} else {
		a.fails = 0
	}
	m.log.Printf("master: %s %d (pid %d) %s: respawning it in %v", a.role, a.id, a.pid, describeExit(e.exited), delay)
	time.AfterFunc(delay, func() { m.auxEvents <- auxEvent{a: a} })
}

// auxAlive reports whether any mule or spooler still runs.
func (m *Master) auxAlive() bool {
	for _, a := range m.aux {
		if a.process != nil {
			return true
		}
	}
	return false
}

// stopAux signals every mule and spooler.
func (m *Master) stopAux(sig syscall.Signal) {
	for _, a := range m.aux {
		if a.process != nil {
			a.stopping = true
			a.process.Signal(sig)
		}
	}
}

// sendMule hands a message to a mule: target "" is any mule (round robin), a number that
// mule, anything else a farm (round robin among its mules).
func (m *Master) sendMule(target string, data []byte) int {
	var to []*aux
	var farm bool
	for _, a := range m.aux {
		if a.role != worker.RoleMule || a.process == nil {
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
					if a.role == worker.RoleMule && a.id == id && a.process != nil {
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
	b, _ := json.Marshal(worker.ControlMessage{Type: "mulemsg", Data: data, Farm: farm})
	a.ctl.Write(append(b, '\n'))
	return 1
}

// wakeSpooler tells the spooler of dir that a job was written.
func (m *Master) wakeSpooler(dir string) {
	b, _ := json.Marshal(worker.ControlMessage{Type: "wake"})
	for _, a := range m.aux {
		if a.role == worker.RoleSpooler && a.process != nil && (dir == "" || a.arg == dir) {
			a.ctl.Write(append(b, '\n'))
		}
	}
}

// newScanner reads control lines of any size a message may have.
func newScanner(f *os.File) *bufio.Scanner {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return sc
}
