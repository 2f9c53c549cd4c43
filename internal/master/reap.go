package master

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// reapOrphans waits for the zombies nobody else waits for. Under pre-fork the master is a
// child subreaper (loader.go), so the processes an app or a daemon leaves behind become
// its children when their parent exits, as they would have become init's. Every process
// the master starts itself is waited for by a goroutine that reaps it at once, so a child
// that is still a zombie at the next tick is such an orphan.
func (m *Master) reapOrphans() {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := os.Getpid()
	zombies := map[int]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state := procParent(pid); ppid != self || state != "Z" {
			continue
		}
		if m.zombies[pid] {
			syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
		} else {
			zombies[pid] = true
		}
	}
	m.zombies = zombies
}

// procParent reads a process's parent and state ("R", "S", "Z"...) from /proc.
func procParent(pid int) (ppid int, state string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	// The command name, in parentheses, may hold spaces and parentheses itself.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0]
}
