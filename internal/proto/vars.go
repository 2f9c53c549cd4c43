package proto

import "errors"

// MaxVarLen is the longest key or value a vars block can carry: lengths are
// encoded as unsigned 16-bit integers.
const MaxVarLen = 0xffff

var (
	// ErrBadVars reports a vars block whose lengths run past its end.
	ErrBadVars = errors.New("proto: malformed uwsgi vars block")
	// ErrVarTooLong reports a key or value longer than MaxVarLen.
	ErrVarTooLong = errors.New("proto: uwsgi var longer than 65535 bytes")
)

// AppendVar appends one key/value pair to a vars block.
//
// It panics with ErrVarTooLong when key or value is longer than MaxVarLen:
// silently truncating would desynchronise every later pair, and callers on
// the hot path (AppendVars) have lengths bounded by construction, so a long
// value here is a programming error. Use AppendVarChecked for input that is
// not bounded.
func AppendVar(b []byte, key, value string) []byte {
	return appendVar(b, key, value)
}

// AppendVarBytes is AppendVar for a value held in a byte slice; it avoids the
// string conversion (and its allocation) for values that alias a buffer.
func AppendVarBytes(b []byte, key string, value []byte) []byte {
	return appendVar(b, key, value)
}

// AppendVarChecked is AppendVar for lengths that are not known to fit: it
// returns b unchanged and ErrVarTooLong instead of panicking.
func AppendVarChecked[V string | []byte](b []byte, key string, value V) ([]byte, error) {
	if len(key) > MaxVarLen || len(value) > MaxVarLen {
		return b, ErrVarTooLong
	}
	return appendVar(b, key, value), nil
}

func appendVar[V string | []byte](b []byte, key string, value V) []byte {
	if len(key) > MaxVarLen || len(value) > MaxVarLen {
		panic(ErrVarTooLong)
	}
	b = append(b, byte(len(key)), byte(len(key)>>8))
	b = append(b, key...)
	b = append(b, byte(len(value)), byte(len(value)>>8))
	return append(b, value...)
}

// beginValue reserves the two length bytes of a value whose size is not
// known until it has been written (joined headers, the decoded path);
// endValue fills them in.
func beginValue(b []byte) ([]byte, int) {
	return append(b, 0, 0), len(b)
}

func endValue(b []byte, at int) []byte {
	n := len(b) - at - 2
	if n > MaxVarLen {
		panic(ErrVarTooLong)
	}
	b[at] = byte(n)
	b[at+1] = byte(n >> 8)
	return b
}

// EachVar walks a vars block, calling fn for every pair until fn returns
// false. The slices alias block and are capped at their own length, so fn
// cannot scribble over the following pair by appending.
//
// The whole block is validated before fn is first called, so a consumer
// never acts on the first pairs of a block that turns out to be truncated;
// a malformed block yields ErrBadVars and no calls. Walking only reads the
// length prefixes, so the extra pass is cheap.
func EachVar(block []byte, fn func(key, value []byte) bool) error {
	for rest := block; len(rest) > 0; {
		var ok bool
		if _, _, rest, ok = nextVar(rest); !ok {
			return ErrBadVars
		}
	}
	for rest := block; len(rest) > 0; {
		var key, value []byte
		key, value, rest, _ = nextVar(rest)
		if !fn(key, value) {
			break
		}
	}
	return nil
}

func nextVar(b []byte) (key, value, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, nil, false
	}
	n := int(b[0]) | int(b[1])<<8
	b = b[2:]
	if len(b) < n+2 {
		return nil, nil, nil, false
	}
	key = b[:n:n]
	b = b[n:]
	n = int(b[0]) | int(b[1])<<8
	b = b[2:]
	if len(b) < n {
		return nil, nil, nil, false
	}
	return key, b[:n:n], b[n:], true
}
