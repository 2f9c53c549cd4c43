// Package cache is uWSGI's cache (--cache2) in shared memory: a fixed number of items of
// a fixed largest size, so it can live in the segment every worker maps. Keys are found
// by open addressing (linear probing) from their hash; a lock per cache makes every
// operation atomic across workers and threads. Items may expire; an expired item is
// absent for readers and its slot is reused by writers. A full cache refuses new keys
// and never touches the ones it holds.
package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"uwsgo/internal/shm"
)

// Config is one --cache2 (or legacy --cache) option.
type Config struct {
	Name      string
	Items     int
	BlockSize int // largest value
	KeySize   int // largest key
}

// Defaults as in uWSGI.
const (
	DefaultBlockSize = 65536
	DefaultKeySize   = 2048
)

// ParseSpec reads "name=NAME,items=N[,blocksize=B][,keysize=K]".
func ParseSpec(spec string) (Config, error) {
	c := Config{BlockSize: DefaultBlockSize, KeySize: DefaultKeySize}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return c, fmt.Errorf("--cache2 %s: %q is not key=value", spec, kv)
		}
		var n int
		var err error
		if k != "name" {
			if n, err = strconv.Atoi(v); err != nil || n <= 0 {
				return c, fmt.Errorf("--cache2 %s: %s wants a positive number, got %q", spec, k, v)
			}
		}
		switch k {
		case "name":
			c.Name = v
		case "items", "max_items", "maxitems":
			c.Items = n
		case "blocksize":
			c.BlockSize = n
		case "keysize":
			c.KeySize = n
		default:
			return c, fmt.Errorf("--cache2 %s: unknown key %q (known: name, items, blocksize, keysize)", spec, k)
		}
	}
	if c.Name == "" || c.Items == 0 {
		return c, fmt.Errorf("--cache2 %s: name= and items= are required", spec)
	}
	return c, nil
}

// slot header: state u32, key length u32, value length u32, pad u32, expires i64 (unix s, 0: never)
const slotHeader = 24

const (
	empty   = 0
	used    = 1
	deleted = 2
)

func (c Config) slotSize() int { return (slotHeader + c.KeySize + c.BlockSize + 7) &^ 7 }

// Size is the bytes the cache takes in the segment (its lock included).
func (c Config) Size() int { return shm.LockSize + c.Items*c.slotSize() }

// Cache is a mapped cache.
type Cache struct {
	Config
	lock *shm.Lock
	mem  []byte
	now  func() int64
}

// Errors of Set.
var (
	ErrExists  = errors.New("the key exists")
	ErrFull    = errors.New("the cache is full")
	ErrTooBig  = errors.New("key or value larger than the cache allows")
	ErrMissing = errors.New("no such key")
	ErrNotInt  = errors.New("the value is not a 64-bit number")
)

// Attach maps cache c at off in seg.
func Attach(c Config, seg *shm.Segment, off int) *Cache {
	return &Cache{Config: c, lock: seg.Lock(off), mem: seg.Bytes(off+shm.LockSize, c.Items*c.slotSize()), now: func() int64 { return time.Now().Unix() }}
}

func (c *Cache) slot(i int) []byte {
	n := c.slotSize()
	return c.mem[i*n : (i+1)*n]
}

func hashOf(key []byte) int {
	h := fnv.New64a()
	h.Write(key)
	return int(h.Sum64() >> 1)
}

func (c *Cache) live(s []byte, now int64) bool {
	if binary.LittleEndian.Uint32(s) != used {
		return false
	}
	exp := int64(binary.LittleEndian.Uint64(s[16:]))
	return exp == 0 || exp > now
}

func (c *Cache) keyOf(s []byte) []byte {
	return s[slotHeader : slotHeader+int(binary.LittleEndian.Uint32(s[4:]))]
}

// find returns the slot of key, or -1; and the first slot a new key may take (-1: full).
func (c *Cache) find(key []byte, now int64) (at, free int) {
	at, free = -1, -1
	start := hashOf(key) % c.Items
	for i := 0; i < c.Items; i++ {
		j := (start + i) % c.Items
		s := c.slot(j)
		switch st := binary.LittleEndian.Uint32(s); {
		case st == empty:
			if free < 0 {
				free = j
			}
			return -1, free
		case st == used && string(c.keyOf(s)) == string(key):
			if c.live(s, now) {
				return j, free
			}
			// Expired: the key is gone, its slot is the place to put it back.
			binary.LittleEndian.PutUint32(s, deleted)
			if free < 0 {
				free = j
			}
			return -1, free
		case st == deleted || !c.live(s, now):
			if free < 0 {
				free = j
			}
		}
	}
	return -1, free
}

// Get returns a copy of key's value.
func (c *Cache) Get(key []byte) ([]byte, bool) {
	c.lock.Lock()
	defer c.lock.Unlock()
	at, _ := c.find(key, c.now())
	if at < 0 {
		return nil, false
	}
	s := c.slot(at)
	n := int(binary.LittleEndian.Uint32(s[8:]))
	v := make([]byte, n) // never nil: an empty value is not a missing one
	copy(v, s[slotHeader+c.KeySize:])
	return v, true
}

// Exists reports whether key is there.
func (c *Cache) Exists(key []byte) bool {
	c.lock.Lock()
	defer c.lock.Unlock()
	at, _ := c.find(key, c.now())
	return at >= 0
}

// Set stores value under key for expires seconds (0: for ever). Without overwrite an
// existing key is refused (uWSGI's cache_set); with it, replaced (cache_update).
func (c *Cache) Set(key, value []byte, expires int64, overwrite bool) error {
	if len(key) == 0 || len(key) > c.KeySize || len(value) > c.BlockSize {
		return ErrTooBig
	}
	c.lock.Lock()
	defer c.lock.Unlock()
	now := c.now()
	at, free := c.find(key, now)
	switch {
	case at >= 0 && !overwrite:
		return ErrExists
	case at < 0 && free < 0:
		return ErrFull
	case at < 0:
		at = free
	}
	c.store(c.slot(at), key, value, expires, now)
	return nil
}

func (c *Cache) store(s, key, value []byte, expires, now int64) {
	binary.LittleEndian.PutUint32(s[4:], uint32(len(key)))
	binary.LittleEndian.PutUint32(s[8:], uint32(len(value)))
	var exp int64
	if expires > 0 {
		exp = now + expires
	}
	binary.LittleEndian.PutUint64(s[16:], uint64(exp))
	copy(s[slotHeader:], key)
	copy(s[slotHeader+c.KeySize:], value)
	binary.LittleEndian.PutUint32(s, used)
}

// Del removes key.
func (c *Cache) Del(key []byte) bool {
	c.lock.Lock()
	defer c.lock.Unlock()
	at, _ := c.find(key, c.now())
	if at < 0 {
		return false
	}
	binary.LittleEndian.PutUint32(c.slot(at), deleted)
	return true
}

// Clear removes every key.
func (c *Cache) Clear() {
	c.lock.Lock()
	defer c.lock.Unlock()
	for i := 0; i < c.Items; i++ {
		binary.LittleEndian.PutUint32(c.slot(i), empty)
	}
}

// Keys lists the live keys.
func (c *Cache) Keys() [][]byte {
	c.lock.Lock()
	defer c.lock.Unlock()
	now := c.now()
	var keys [][]byte
	for i := 0; i < c.Items; i++ {
		if s := c.slot(i); c.live(s, now) {
			keys = append(keys, append([]byte(nil), c.keyOf(s)...))
		}
	}
	return keys
}

// Math applies op to key's 64-bit value (uWSGI's cache_inc/dec/mul/div: the value is
// 8 bytes in the machine's order, as uWSGI stores an int64), creating it from 0 (with
// expires) when absent; an existing key keeps its expiry, as uWSGI's FIXEXPIRE does.
func (c *Cache) Math(key []byte, op byte, n int64, expires int64) (int64, error) {
	if len(key) == 0 || len(key) > c.KeySize || c.BlockSize < 8 {
		return 0, ErrTooBig
	}
	c.lock.Lock()
	defer c.lock.Unlock()
	now := c.now()
	at, free := c.find(key, now)
	var v int64
	existing := at >= 0
	if existing {
		s := c.slot(at)
		if binary.LittleEndian.Uint32(s[8:]) != 8 {
			return 0, ErrNotInt
		}
		v = int64(binary.NativeEndian.Uint64(s[slotHeader+c.KeySize:]))
	} else if free < 0 {
		return 0, ErrFull
	} else {
		at = free
	}
	switch op {
	case '+':
		v += n
	case '-':
		v -= n
	case '*':
		v *= n
	case '/':
		if n == 0 {
			return 0, errors.New("division by zero")
		}
		v /= n
	}
	s := c.slot(at)
	if existing {
		binary.NativeEndian.PutUint64(s[slotHeader+c.KeySize:], uint64(v))
		return v, nil
	}
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], uint64(v))
	c.store(s, key, b[:], expires, now)
	return v, nil
}
