package proto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type pair struct{ k, v string }

func collectVars(t testing.TB, block []byte) []pair {
	t.Helper()
	var out []pair
	if err := EachVar(block, func(k, v []byte) bool {
		out = append(out, pair{string(k), string(v)})
		return true
	}); err != nil {
		t.Fatalf("EachVar: %v", err)
	}
	return out
}

func TestAppendVarRoundTrip(t *testing.T) {
	var b []byte
	b = AppendVar(b, "REQUEST_METHOD", "GET")
	b = AppendVarBytes(b, "PATH_INFO", []byte("/\x00\xff"))
	b = AppendVar(b, "", "")
	b = AppendVar(b, "LONG", strings.Repeat("x", 300))
	want := []pair{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/\x00\xff"}, {"", ""}, {"LONG", strings.Repeat("x", 300)}}
	got := collectVars(t, b)
	if len(got) != len(want) {
		t.Fatalf("got %d pairs, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d = %q, want %q", i, got[i], want[i])
		}
	}
	// Little-endian 16-bit lengths, as uWSGI encodes them.
	if !bytes.HasPrefix(b, []byte("\x0e\x00REQUEST_METHOD\x03\x00GET")) {
		t.Errorf("encoding = %q", b[:21])
	}
	if !bytes.Contains(b, []byte("\x04\x00LONG\x2c\x01x")) {
		t.Error("300-byte value length not encoded little-endian")
	}
}

func TestEachVarStopsEarly(t *testing.T) {
	b := AppendVar(nil, "A", "1")
	b = AppendVar(b, "B", "2")
	b = AppendVar(b, "C", "3")
	n := 0
	err := EachVar(b, func(k, v []byte) bool {
		n++
		return string(k) != "B"
	})
	if err != nil || n != 2 {
		t.Fatalf("n=%d err=%v, want 2 calls and no error", n, err)
	}
}

func TestEachVarSlicesCapped(t *testing.T) {
	b := AppendVar(nil, "A", "1")
	b = AppendVar(b, "B", "2")
	orig := append([]byte(nil), b...)
	_ = EachVar(b, func(k, v []byte) bool {
		_ = append(k, "XXXX"...)
		_ = append(v, "XXXX"...)
		return true
	})
	if !bytes.Equal(b, orig) {
		t.Fatal("appending to a key or value overwrote the block")
	}
}

func TestEachVarMalformed(t *testing.T) {
	good := AppendVar(nil, "KEY", "value")
	cases := map[string][]byte{
		"one byte":          {3},
		"key len only":      {3, 0},
		"key cut":           {3, 0, 'K', 'E'},
		"no value len":      {3, 0, 'K', 'E', 'Y'},
		"half value len":    {3, 0, 'K', 'E', 'Y', 5},
		"value cut":         good[:len(good)-1],
		"good then garbage": append(append([]byte(nil), good...), 1),
		"huge key len":      {0xff, 0xff, 'a'},
		"huge value len":    {1, 0, 'a', 0xff, 0xff, 'b'},
	}
	for name, block := range cases {
		called := false
		err := EachVar(block, func(k, v []byte) bool { called = true; return true })
		if !errors.Is(err, ErrBadVars) {
			t.Errorf("%s: err = %v, want ErrBadVars", name, err)
		}
		if called {
			t.Errorf("%s: fn called on a malformed block", name)
		}
	}
	if err := EachVar(nil, func(k, v []byte) bool { t.Error("called on empty block"); return true }); err != nil {
		t.Errorf("empty block: %v", err)
	}
}

// The contract chosen for over-long values: AppendVar panics (a caller bug,
// never silent truncation), AppendVarChecked reports ErrVarTooLong, and the
// HTTP side can never produce such a value (see TestHeadLimitGuaranteesVars).
func TestAppendVarTooLong(t *testing.T) {
	max := strings.Repeat("v", MaxVarLen)
	b := AppendVar(nil, "K", max)
	if got := collectVars(t, b); len(got) != 1 || len(got[0].v) != MaxVarLen {
		t.Fatal("65535-byte value did not round-trip")
	}

	long := max + "v"
	for name, f := range map[string]func(){
		"value":      func() { AppendVar(nil, "K", long) },
		"key":        func() { AppendVar(nil, long, "") },
		"bytes":      func() { AppendVarBytes(nil, "K", []byte(long)) },
		"endValue":   func() { b, at := beginValue(nil); endValue(append(b, long...), at) },
		"appendVars": func() { (&Request{Headers: []Header{{[]byte("X"), []byte(long)}}}).AppendVars(nil, nil, -1) },
	} {
		func() {
			defer func() {
				if r := recover(); r != ErrVarTooLong {
					t.Errorf("%s: recovered %v, want ErrVarTooLong panic", name, r)
				}
			}()
			f()
		}()
	}

	b0 := []byte("prefix")
	b, err := AppendVarChecked(b0, "K", long)
	if err != ErrVarTooLong || string(b) != "prefix" {
		t.Errorf("AppendVarChecked(long) = %q, %v", b, err)
	}
	b, err = AppendVarChecked(nil, "K", []byte("v"))
	if err != nil || !bytes.Equal(b, AppendVar(nil, "K", "v")) {
		t.Errorf("AppendVarChecked(short) = %q, %v", b, err)
	}
}
