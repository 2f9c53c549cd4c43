package shared

import (
	"uwsgo/internal/shm"
)

// UwsgiSignalCount is how many uWSGI signals exist (0..255).
const UwsgiSignalCount = 256

const targetSize = 64

const signalTableSize = shm.LockSize + UwsgiSignalCount*targetSize

// UwsgiSignalTable is, per uWSGI signal, the target it was registered with ("" when not): in
// shared memory, so that any process can tell whether a signal is registered and the
// master can route it, without asking anyone.
type UwsgiSignalTable struct {
	lock *shm.Lock
	mem  []byte
}

// Register records target for num; the first registration wins, as every worker of a
// lazy-apps instance runs the same registering code. It reports whether num is now
// registered with this target.
func (t *UwsgiSignalTable) Register(num int, target string) bool {
	if num < 0 || num >= UwsgiSignalCount || target == "" || len(target) >= targetSize {
		return false
	}
	t.lock.Lock()
	defer t.lock.Unlock()
	slot := t.mem[num*targetSize : (num+1)*targetSize]
	if slot[0] != 0 {
		return cString(slot) == target
	}
	copy(slot, target)
	slot[len(target)] = 0
	return true
}

// Target is num's target, "" when unregistered.
func (t *UwsgiSignalTable) Target(num int) string {
	if num < 0 || num >= UwsgiSignalCount {
		return ""
	}
	t.lock.Lock()
	defer t.lock.Unlock()
	return cString(t.mem[num*targetSize : (num+1)*targetSize])
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
