package cache

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"uwsgo/internal/shm"
)

// newCache maps a cache of cfg in a fresh segment, with a clock the test sets.
func newCache(t *testing.T, cfg Config) (*Cache, *int64) {
	t.Helper()
	seg, err := shm.Create("cache-test", cfg.Size())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.File().Close() })
	c := Attach(cfg, seg, 0)
	now := int64(1_000_000)
	c.now = func() int64 { return now }
	return c, &now
}

func small(items int) Config {
	return Config{Name: "t", Items: items, BlockSize: 16, KeySize: 8}
}

func get(c *Cache, key string) string {
	v, ok := c.Get([]byte(key))
	if !ok {
		return "<absent>"
	}
	return string(v)
}

func keys(c *Cache) []string {
	var out []string
	for _, k := range c.Keys() {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

func TestParseSpec(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Config
	}{
		{"name=a,items=10", Config{Name: "a", Items: 10, BlockSize: DefaultBlockSize, KeySize: DefaultKeySize}},
		{"name=b,items=3,blocksize=64,keysize=16", Config{Name: "b", Items: 3, BlockSize: 64, KeySize: 16}},
		{"items=5, name=c ,maxitems=6", Config{Name: "c", Items: 6, BlockSize: DefaultBlockSize, KeySize: DefaultKeySize}},
		{"name=d,max_items=2", Config{Name: "d", Items: 2, BlockSize: DefaultBlockSize, KeySize: DefaultKeySize}},
	} {
		got, err := ParseSpec(c.spec)
		if err != nil || got != c.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	for _, spec := range []string{"", "name=a", "items=3", "name=a,items=0", "name=a,items=x", "name=a,items=3,bogus=1", "name=a,items=3,blocksize", "name=a,items=-2"} {
		if _, err := ParseSpec(spec); err == nil {
			t.Errorf("ParseSpec(%q) accepted", spec)
		}
	}
}

func TestSetGetUpdateDel(t *testing.T) {
	c, _ := newCache(t, small(4))
	if got := get(c, "k"); got != "<absent>" {
		t.Fatalf("empty cache: Get = %q", got)
	}
	if err := c.Set([]byte("k"), []byte("v1"), 0, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Set([]byte("k"), []byte("v2"), 0, false); !errors.Is(err, ErrExists) {
		t.Errorf("Set of an existing key without overwrite: %v, want ErrExists", err)
	}
	if got := get(c, "k"); got != "v1" {
		t.Errorf("after a refused Set: %q, want v1", got)
	}
	if err := c.Set([]byte("k"), []byte("v3"), 0, true); err != nil {
		t.Fatal(err)
	}
	if got := get(c, "k"); got != "v3" {
		t.Errorf("after an update: %q, want v3", got)
	}
	// A shorter value replaces a longer one entirely.
	c.Set([]byte("k"), []byte("a longer value"), 0, true)
	c.Set([]byte("k"), []byte("s"), 0, true)
	if got := get(c, "k"); got != "s" {
		t.Errorf("a short value after a long one reads %q", got)
	}
	if !c.Exists([]byte("k")) || c.Exists([]byte("x")) {
		t.Error("Exists is wrong")
	}
	// Get returns a copy.
	v, _ := c.Get([]byte("k"))
	v[0] = 'X'
	if got := get(c, "k"); got != "s" {
		t.Errorf("changing what Get returned changed the cache: %q", got)
	}
	if !c.Del([]byte("k")) || c.Del([]byte("k")) {
		t.Error("Del: want true then false")
	}
	if c.Exists([]byte("k")) || get(c, "k") != "<absent>" {
		t.Error("a deleted key is still there")
	}
	// An empty value is a value.
	if err := c.Set([]byte("e"), nil, 0, false); err != nil || get(c, "e") != "" {
		t.Errorf("empty value: %v %q", err, get(c, "e"))
	}
}

func TestLimits(t *testing.T) {
	c, _ := newCache(t, small(4))
	for _, x := range []struct {
		key, value string
		err        error
	}{
		{"12345678", "0123456789abcdef", nil}, // exactly the limits
		{"123456789", "v", ErrTooBig},
		{"k", "0123456789abcdefg", ErrTooBig},
		{"", "v", ErrTooBig},
	} {
		if err := c.Set([]byte(x.key), []byte(x.value), 0, true); !errors.Is(err, x.err) {
			t.Errorf("Set(%q, %d bytes) = %v, want %v", x.key, len(x.value), err, x.err)
		}
	}
	// A refused update leaves the old value.
	if err := c.Set([]byte("12345678"), bytes.Repeat([]byte("x"), 17), 0, true); !errors.Is(err, ErrTooBig) {
		t.Fatal(err)
	}
	if got := get(c, "12345678"); got != "0123456789abcdef" {
		t.Errorf("after a refused update: %q", got)
	}
}

func TestFull(t *testing.T) {
	c, _ := newCache(t, small(5))
	for i := 0; i < 5; i++ {
		if err := c.Set([]byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("v", i)), 0, false); err != nil {
			t.Fatalf("key %d of 5: %v", i, err)
		}
	}
	if err := c.Set([]byte("k5"), []byte("v5"), 0, false); !errors.Is(err, ErrFull) {
		t.Errorf("6th key in a cache of 5: %v, want ErrFull", err)
	}
	if err := c.Set([]byte("k5"), []byte("v5"), 0, true); !errors.Is(err, ErrFull) {
		t.Errorf("6th key by update: %v, want ErrFull", err)
	}
	if _, err := c.Math([]byte("n"), '+', 1, 0); !errors.Is(err, ErrFull) {
		t.Errorf("Math on a new key in a full cache: %v, want ErrFull", err)
	}
	for i := 0; i < 5; i++ {
		if got := get(c, fmt.Sprint("k", i)); got != fmt.Sprint("v", i) {
			t.Errorf("k%d = %q in a full cache", i, got)
		}
	}
	// Updating a held key works when full; deleting makes room.
	if err := c.Set([]byte("k2"), []byte("new"), 0, true); err != nil {
		t.Errorf("update in a full cache: %v", err)
	}
	c.Del([]byte("k3"))
	if err := c.Set([]byte("k5"), []byte("v5"), 0, false); err != nil {
		t.Errorf("Set after a Del in a full cache: %v", err)
	}
	if got := keys(c); fmt.Sprint(got) != "[k0 k1 k2 k4 k5]" {
		t.Errorf("keys: %v", got)
	}
	c.Clear()
	if got := keys(c); len(got) != 0 {
		t.Errorf("keys after Clear: %v", got)
	}
	for i := 0; i < 5; i++ {
		if err := c.Set([]byte(fmt.Sprint("n", i)), []byte("x"), 0, false); err != nil {
			t.Fatalf("after Clear, key %d: %v", i, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	c, now := newCache(t, small(3))
	c.Set([]byte("e"), []byte("soon"), 2, false)
	c.Set([]byte("f"), []byte("forever"), 0, false)
	*now += 1
	if get(c, "e") != "soon" || !c.Exists([]byte("e")) {
		t.Fatal("expired a second early")
	}
	*now += 1
	if got := get(c, "e"); got != "<absent>" || c.Exists([]byte("e")) {
		t.Errorf("2 s after Set(expires=2): %q", got)
	}
	if got := keys(c); fmt.Sprint(got) != "[f]" {
		t.Errorf("keys with one expired: %v", got)
	}
	if c.Del([]byte("e")) {
		t.Error("Del of an expired key reported true")
	}
	// An expired key is absent for Set without overwrite, and its slot is reused.
	c.Set([]byte("g"), []byte("1"), 1, false)
	*now += 5
	c.Set([]byte("h"), []byte("2"), 0, false) // 3 items: e and g expired, so this fits
	if err := c.Set([]byte("g"), []byte("again"), 0, false); err != nil {
		t.Errorf("Set of an expired key: %v", err)
	}
	if got := get(c, "g"); got != "again" {
		t.Errorf("g = %q", got)
	}
	if got := keys(c); fmt.Sprint(got) != "[f g h]" {
		t.Errorf("keys: %v", got)
	}
	// A cache full of expired items takes new ones.
	c.Clear()
	for i := 0; i < 3; i++ {
		c.Set([]byte(fmt.Sprint("x", i)), []byte("v"), 1, false)
	}
	*now += 2
	for i := 0; i < 3; i++ {
		if err := c.Set([]byte(fmt.Sprint("y", i)), []byte("v"), 0, false); err != nil {
			t.Errorf("new key %d over expired ones: %v", i, err)
		}
	}
}

func TestMath(t *testing.T) {
	c, now := newCache(t, small(4))
	for _, s := range []struct {
		op   byte
		n    int64
		want int64
	}{
		{'+', 5, 5}, {'+', 1, 6}, {'-', 10, -4}, {'*', -3, 12}, {'/', 5, 2}, {'*', 1 << 40, 2 << 40},
	} {
		v, err := c.Math([]byte("n"), s.op, s.n, 0)
		if err != nil || v != s.want {
			t.Errorf("Math %c %d = %d, %v; want %d", s.op, s.n, v, err, s.want)
		}
	}
	if v, ok := c.Get([]byte("n")); !ok || len(v) != 8 {
		t.Errorf("the number is stored as %d bytes, want 8", len(v))
	}
	if _, err := c.Math([]byte("n"), '/', 0, 0); err == nil {
		t.Error("division by zero accepted")
	}
	if v, _ := c.Math([]byte("n"), '+', 0, 0); v != 2<<40 {
		t.Errorf("a refused division changed the number to %d", v)
	}
	c.Set([]byte("s"), []byte("text"), 0, false)
	if _, err := c.Math([]byte("s"), '+', 1, 0); !errors.Is(err, ErrNotInt) {
		t.Errorf("Math on a 4-byte value: %v, want ErrNotInt", err)
	}
	if got := get(c, "s"); got != "text" {
		t.Errorf("refused Math changed the value to %q", got)
	}
	// With an expiry; an expired number starts again from 0.
	c.Math([]byte("e"), '+', 7, 1)
	*now += 2
	if v, _ := c.Math([]byte("e"), '+', 1, 0); v != 1 {
		t.Errorf("Math on an expired number gave %d, want 1", v)
	}
	// A cache whose blocks cannot hold 8 bytes refuses arithmetic.
	tiny, _ := newCache(t, Config{Name: "tiny", Items: 2, BlockSize: 4, KeySize: 8})
	if _, err := tiny.Math([]byte("n"), '+', 1, 0); err == nil {
		t.Error("Math in a cache of 4-byte blocks accepted")
	}
}

// uWSGI's cache_inc/dec/mul/div change an existing number without touching its expiry
// (plugins/python passes UWSGI_CACHE_FLAG_FIXEXPIRE; core/cache.c then leaves
// uci->expires alone): arithmetic with expires 0 does not make the key eternal.
func TestMathKeepsExpiry(t *testing.T) {
	c, now := newCache(t, small(4))
	if _, err := c.Math([]byte("n"), '+', 1, 5); err != nil {
		t.Fatal(err)
	}
	*now += 3
	if v, _ := c.Math([]byte("n"), '+', 1, 0); v != 2 {
		t.Fatalf("second increment: %d", v)
	}
	*now += 3 // 6 s after the number was made with expires=5
	if c.Exists([]byte("n")) {
		t.Errorf("an increment with expires 0 removed the number's expiry (uWSGI keeps it)")
	}
}

// collide returns n keys that start probing at the same slot of a cache of items.
func collide(items, n int) [][]byte {
	var out [][]byte
	first := -1
	for i := 0; len(out) < n; i++ {
		k := []byte(fmt.Sprint("c", i))
		h := hashOf(k) % items
		if first < 0 {
			first = h
		}
		if h == first {
			out = append(out, k)
		}
	}
	return out
}

func TestCollisions(t *testing.T) {
	const items = 3
	c, now := newCache(t, small(items))
	ks := collide(items, 4)
	for i, k := range ks[:3] {
		if err := c.Set(k, []byte{byte('a' + i)}, 0, false); err != nil {
			t.Fatalf("colliding key %d: %v", i, err)
		}
	}
	if err := c.Set(ks[3], []byte("d"), 0, false); !errors.Is(err, ErrFull) {
		t.Errorf("4th key in 3 slots: %v", err)
	}
	for i, k := range ks[:3] {
		if got := get(c, string(k)); got != string(rune('a'+i)) {
			t.Errorf("colliding key %d reads %q", i, got)
		}
	}
	// Deleting the first of the chain leaves the others findable, and no duplicate is
	// made when a later one is set again.
	c.Del(ks[0])
	if got := get(c, string(ks[2])); got != "c" {
		t.Errorf("after deleting the chain's head, its tail reads %q", got)
	}
	if err := c.Set(ks[2], []byte("C"), 0, false); !errors.Is(err, ErrExists) {
		t.Errorf("Set of a key further down the chain, past a deleted slot: %v, want ErrExists", err)
	}
	if err := c.Set(ks[2], []byte("C"), 0, true); err != nil {
		t.Fatal(err)
	}
	if got := keys(c); len(got) != 2 {
		t.Errorf("keys after updating past a hole: %v (a duplicate?)", got)
	}
	if !c.Del(ks[2]) || c.Exists(ks[2]) {
		t.Errorf("the updated key survived its Del (a duplicate?)")
	}
	// Expired middle of a chain: the tail stays findable.
	c.Clear()
	c.Set(ks[0], []byte("a"), 0, false)
	c.Set(ks[1], []byte("b"), 1, false)
	c.Set(ks[2], []byte("c"), 0, false)
	*now += 2
	if got := get(c, string(ks[2])); got != "c" {
		t.Errorf("past an expired slot the chain's tail reads %q", got)
	}
	if err := c.Set(ks[2], []byte("x"), 0, false); !errors.Is(err, ErrExists) {
		t.Errorf("Set of the tail past an expired slot: %v, want ErrExists", err)
	}
	if err := c.Set(ks[3], []byte("d"), 0, false); err != nil {
		t.Errorf("a new key into the expired slot: %v", err)
	}
	if got := keys(c); len(got) != 3 {
		t.Errorf("keys: %q", got)
	}
}

// Two mappings of one segment (as two workers have) see one cache, and concurrent
// arithmetic loses nothing.
func TestSharedAndConcurrent(t *testing.T) {
	cfg := small(8)
	seg, err := shm.Create("cache-test", cfg.Size())
	if err != nil {
		t.Fatal(err)
	}
	defer seg.File().Close()
	seg2, err := shm.Map(seg.File(), cfg.Size())
	if err != nil {
		t.Fatal(err)
	}
	a, b := Attach(cfg, seg, 0), Attach(cfg, seg2, 0)
	a.Set([]byte("k"), []byte("from a"), 0, false)
	if got := get(b, "k"); got != "from a" {
		t.Fatalf("the other mapping reads %q", got)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		c := a
		if i%2 == 1 {
			c = b
		}
		go func() {
			defer wg.Done()
			for j := 0; j < 500; j++ {
				c.Math([]byte("n"), '+', 1, 0)
			}
		}()
	}
	wg.Wait()
	if v, _ := a.Math([]byte("n"), '+', 0, 0); v != 4000 {
		t.Errorf("8 x 500 concurrent increments gave %d", v)
	}
}
