package e2e

// uWSGI's caches (--cache2, legacy --cache): every operation, limits, expiry, and the
// contents shared by the workers and kept across a worker's death.

import (
	"strings"
	"testing"
	"time"
)

// umodCacheArgs are two caches: c1 of 10 items of at most 64 bytes, c2 of 10 items.
var umodCacheArgs = []string{"--cache2", "name=c1,items=10,blocksize=64", "--cache2", "name=c2,items=10"}

func TestUwsgiModCacheOperations(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	steps := []struct{ code, want string }{
		{"out = uwsgi.cache_get('k', 'c1')", "None"},
		{"out = uwsgi.cache_exists('k', 'c1')", "None"},
		{"out = uwsgi.cache_set('k', b'v1', 0, 'c1')", "True"},
		{"out = uwsgi.cache_get('k', 'c1')", "b'v1'"},
		{"out = uwsgi.cache_exists('k', 'c1')", "True"},
		// set on an existing key: None, value unchanged
		{"out = uwsgi.cache_set('k', b'v2', 0, 'c1')", "None"},
		{"out = uwsgi.cache_get('k', 'c1')", "b'v1'"},
		// update overwrites, and creates
		{"out = uwsgi.cache_update('k', b'v3', 0, 'c1')", "True"},
		{"out = uwsgi.cache_get('k', 'c1')", "b'v3'"},
		{"out = uwsgi.cache_update('new', b'n', 0, 'c1')", "True"},
		{"out = uwsgi.cache_get('new', 'c1')", "b'n'"},
		// the caches are separate
		{"out = uwsgi.cache_get('k', 'c2')", "None"},
		{"out = uwsgi.cache_set('k', 'in c2', 0, 'c2')", "True"},
		{"out = [uwsgi.cache_get('k', 'c1'), uwsgi.cache_get('k', 'c2')]", "[b'v3', b'in c2']"},
		// keys
		{"out = sorted(uwsgi.cache_keys('c1'))", "[b'k', b'new']"},
		{"out = uwsgi.cache_keys('c2')", "[b'k']"},
		// del
		{"out = uwsgi.cache_del('k', 'c1')", "True"},
		{"out = [uwsgi.cache_get('k', 'c1'), uwsgi.cache_exists('k', 'c1')]", "[None, None]"},
		{"out = uwsgi.cache_del('k', 'c1')", "None"},
		{"out = uwsgi.cache_get('k', 'c2')", "b'in c2'"},
		// clear empties one cache only
		{"out = uwsgi.cache_clear('c1')", "True"},
		{"out = [uwsgi.cache_keys('c1'), uwsgi.cache_get('new', 'c1'), uwsgi.cache_get('k', 'c2')]", "[[], None, b'in c2']"},
		// str and bytes keys are the same key; values come back as bytes
		{"uwsgi.cache_set(b'bk', 'x', 0, 'c1'); out = uwsgi.cache_get('bk', 'c1')", "b'x'"},
		// no cache name: the first cache
		{"out = uwsgi.cache_get('bk')", "b'x'"},
		{"out = uwsgi.cache_set('nameless', b'1')", "True"},
		{"out = uwsgi.cache_get('nameless', 'c1')", "b'1'"},
	}
	for _, st := range steps {
		umodEq(t, s, 0, st.code, st.want)
	}
}

func TestUwsgiModCacheLimits(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	// blocksize=64: 64 bytes fit, 65 do not, and a refused value leaves the old one.
	umodEq(t, s, 0, "out = uwsgi.cache_set('big', b'x' * 64, 0, 'c1')", "True")
	umodEq(t, s, 0, "out = uwsgi.cache_update('big', b'y' * 65, 0, 'c1')", "None")
	umodEq(t, s, 0, "out = uwsgi.cache_get('big', 'c1') == b'x' * 64", "True")
	umodEq(t, s, 0, "out = uwsgi.cache_set('big2', b'x' * 65, 0, 'c1')", "None")
	umodEq(t, s, 0, "out = uwsgi.cache_exists('big2', 'c1')", "None")
	// c2 has the default block size: 65 bytes are nothing to it.
	umodEq(t, s, 0, "out = uwsgi.cache_set('big2', b'x' * 65, 0, 'c2')", "True")

	// items=10: ten keys fit (one is 'big'), an 11th is refused, the ten are intact.
	umodEq(t, s, 0, "out = [uwsgi.cache_set('key%d' % i, 'value%d' % i, 0, 'c1') for i in range(9)]",
		"[True, True, True, True, True, True, True, True, True]")
	umodEq(t, s, 0, "out = uwsgi.cache_set('key9', 'value9', 0, 'c1')", "None")
	umodEq(t, s, 0, "out = uwsgi.cache_update('key9', 'value9', 0, 'c1')", "None")
	umodEq(t, s, 0, "out = len(uwsgi.cache_keys('c1'))", "10")
	umodEq(t, s, 0, "out = [uwsgi.cache_get('key%d' % i, 'c1') == ('value%d' % i).encode() for i in range(9)] + [uwsgi.cache_get('big', 'c1') == b'x' * 64]",
		"[True, True, True, True, True, True, True, True, True, True]")
	// A full cache still updates the keys it holds, and takes a new one once one is gone.
	umodEq(t, s, 0, "out = uwsgi.cache_update('key0', 'changed', 0, 'c1')", "True")
	umodEq(t, s, 0, "out = uwsgi.cache_del('key1', 'c1')", "True")
	umodEq(t, s, 0, "out = uwsgi.cache_set('key9', 'value9', 0, 'c1')", "True")
	umodEq(t, s, 0, "out = [uwsgi.cache_get('key0', 'c1'), uwsgi.cache_get('key9', 'c1'), uwsgi.cache_get('key1', 'c1')]",
		"[b'changed', b'value9', None]")
}

func TestUwsgiModCacheExpiry(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	umodEq(t, s, 0, "out = [uwsgi.cache_set('e', b'soon', 1, 'c1'), uwsgi.cache_set('forever', b'f', 0, 'c1'), uwsgi.cache_get('e', 'c1')]",
		"[True, True, b'soon']")
	var got string
	if !eventually(6*time.Second, func() bool {
		got = umodRepr(t, s, 0, "out = [uwsgi.cache_get('e', 'c1'), uwsgi.cache_exists('e', 'c1'), sorted(uwsgi.cache_keys('c1'))]")
		return got == "[None, None, [b'forever']]"
	}) {
		t.Fatalf("6 s after cache_set(expires=1): get, exists, keys = %s, want [None, None, [b'forever']]", got)
	}
	// The expired key can be set again.
	umodEq(t, s, 0, "out = [uwsgi.cache_set('e', b'again', 0, 'c1'), uwsgi.cache_get('e', 'c1')]", "[True, b'again']")
	// update with an expiry replaces the value and expires it too.
	umodEq(t, s, 0, "out = uwsgi.cache_update('forever', b'g', 1, 'c1')", "True")
	if !eventually(6*time.Second, func() bool {
		got = umodRepr(t, s, 0, "out = uwsgi.cache_get('forever', 'c1')")
		return got == "None"
	}) {
		t.Fatalf("6 s after cache_update(expires=1) the key is still %s", got)
	}
}

// umodCacheNum reads the number under 'n' in c1 with the app's num(), which accepts either
// byte order: the arithmetic is checked apart from the layout (TestUwsgiModCacheMathLayout).
const umodCacheNum = "out = num('n', 'c1')"

func TestUwsgiModCacheMath(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	for _, st := range []struct {
		op   string
		want string
	}{
		{"uwsgi.cache_inc('n', 1, 0, 'c1')", "1"}, // created from 0
		{"uwsgi.cache_inc('n', 5, 0, 'c1')", "6"},
		{"uwsgi.cache_inc('n')", "7"}, // default amount 1, default cache
		{"uwsgi.cache_dec('n', 2, 0, 'c1')", "5"},
		{"uwsgi.cache_mul('n', 10, 0, 'c1')", "50"},
		{"uwsgi.cache_div('n', 4, 0, 'c1')", "12"},
		{"uwsgi.cache_dec('n', 20, 0, 'c1')", "-8"},
	} {
		umodEq(t, s, 0, "r = "+st.op+"; "+umodCacheNum+"; out = [r, out]", "[True, "+st.want+"]")
	}
	// A value that is not an 8-byte number refuses arithmetic and is left alone.
	umodEq(t, s, 0, "uwsgi.cache_set('s', b'text', 0, 'c1'); out = [uwsgi.cache_inc('s', 1, 0, 'c1'), uwsgi.cache_get('s', 'c1')]", "[None, b'text']")
	// Both workers add to the same number.
	for _, wid := range []int{1, 2, 1, 2} {
		umodOK(t, s, umodExecOn(t, s, wid, "uwsgi.cache_inc('shared', 10, 0, 'c1')"))
	}
	umodEq(t, s, 0, strings.ReplaceAll(umodCacheNum, "'n'", "'shared'"), "40")
}

// uWSGI's cache_inc leaves the expiry of an existing number alone (it passes
// UWSGI_CACHE_FLAG_FIXEXPIRE): a number set to expire still expires after increments.
func TestUwsgiModCacheMathKeepsExpiry(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	umodEq(t, s, 0, "out = [uwsgi.cache_inc('n', 1, 2, 'c1'), uwsgi.cache_inc('n', 1, 0, 'c1'), num('n', 'c1')]", "[True, True, 2]")
	var got string
	if !eventually(8*time.Second, func() bool {
		got = umodRepr(t, s, 0, "out = uwsgi.cache_get('n', 'c1')")
		return got == "None"
	}) {
		t.Errorf("a number made with expires=2 and incremented with expires=0 is still %s 8 s later", got)
	}
}

// A value the cache accepts comes back as it was: b” too (uWSGI refuses an empty
// value: cache_set answers None).
func TestUwsgiModCacheEmptyValue(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	umodEq(t, s, 0, "r = uwsgi.cache_set('e', b'', 0, 'c1'); out = r is None or uwsgi.cache_get('e', 'c1') == b''", "True")
	umodEq(t, s, 0, "out = uwsgi.cache_keys('c2')", "[]")
}

// uWSGI stores a cache_inc'ed number as the machine's int64 (plugins/python passes
// (char *) &value with value an int64_t; core/cache.c adds through int64_t *): what
// cache_get returns is struct.pack('=q', n), and uwsgi.cache_num() reads it back.
func TestUwsgiModCacheMathLayout(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	umodEq(t, s, 0, "import struct; uwsgi.cache_inc('n', 258, 0, 'c1'); out = uwsgi.cache_get('n', 'c1') == struct.pack('=q', 258)", "True")
	umodEq(t, s, 0, "out = uwsgi.cache_num('n', 'c1')", "258")
}

// The cache lives outside the workers: what one writes the other reads, and it is still
// there after a worker is killed and respawned.
func TestUwsgiModCacheShared(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodCacheArgs...)
	umodEq(t, s, 1, "out = uwsgi.cache_set('from1', b'one', 0, 'c1')", "True")
	umodEq(t, s, 2, "out = uwsgi.cache_set('from2', b'two', 0, 'c2')", "True")
	umodEq(t, s, 2, "out = uwsgi.cache_get('from1', 'c1')", "b'one'")
	umodEq(t, s, 1, "out = uwsgi.cache_get('from2', 'c2')", "b'two'")
	umodEq(t, s, 2, "out = uwsgi.cache_update('from1', b'changed by 2', 0, 'c1')", "True")
	umodEq(t, s, 1, "out = uwsgi.cache_get('from1', 'c1')", "b'changed by 2'")
	umodEq(t, s, 1, "out = uwsgi.cache_del('from2', 'c2')", "True")
	umodEq(t, s, 2, "out = uwsgi.cache_exists('from2', 'c2')", "None")

	for _, wid := range []int{1, 2} {
		old := umodOK(t, s, umodExecOn(t, s, wid, "out = os.getpid()")).PID
		umodKill(t, old)
		var r umodReply
		if !eventually(30*time.Second, func() bool {
			r = umodExecOn(t, s, wid, "out = [uwsgi.cache_get('from1', 'c1'), uwsgi.cache_get('from1', 'c2')]")
			return r.PID != old
		}) {
			t.Fatalf("worker %d (pid %d) was not respawned", wid, old)
		}
		if umodOK(t, s, r); r.Repr != "[b'changed by 2', None]" {
			t.Errorf("after worker %d was killed and respawned (pid %d -> %d), its cache reads %s, want [b'changed by 2', None]", wid, old, r.PID, r.Repr)
		}
	}
}

// The legacy --cache N: one cache without a name (uWSGI calls it "default").
func TestUwsgiModCacheLegacy(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--cache", "5")
	umodEq(t, s, 1, "out = [uwsgi.cache_set('a', b'1'), uwsgi.cache_get('a'), uwsgi.cache_exists('a')]", "[True, b'1', True]")
	umodEq(t, s, 2, "out = [uwsgi.cache_get('a'), uwsgi.cache_get('a', 'default'), uwsgi.cache_keys()]", "[b'1', b'1', [b'a']]")
	umodEq(t, s, 0, "out = [uwsgi.cache_update('a', b'2'), uwsgi.cache_get('a'), uwsgi.cache_del('a'), uwsgi.cache_get('a')]", "[True, b'2', True, None]")
}

// Without any cache, the cache functions say what is missing.
func TestUwsgiModCacheNone(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	umodRaises(t, s, "uwsgi.cache_get('a')", "ValueError", "--cache2")
	umodRaises(t, s, "uwsgi.cache_set('a', 'b')", "ValueError", "--cache2")
}
