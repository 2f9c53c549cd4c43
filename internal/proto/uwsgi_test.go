package proto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// uwsgiTBlock builds a vars block from alternating keys and values.
func uwsgiTBlock(kv ...string) []byte {
	if len(kv)%2 != 0 {
		panic("uwsgiTBlock: odd number of strings")
	}
	var b []byte
	for i := 0; i < len(kv); i += 2 {
		b = AppendVar(b, kv[i], kv[i+1])
	}
	return b
}

// uwsgiTItems builds an RPC item list.
func uwsgiTItems(t testing.TB, items ...[]byte) []byte {
	t.Helper()
	var b []byte
	for _, it := range items {
		var err error
		if b, err = AppendItem(b, it); err != nil {
			t.Fatalf("AppendItem(%d bytes): %v", len(it), err)
		}
	}
	return b
}

// uwsgiTPairs walks a vars block into an ordered list of "KEY=value" strings.
func uwsgiTPairs(t testing.TB, block []byte) []string {
	t.Helper()
	var out []string
	if err := EachVar(block, func(k, v []byte) bool {
		out = append(out, string(k)+"="+string(v))
		return true
	}); err != nil {
		t.Fatalf("EachVar on %q: %v", block, err)
	}
	return out
}

// uwsgiTCount is how many times key appears in a vars block, and its last value.
func uwsgiTCount(t testing.TB, block []byte, key string) (int, string) {
	t.Helper()
	n, last := 0, ""
	for _, p := range uwsgiTPairs(t, block) {
		if k, v, _ := strings.Cut(p, "="); k == key {
			n++
			last = v
		}
	}
	return n, last
}

func TestPacketHeaderRoundTrip(t *testing.T) {
	for _, c := range []struct {
		h    PacketHeader
		wire []byte
	}{
		{PacketHeader{}, []byte{0, 0, 0, 0}},
		{PacketHeader{Modifier1: ModifierRPC, Size: 5}, []byte{0xad, 5, 0, 0}},
		{PacketHeader{Modifier1: ModifierRPC, Size: 0x1234, Modifier2: RPCLarge}, []byte{0xad, 0x34, 0x12, 5}},
		{PacketHeader{Modifier1: 255, Size: 0xffff, Modifier2: 255}, []byte{255, 255, 255, 255}},
		{PacketHeader{Modifier1: ModifierWSGI, Size: 256, Modifier2: RPCPath}, []byte{0, 0, 1, 2}},
	} {
		prefix := []byte("pre")
		got := AppendPacketHeader(prefix, c.h)
		if !bytes.Equal(got[:3], []byte("pre")) || !bytes.Equal(got[3:], c.wire) {
			t.Errorf("AppendPacketHeader(%+v) = % x, want pre + % x", c.h, got, c.wire)
		}
		r := bufio.NewReader(bytes.NewReader(append(append([]byte{}, c.wire...), "rest"...)))
		h, err := ReadPacketHeader(r)
		if err != nil || h != c.h {
			t.Errorf("ReadPacketHeader(% x) = %+v, %v; want %+v", c.wire, h, err, c.h)
		}
		if rest, _ := io.ReadAll(r); string(rest) != "rest" {
			t.Errorf("ReadPacketHeader(% x) consumed more than 4 bytes: %q left", c.wire, rest)
		}
	}

	if _, err := ReadPacketHeader(bufio.NewReader(bytes.NewReader(nil))); err != io.EOF {
		t.Errorf("ReadPacketHeader of nothing: %v, want io.EOF", err)
	}
	for n := 1; n < 4; n++ {
		_, err := ReadPacketHeader(bufio.NewReader(bytes.NewReader([]byte{0xad, 1, 0}[:n])))
		if err != io.ErrUnexpectedEOF {
			t.Errorf("ReadPacketHeader of %d bytes: %v, want io.ErrUnexpectedEOF", n, err)
		}
	}
}

func TestPacketAppendItem(t *testing.T) {
	b, err := AppendItem([]byte{9}, []byte("upper"))
	if err != nil || !bytes.Equal(b, []byte("\x09\x05\x00upper")) {
		t.Errorf("AppendItem = %q, %v", b, err)
	}
	b, err = AppendItem(nil, nil)
	if err != nil || !bytes.Equal(b, []byte{0, 0}) {
		t.Errorf("AppendItem(empty) = %q, %v", b, err)
	}
	max := bytes.Repeat([]byte("m"), MaxVarLen)
	b, err = AppendItem(nil, max)
	if err != nil || len(b) != MaxVarLen+2 || b[0] != 0xff || b[1] != 0xff {
		t.Errorf("AppendItem(%d bytes): len %d, %v", MaxVarLen, len(b), err)
	}
	orig := []byte("keep")
	b, err = AppendItem(orig, append(max, 'x'))
	if !errors.Is(err, ErrVarTooLong) || string(b) != "keep" {
		t.Errorf("AppendItem(%d bytes) = %q, %v; want the input back and ErrVarTooLong", MaxVarLen+1, b, err)
	}
}

func TestPacketSplitItems(t *testing.T) {
	long := bytes.Repeat([]byte("L"), MaxVarLen)
	valid := []struct {
		name  string
		items [][]byte
	}{
		{"name only", [][]byte{[]byte("hello")}},
		{"name and args", [][]byte{[]byte("upper"), []byte("a"), []byte("bc")}},
		{"empty args", [][]byte{[]byte("f"), {}, []byte("x"), {}}},
		{"empty name", [][]byte{{}}},
		{"binary", [][]byte{[]byte("f"), {0, 1, 2, 0xff, 0xad}}},
		{"longest item", [][]byte{[]byte("f"), long}},
		{"255 items", append([][]byte{[]byte("f")}, bytes.Split(bytes.Repeat([]byte("a,"), 253), []byte(","))...)},
	}
	for _, c := range valid {
		block := uwsgiTItems(t, c.items...)
		got, err := SplitItems(block, make([][]byte, 3))
		if err != nil {
			t.Errorf("%s: SplitItems: %v", c.name, err)
			continue
		}
		if len(got) != len(c.items) {
			t.Errorf("%s: %d items, want %d", c.name, len(got), len(c.items))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], c.items[i]) {
				t.Errorf("%s: item %d = %q, want %q", c.name, i, got[i], c.items[i])
			}
		}
		// The items alias block: no copies.
		if len(got[0]) > 0 && &got[0][0] != &block[2] {
			t.Errorf("%s: the name does not alias the block", c.name)
		}
	}

	items256 := make([][]byte, 256)
	for i := range items256 {
		items256[i] = []byte{byte(i)}
	}
	invalid := []struct {
		name  string
		block []byte
	}{
		{"empty", nil},
		{"one byte", []byte{1}},
		{"length past the end", []byte{5, 0, 'a', 'b'}},
		{"second length cut", append(uwsgiTItems(t, []byte("f")), 3)},
		{"second item short", append(uwsgiTItems(t, []byte("f")), 3, 0, 'a', 'b')},
		{"huge length", []byte{0xff, 0xff, 'x'}},
		{"256 items", uwsgiTItems(t, items256...)},
	}
	for _, c := range invalid {
		got, err := SplitItems(c.block, nil)
		if !errors.Is(err, ErrBadItems) || got != nil {
			t.Errorf("%s: SplitItems(% x) = %q, %v; want nil, ErrBadItems", c.name, uwsgiTShort(c.block), got, err)
		}
	}

	// A reused slice is reset, not appended to.
	buf := make([][]byte, 0, 8)
	a, _ := SplitItems(uwsgiTItems(t, []byte("a"), []byte("b"), []byte("c")), buf)
	b, err := SplitItems(uwsgiTItems(t, []byte("x")), a)
	if err != nil || len(b) != 1 || string(b[0]) != "x" {
		t.Errorf("SplitItems with a reused slice = %q, %v", b, err)
	}
}

func uwsgiTShort(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// uwsgiTNginx is the vars block nginx sends with the stock uwsgi_params and its
// request headers passed as HTTP_*.
func uwsgiTNginx(extra ...string) []byte {
	kv := []string{
		"QUERY_STRING", "a=1&b=%20",
		"REQUEST_METHOD", "POST",
		"CONTENT_TYPE", "text/plain",
		"CONTENT_LENGTH", "11",
		"REQUEST_URI", "/p%20q/r?a=1&b=%20",
		"PATH_INFO", "/p q/r",
		"DOCUMENT_ROOT", "/usr/share/nginx/html",
		"SERVER_PROTOCOL", "HTTP/1.1",
		"REQUEST_SCHEME", "http",
		"REMOTE_ADDR", "127.0.0.1",
		"REMOTE_PORT", "51000",
		"SERVER_PORT", "8080",
		"SERVER_NAME", "localhost",
		"HTTP_HOST", "localhost",
		"HTTP_CONTENT_TYPE", "text/plain",
		"HTTP_CONTENT_LENGTH", "11",
		"HTTP_X_TRACE", "abc",
	}
	return uwsgiTBlock(append(kv, extra...)...)
}

func TestPacketUwsgiRequest(t *testing.T) {
	var req Request
	out, err := UwsgiRequest(uwsgiTNginx(), &req, []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("old")) {
		t.Errorf("UwsgiRequest did not append to out: %q", uwsgiTShort(out))
	}
	out = out[3:]
	if string(req.Method) != "POST" || string(req.Target) != "/p%20q/r?a=1&b=%20" || string(req.Path) != "/p q/r" ||
		string(req.Query) != "a=1&b=%20" || req.ContentLength != 11 || req.ProtoMajor != 1 || req.ProtoMinor != 1 || !req.Close {
		t.Errorf("request fields: method %q target %q path %q query %q length %d proto %d.%d close %v",
			req.Method, req.Target, req.Path, req.Query, req.ContentLength, req.ProtoMajor, req.ProtoMinor, req.Close)
	}
	want := []string{
		"QUERY_STRING=a=1&b=%20", "REQUEST_METHOD=POST", "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=11",
		"REQUEST_URI=/p%20q/r?a=1&b=%20", "PATH_INFO=/p q/r", "DOCUMENT_ROOT=/usr/share/nginx/html",
		"SERVER_PROTOCOL=HTTP/1.1", "REQUEST_SCHEME=http", "REMOTE_ADDR=127.0.0.1", "REMOTE_PORT=51000",
		"SERVER_PORT=8080", "SERVER_NAME=localhost", "HTTP_HOST=localhost", "HTTP_X_TRACE=abc", "SCRIPT_NAME=",
	}
	if got := uwsgiTPairs(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("vars:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// SCRIPT_NAME given: kept once, not added.
	out, err = UwsgiRequest(uwsgiTNginx("SCRIPT_NAME", "/mnt"), &req, nil)
	if n, v := uwsgiTCount(t, out, "SCRIPT_NAME"); err != nil || n != 1 || v != "/mnt" {
		t.Errorf("given SCRIPT_NAME: %d of them, last %q, err %v", n, v, err)
	}

	// No PATH_INFO: the percent-decoded path of REQUEST_URI, without the query.
	for _, c := range []struct{ uri, path, rawPath string }{
		{"/a%20b/%2F/c?x=%20y", "/a b///c", "/a%20b/%2F/c"},
		{"/plain", "/plain", "/plain"},
		{"/bad%zzescape%4", "/bad%zzescape%4", "/bad%zzescape%4"},
		{"/q?", "/q", "/q"},
		{"/%E2%82%AC?a?b", "/\xe2\x82\xac", "/%E2%82%AC"},
	} {
		out, err := UwsgiRequest(uwsgiTBlock("REQUEST_METHOD", "GET", "REQUEST_URI", c.uri), &req, nil)
		if err != nil {
			t.Errorf("%q: %v", c.uri, err)
			continue
		}
		n, v := uwsgiTCount(t, out, "PATH_INFO")
		sn, _ := uwsgiTCount(t, out, "SCRIPT_NAME")
		if n != 1 || v != c.path || sn != 1 || string(req.Path) != c.rawPath || string(req.Target) != c.uri {
			t.Errorf("REQUEST_URI %q: %d PATH_INFO %q (want %q), %d SCRIPT_NAME, req.Path %q, req.Target %q",
				c.uri, n, v, c.path, sn, req.Path, req.Target)
		}
		if req.ContentLength != -1 || req.ProtoMinor != 0 {
			t.Errorf("REQUEST_URI %q: ContentLength %d, ProtoMinor %d left over from the previous request", c.uri, req.ContentLength, req.ProtoMinor)
		}
	}

	// Neither PATH_INFO nor REQUEST_URI: an empty PATH_INFO.
	out, err = UwsgiRequest(uwsgiTBlock("REQUEST_METHOD", "GET"), &req, nil)
	if n, v := uwsgiTCount(t, out, "PATH_INFO"); err != nil || n != 1 || v != "" || len(req.Target) != 0 {
		t.Errorf("no path at all: %d PATH_INFO %q, target %q, %v", n, v, req.Target, err)
	}

	// An empty CONTENT_LENGTH (nginx's $content_length for a GET) means no body.
	if _, err := UwsgiRequest(uwsgiTBlock("REQUEST_METHOD", "GET", "CONTENT_LENGTH", ""), &req, nil); err != nil || req.ContentLength != -1 {
		t.Errorf("empty CONTENT_LENGTH: %d, %v", req.ContentLength, err)
	}
	if _, err := UwsgiRequest(uwsgiTBlock("REQUEST_METHOD", "PUT", "CONTENT_LENGTH", "0"), &req, nil); err != nil || req.ContentLength != 0 {
		t.Errorf("CONTENT_LENGTH 0: %d, %v", req.ContentLength, err)
	}
	if _, err := UwsgiRequest(uwsgiTBlock("REQUEST_METHOD", "PUT", "CONTENT_LENGTH", "3145728"), &req, nil); err != nil || req.ContentLength != 3<<20 {
		t.Errorf("CONTENT_LENGTH 3145728: %d, %v", req.ContentLength, err)
	}

	for _, c := range []struct {
		name  string
		block []byte
		want  error // nil: any error
	}{
		{"CONTENT_LENGTH letters", uwsgiTBlock("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "abc"), nil},
		{"CONTENT_LENGTH negative", uwsgiTBlock("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "-1"), nil},
		{"CONTENT_LENGTH trailing junk", uwsgiTBlock("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "12x"), nil},
		{"CONTENT_LENGTH space", uwsgiTBlock("REQUEST_METHOD", "POST", "CONTENT_LENGTH", " 12"), nil},
		{"CONTENT_LENGTH overflow", uwsgiTBlock("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "99999999999999999999"), nil},
		{"no REQUEST_METHOD", uwsgiTBlock("REQUEST_URI", "/", "PATH_INFO", "/"), nil},
		{"empty REQUEST_METHOD", uwsgiTBlock("REQUEST_METHOD", "", "REQUEST_URI", "/"), nil},
		{"empty block", nil, nil},
		{"truncated block", uwsgiTNginx()[:40], ErrBadVars},
		{"value length overruns", append(uwsgiTBlock("REQUEST_METHOD", "GET"), 1, 0, 'K', 9, 0, 'v'), ErrBadVars},
		{"odd byte", append(uwsgiTBlock("REQUEST_METHOD", "GET"), 0), ErrBadVars},
	} {
		_, err := UwsgiRequest(c.block, &req, nil)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: UwsgiRequest error %v, want %v", c.name, err, c.want)
		}
	}
}

var uwsgiTFuzzSeeds = [][]byte{
	uwsgiTNginx(),
	uwsgiTNginx("SCRIPT_NAME", "/mnt"),
	uwsgiTBlock("REQUEST_METHOD", "GET", "REQUEST_URI", "/a%20b?c"),
	uwsgiTBlock("REQUEST_METHOD", "GET", "CONTENT_LENGTH", "x"),
	uwsgiTBlock("REQUEST_METHOD", "GET", "REQUEST_URI", "%", "PATH_INFO", "%41"),
	uwsgiTBlock("REQUEST_URI", "/"),
	{1, 0, 'A', 1},
	{},
}

// FuzzUwsgiRequest: no block panics UwsgiRequest; an accepted block was a valid vars
// block with a REQUEST_METHOD; what it produces re-parses with EachVar, holds every
// input pair but HTTP_CONTENT_TYPE/HTTP_CONTENT_LENGTH, in order, plus SCRIPT_NAME and
// PATH_INFO.
func FuzzUwsgiRequest(f *testing.F) {
	for _, s := range uwsgiTFuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block []byte) {
		var req Request
		out, err := UwsgiRequest(block, &req, nil)
		validIn := EachVar(block, func(k, v []byte) bool { return true }) == nil
		if err != nil {
			if validIn && !strings.HasPrefix(err.Error(), "proto: ") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !validIn {
			t.Fatalf("accepted a malformed vars block % x", block)
		}
		if len(req.Method) == 0 || req.ContentLength < -1 {
			t.Fatalf("accepted: method %q, content length %d", req.Method, req.ContentLength)
		}
		var in []string
		EachVar(block, func(k, v []byte) bool {
			if s := string(k); s != "HTTP_CONTENT_TYPE" && s != "HTTP_CONTENT_LENGTH" {
				in = append(in, s+"="+string(v))
			}
			return true
		})
		got := uwsgiTPairs(t, out)
		if len(got) < len(in) {
			t.Fatalf("%d output pairs for %d input pairs", len(got), len(in))
		}
		for i := range in {
			if got[i] != in[i] {
				t.Fatalf("output pair %d = %q, want %q", i, got[i], in[i])
			}
		}
		added := map[string]bool{}
		for _, p := range got[len(in):] {
			k, _, _ := strings.Cut(p, "=")
			if (k != "SCRIPT_NAME" && k != "PATH_INFO") || added[k] {
				t.Fatalf("unexpected extra pair %q", p)
			}
			added[k] = true
		}
		for _, k := range []string{"SCRIPT_NAME", "PATH_INFO"} {
			if n, _ := uwsgiTCount(t, out, k); n == 0 {
				t.Fatalf("no %s in the output", k)
			}
		}
		for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
			if n, _ := uwsgiTCount(t, out, k); n != 0 {
				t.Fatalf("%s passed through", k)
			}
		}
	})
}

// FuzzSplitItems: no block panics SplitItems; an accepted list of 1 to 255 items
// re-encodes to exactly the block, and as a vars block (which an even number of items
// also is) it re-parses with EachVar into the same bytes.
func FuzzSplitItems(f *testing.F) {
	f.Add([]byte("\x05\x00upper\x01\x00a"))
	f.Add([]byte("\x05\x00hello"))
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 1})
	f.Add(bytes.Repeat([]byte{0, 0}, 256))
	f.Fuzz(func(t *testing.T, block []byte) {
		items, err := SplitItems(block, nil)
		if err != nil {
			if !errors.Is(err, ErrBadItems) || items != nil {
				t.Fatalf("error %v with items %q", err, items)
			}
			return
		}
		if len(items) < 1 || len(items) > MaxRPCItems {
			t.Fatalf("%d items", len(items))
		}
		var again []byte
		for _, it := range items {
			if again, err = AppendItem(again, it); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(again, block) {
			t.Fatalf("items %q re-encode to % x, not % x", items, again, block)
		}
		var pairs [][]byte
		verr := EachVar(block, func(k, v []byte) bool {
			pairs = append(pairs, k, v)
			return true
		})
		if len(items)%2 == 1 {
			if verr == nil {
				t.Fatalf("%d items parse as a vars block", len(items))
			}
			return
		}
		if verr != nil || len(pairs) != len(items) {
			t.Fatalf("%d items: EachVar %v, %d strings", len(items), verr, len(pairs))
		}
		for i := range items {
			if !bytes.Equal(pairs[i], items[i]) {
				t.Fatalf("EachVar string %d = %q, item %q", i, pairs[i], items[i])
			}
		}
	})
}

// The wire encoding of lengths is little-endian u16, in items as in vars.
func TestPacketItemsAreVarsEncoding(t *testing.T) {
	items := uwsgiTItems(t, []byte("KEY"), bytes.Repeat([]byte("v"), 300))
	if binary.LittleEndian.Uint16(items[5:]) != 300 {
		t.Fatalf("length bytes % x", items[5:7])
	}
	if got := uwsgiTPairs(t, items); len(got) != 1 || got[0] != "KEY="+strings.Repeat("v", 300) {
		t.Errorf("a two-item list read as vars: %q", got)
	}
}
