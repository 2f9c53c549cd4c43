// Package shm is the memory every process of an instance shares, and the folder of
// everything that lives in it. This package has the building blocks: Segment (a memfd
// mapped shared, created by the master or the single process before any child starts,
// inherited by each child as a descriptor) and Lock (a robust futex lock between
// processes). The packages below it each lay one kind of state on a segment:
//
//	scoreboard   its own segment, sized by the processes: one record per worker process
//	             (counters, state) and per thread (the running request, since when)
//	shared       the shared state's segment, laid out from the options:
//	             user locks | uWSGI signal table | spooler pid | caches | shared areas | metrics
//	cache        uWSGI's --cache2/--cache, a fixed-size hash table behind one lock
//	sharedarea   uWSGI's --sharedarea pages, each area behind its own lock
//	metrics      uWSGI's --metric numbers, read by the stats server
//
// Every process derives the same layout from the same options, so nothing but the
// descriptor is passed (see package child for which descriptor is which).
//
// The state lives outside any worker, so it survives a worker's death and respawn; locks
// are robust: a lock whose holder died is taken over by the next process that wants it.
package shm

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Segment is a mapped shared segment.
type Segment struct {
	mem  []byte
	file *os.File
}

// Create makes a segment of size bytes, zeroed.
func Create(name string, size int) (*Segment, error) {
	size = max(size, 4096)
	fd, err := unix.MemfdCreate(name, 0)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	return Map(f, size)
}

// Map maps an inherited segment.
func Map(f *os.File, size int) (*Segment, error) {
	size = max(size, 4096)
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return &Segment{mem: mem, file: f}, nil
}

// File is the descriptor to hand to a worker.
func (s *Segment) File() *os.File { return s.file }

// Bytes is the segment's memory at [off, off+n).
func (s *Segment) Bytes(off, n int) []byte { return s.mem[off : off+n : off+n] }

// Int64 is the 8-byte word at off (8-aligned).
func (s *Segment) Int64(off int) *atomic.Int64 { return (*atomic.Int64)(unsafe.Pointer(&s.mem[off])) }

// Lock is the lock at off (see LockSize).
func (s *Segment) Lock(off int) *Lock { return (*Lock)(unsafe.Pointer(&s.mem[off])) }

// LockSize is the bytes a Lock takes; locks go on their own cache line.
const LockSize = 64

// Lock is a mutex between processes: a futex word holding the pid of the process that
// holds it (0: free). Any thread of the holding process may unlock it, as with uWSGI's
// locks. A waiter that finds the holder's process gone takes the lock over, so a worker
// killed while holding a lock cannot deadlock the others.
type Lock struct {
	word atomic.Int32
	_    [LockSize - 4]byte
}

var pid = int32(os.Getpid())

// futex(2) operations on a word shared between processes (not the _PRIVATE variants).
const (
	futexWait = 0
	futexWake = 1
)

// Lock waits for the lock.
func (l *Lock) Lock() {
	for {
		if l.word.CompareAndSwap(0, pid) {
			return
		}
		holder := l.word.Load()
		if holder == 0 {
			continue
		}
		if !alive(holder) {
			l.word.CompareAndSwap(holder, 0)
			continue
		}
		// Sleep until the word changes, at most a while: the holder may die without
		// waking anyone.
		ts := unix.NsecToTimespec(int64(100 * time.Millisecond))
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&l.word)), futexWait, uintptr(holder), uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
}

// TryLock takes the lock if it is free (or its holder is dead).
func (l *Lock) TryLock() bool {
	for {
		if l.word.CompareAndSwap(0, pid) {
			return true
		}
		holder := l.word.Load()
		if holder == 0 {
			continue
		}
		if alive(holder) {
			return false
		}
		l.word.CompareAndSwap(holder, 0)
	}
}

// Unlock releases the lock and wakes one waiter. Unlocking a lock this process does not
// hold does nothing and reports false.
func (l *Lock) Unlock() bool {
	if !l.word.CompareAndSwap(pid, 0) {
		return false
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&l.word)), futexWake, 1, 0, 0, 0)
	return true
}

// Locked reports whether a live process holds the lock.
func (l *Lock) Locked() bool {
	h := l.word.Load()
	return h != 0 && alive(h)
}

// alive says whether process p exists. The master reaps workers at once, so a dead holder
// is not kept as a zombie; a recycled pid would look alive until it exits too.
func alive(p int32) bool {
	err := syscall.Kill(int(p), 0)
	return err == nil || err == syscall.EPERM
}
