// Package sharedarea is uWSGI's --sharedarea: pages of memory every worker reads and
// writes, in the instance's shared segment, each area behind its own lock.
package sharedarea

import (
	"encoding/binary"
	"errors"

	"uwsgo/internal/shm"
)

// PageSize is the unit of --sharedarea N.
const PageSize = 4096

// Size is the bytes an area of pages pages takes (its lock included).
func Size(pages int) int { return shm.LockSize + pages*PageSize }

// Area is one mapped shared area.
type Area struct {
	lock *shm.Lock
	mem  []byte
}

// ErrRange is an access outside the area.
var ErrRange = errors.New("outside the shared area")

// Attach maps an area of pages pages at off in seg.
func Attach(seg *shm.Segment, off, pages int) *Area {
	return &Area{lock: seg.Lock(off), mem: seg.Bytes(off+shm.LockSize, pages*PageSize)}
}

// Len is the area's size in bytes.
func (a *Area) Len() int { return len(a.mem) }

// Read copies n bytes from pos (n 0: to the end).
func (a *Area) Read(pos, n int) ([]byte, error) {
	if n == 0 {
		n = len(a.mem) - pos
	}
	if pos < 0 || n < 0 || pos+n > len(a.mem) {
		return nil, ErrRange
	}
	a.lock.Lock()
	defer a.lock.Unlock()
	b := make([]byte, n) // never nil: nothing to read is b"", not None
	copy(b, a.mem[pos:pos+n])
	return b, nil
}

// Write copies data at pos.
func (a *Area) Write(pos int, data []byte) error {
	if pos < 0 || pos+len(data) > len(a.mem) {
		return ErrRange
	}
	a.lock.Lock()
	defer a.lock.Unlock()
	copy(a.mem[pos:], data)
	return nil
}

// AddLong adds delta to the 64-bit number at pos (native, little-endian order as uWSGI on
// x86 keeps it) and returns the result; delta 0 reads it.
func (a *Area) AddLong(pos int, delta int64) (int64, error) {
	if pos < 0 || pos+8 > len(a.mem) {
		return 0, ErrRange
	}
	a.lock.Lock()
	defer a.lock.Unlock()
	v := int64(binary.LittleEndian.Uint64(a.mem[pos:])) + delta
	binary.LittleEndian.PutUint64(a.mem[pos:], uint64(v))
	return v, nil
}

// WriteLong stores v at pos.
func (a *Area) WriteLong(pos int, v int64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	return a.Write(pos, b[:])
}
