package proto

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func parseString(s string, lim Limits) (*Request, error) {
	req := new(Request)
	err := ReadRequest(bufio.NewReader(strings.NewReader(s)), lim, req)
	return req, err
}

func mustParse(t *testing.T, s string) *Request {
	t.Helper()
	req, err := parseString(s, Limits{})
	if err != nil {
		t.Fatalf("ReadRequest(%q): %v", s, err)
	}
	return req
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

const h11 = " HTTP/1.1\r\nHost: example.com\r\n"

func TestReadRequestErrors(t *testing.T) {
	cases := []struct {
		name, in string
		status   int
	}{
		// request line
		{"double space after method", "GET  /" + h11 + "\r\n", 400},
		{"double space before version", "GET / " + h11 + "\r\n", 400},
		{"leading space", " GET /" + h11 + "\r\n", 400},
		{"tab separator", "GET\t/" + h11 + "\r\n", 400},
		{"method not a token", "GE(T /" + h11 + "\r\n", 400},
		{"method with obs-text", "G\xe9T /" + h11 + "\r\n", 400},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
		{"control in target", "GET /a\x01b" + h11 + "\r\n", 400},
		{"DEL in target", "GET /a\x7fb" + h11 + "\r\n", 400},
		{"NUL in target", "GET /a\x00b" + h11 + "\r\n", 400},
		{"bare CR in target", "GET /a\rb" + h11 + "\r\n", 400},
		{"HTTP/0.9 request", "GET /\r\n\r\n", 400},
		{"missing target", "GET HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"HTTP/0.9 version", "GET / HTTP/0.9\r\n\r\n", 505},
		{"HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", 505},
		{"two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
		{"two-digit major", "GET / HTTP/11.1\r\nHost: a\r\n\r\n", 400},
		{"lower-case name", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
		{"no minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
		{"garbage version", "GET / FOO/1.1\r\nHost: a\r\n\r\n", 400},
		{"relative target", "GET foo" + h11 + "\r\n", 400},
		{"asterisk without OPTIONS", "GET *" + h11 + "\r\n", 400},
		{"authority-form", "CONNECT example.com:443" + h11 + "\r\n", 400},
		{"unsupported scheme", "GET ftp://example.com/" + h11 + "\r\n", 400},
		{"empty authority", "GET http:///p" + h11 + "\r\n", 400},
		{"userinfo", "GET http://user@example.com/" + h11 + "\r\n", 400},
		{"bad authority port", "GET http://example.com:x/" + h11 + "\r\n", 400},
		{"bare CR ending request line", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400},
		{"bare CR line before request", "\r\rGET /" + h11 + "\r\n", 400},
		{"too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET /" + h11 + "\r\n", 400},

		// header fields
		{"space before colon", "GET /" + h11 + "X-A : b\r\n\r\n", 400},
		{"tab before colon", "GET /" + h11 + "X-A\t: b\r\n\r\n", 400},
		{"whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
		{"obs-fold", "GET /" + h11 + "X-A: b\r\n c\r\n\r\n", 400},
		{"obs-fold tab", "GET /" + h11 + "X-A: b\r\n\tc\r\n\r\n", 400},
		{"empty name", "GET /" + h11 + ": b\r\n\r\n", 400},
		{"no colon", "GET /" + h11 + "X-A\r\n\r\n", 400},
		{"bare CR in value", "GET /" + h11 + "X-A: b\rc\r\n\r\n", 400},
		{"bare CR before CRLF", "GET /" + h11 + "X-A: b\r\r\n\r\n", 400},
		{"bare CR as blank line", "GET /" + h11 + "\r\r\n", 400},
		{"NUL in value", "GET /" + h11 + "X-A: b\x00c\r\n\r\n", 400},
		{"NUL in name", "GET /" + h11 + "X\x00A: b\r\n\r\n", 400},
		{"control in value", "GET /" + h11 + "X-A: b\x01\r\n\r\n", 400},
		{"DEL in value", "GET /" + h11 + "X-A: b\x7f\r\n\r\n", 400},
		{"ESC in value", "GET /" + h11 + "X-A: \x1b[31m\r\n\r\n", 400},
		{"non-token name", "GET /" + h11 + "X\"A: b\r\n\r\n", 400},

		// Host
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
		{"HTTP/1.9", "GET / HTTP/1.9\r\nHost: a\r\n\r\n", 505},
		{"NUL in path", "GET /a%00b" + h11 + "\r\n", 400},
		{"NUL in absolute-form path", "GET http://a/%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"absolute-form without Host", "GET http://a/ HTTP/1.1\r\n\r\n", 400},
		{"two Hosts", "GET /" + h11 + "Host: example.com\r\n\r\n", 400},
		{"two Hosts HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400},
		{"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
		{"Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
		{"Host port only", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400},
		{"Host unclosed bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
		{"Host junk after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400},
		{"Host empty brackets", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400},
		{"Host non-ASCII", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9.fr\r\n\r\n", 400},

		// Content-Length
		{"negative length", "POST /" + h11 + "Content-Length: -1\r\n\r\n", 400},
		{"signed length", "POST /" + h11 + "Content-Length: +1\r\n\r\n", 400},
		{"space inside length", "POST /" + h11 + "Content-Length: 1 2\r\n\r\n", 400},
		{"hex length", "POST /" + h11 + "Content-Length: 0x10\r\n\r\n", 400},
		{"empty length", "POST /" + h11 + "Content-Length:\r\n\r\n", 400},
		{"length overflow", "POST /" + h11 + "Content-Length: 9223372036854775808\r\n\r\n", 400},
		{"length way overflow", "POST /" + h11 + "Content-Length: 99999999999999999999999\r\n\r\n", 400},
		{"conflicting list", "POST /" + h11 + "Content-Length: 5, 6\r\n\r\n", 400},
		{"conflicting fields", "POST /" + h11 + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
		{"empty list element", "POST /" + h11 + "Content-Length: 5,,5\r\n\r\n", 400},
		{"trailing comma", "POST /" + h11 + "Content-Length: 5,\r\n\r\n", 400},
		{"length and chunked", "POST /" + h11 + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"chunked and length", "POST /" + h11 + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
		{"length and gzip", "POST /" + h11 + "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", 400},

		// Transfer-Encoding
		{"gzip, chunked", "POST /" + h11 + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"identity", "POST /" + h11 + "Transfer-Encoding: identity\r\n\r\n", 501},
		{"chunked, chunked", "POST /" + h11 + "Transfer-Encoding: chunked, chunked\r\n\r\n", 501},
		{"chunked twice", "POST /" + h11 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
		{"chunked with empty element", "POST /" + h11 + "Transfer-Encoding: chunked,\r\n\r\n", 501},
		{"empty coding", "POST /" + h11 + "Transfer-Encoding:\r\n\r\n", 501},
		{"chunked-ish", "POST /" + h11 + "Transfer-Encoding: chunkedx\r\n\r\n", 501},
		{"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},

		// Expect
		{"unknown expectation", "POST /" + h11 + "Expect: 200-ok\r\n\r\n", 417},
		{"mixed expectation", "POST /" + h11 + "Expect: 100-continue, x\r\n\r\n", 417},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseString(c.in, Limits{})
			if got := statusOf(err); got != c.status {
				t.Fatalf("ReadRequest(%q) = %v, want status %d", c.in, err, c.status)
			}
			// The outcome must not depend on how the bytes arrive.
			req := new(Request)
			r := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(c.in)), 16)
			if got := statusOf(ReadRequest(r, Limits{}, req)); got != c.status {
				t.Fatalf("byte-at-a-time: status %d, want %d", got, c.status)
			}
		})
	}
}

func TestReadRequestEOF(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", io.EOF},
		{"\r\n", io.EOF},
		{"\r\n\n\r\n", io.EOF},
		{"G", io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1", io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\n", io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\nHost: a\r\n", io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r", io.ErrUnexpectedEOF},
		{"\r\nGET", io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		if _, err := parseString(c.in, Limits{}); err != c.want {
			t.Errorf("ReadRequest(%q) = %v, want %v (unwrapped)", c.in, err, c.want)
		}
	}
	// Other read errors pass through.
	boom := errors.New("boom")
	r := bufio.NewReader(io.MultiReader(strings.NewReader("GET / HT"), iotest.ErrReader(boom)))
	if err := ReadRequest(r, Limits{}, new(Request)); err != boom {
		t.Errorf("read error = %v, want %v", err, boom)
	}
}

func TestReadRequestFields(t *testing.T) {
	req := mustParse(t, "GET /a/b%20c?x=1&y=%20 HTTP/1.1\r\n"+
		"Host: example.com:8080\r\n"+
		"User-Agent: wrk\r\n"+
		"X-Empty:\r\n"+
		"X-Space: \t a  b \t \r\n"+
		"X-Tab: a\tb\r\n"+
		"X-Latin: caf\xe9\r\n"+
		"\r\n")
	check := func(name string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("Method", req.Method, "GET")
	check("Target", req.Target, "/a/b%20c?x=1&y=%20")
	check("Path", req.Path, "/a/b%20c")
	check("Query", req.Query, "x=1&y=%20")
	check("Host", req.Host, "example.com:8080")
	if req.ProtoMajor != 1 || req.ProtoMinor != 1 {
		t.Errorf("version %d.%d", req.ProtoMajor, req.ProtoMinor)
	}
	if req.ContentLength != -1 || req.Chunked || req.Close || req.KeepAlive10 || req.ExpectContinue {
		t.Errorf("flags: %+v", req)
	}
	want := []Header{
		{[]byte("Host"), []byte("example.com:8080")},
		{[]byte("User-Agent"), []byte("wrk")},
		{[]byte("X-Empty"), []byte("")},
		{[]byte("X-Space"), []byte("a  b")},
		{[]byte("X-Tab"), []byte("a\tb")},
		{[]byte("X-Latin"), []byte("caf\xe9")},
	}
	if len(req.Headers) != len(want) {
		t.Fatalf("%d headers, want %d", len(req.Headers), len(want))
	}
	for i, h := range want {
		check("name", req.Headers[i].Name, string(h.Name))
		check("value", req.Headers[i].Value, string(h.Value))
	}
}

func TestReadRequestAccepts(t *testing.T) {
	cases := []struct {
		name, in string
		check    func(*Request) bool
	}{
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", func(r *Request) bool { return string(r.Host) == "a" }},
		{"mixed terminators", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n", func(r *Request) bool { return len(r.Headers) == 2 }},
		{"leading empty lines", "\r\n\n\r\n\r\nGET /" + h11 + "\r\n", func(r *Request) bool { return string(r.Method) == "GET" }},
		{"HTTP/1.0 no Host", "GET / HTTP/1.0\r\n\r\n", func(r *Request) bool {
			return r.ProtoMinor == 0 && r.Close && !r.KeepAlive10 && len(r.Host) == 0
		}},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", func(r *Request) bool {
			return !r.Close && r.KeepAlive10
		}},
		{"HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", func(r *Request) bool {
			return r.Close && !r.KeepAlive10
		}},
		{"HTTP/1.1 keep-alive is default", "GET /" + h11 + "Connection: keep-alive\r\n\r\n", func(r *Request) bool {
			return !r.Close && !r.KeepAlive10
		}},
		{"HTTP/1.1 close in list", "GET /" + h11 + "Connection: Upgrade , CLOSE\r\n\r\n", func(r *Request) bool { return r.Close }},
		{"close-ish token", "GET /" + h11 + "Connection: closed\r\n\r\n", func(r *Request) bool { return !r.Close }},
		{"%00 in the query", "GET /a?b=%00 HTTP/1.1\r\nHost: a\r\n\r\n", func(r *Request) bool { return string(r.Query) == "b=%00" }},
		{"absolute-form", "GET http://Example.COM:8080/p/q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n", func(r *Request) bool {
			return string(r.Path) == "/p/q" && string(r.Query) == "x=1" && string(r.Host) == "Example.COM:8080" &&
				string(r.Target) == "http://Example.COM:8080/p/q?x=1"
		}},
		{"absolute-form https no path", "GET HTTPS://h?x HTTP/1.1\r\nHost: h\r\n\r\n", func(r *Request) bool {
			return string(r.Path) == "/" && string(r.Query) == "x" && string(r.Host) == "h"
		}},
		{"absolute-form bare", "GET http://h HTTP/1.0\r\n\r\n", func(r *Request) bool {
			return string(r.Path) == "/" && len(r.Query) == 0 && string(r.Host) == "h"
		}},
		{"absolute-form IPv6", "GET http://[::1]:8080/ HTTP/1.0\r\n\r\n", func(r *Request) bool { return string(r.Host) == "[::1]:8080" }},
		{"asterisk-form", "OPTIONS *" + h11 + "\r\n", func(r *Request) bool { return string(r.Path) == "*" }},
		{"obs-text target", "GET /caf\xc3\xa9?q=\xff" + h11 + "\r\n", func(r *Request) bool { return string(r.Path) == "/caf\xc3\xa9" }},
		{"empty query", "GET /p?" + h11 + "\r\n", func(r *Request) bool { return string(r.Path) == "/p" && len(r.Query) == 0 }},
		{"second ? stays in query", "GET /p?a?b" + h11 + "\r\n", func(r *Request) bool { return string(r.Query) == "a?b" }},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", func(r *Request) bool { return len(r.Host) == 0 }},
		{"IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", func(r *Request) bool { return string(r.Host) == "[::1]:8080" }},
		{"Host with empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", func(r *Request) bool { return string(r.Host) == "a:" }},
		{"lower-case host name", "GET / HTTP/1.1\r\nhOsT: a\r\n\r\n", func(r *Request) bool { return string(r.Host) == "a" }},
		{"Content-Length", "POST /" + h11 + "Content-Length: 42\r\n\r\n", func(r *Request) bool { return r.ContentLength == 42 }},
		{"Content-Length zero", "POST /" + h11 + "Content-Length: 0\r\n\r\n", func(r *Request) bool { return r.ContentLength == 0 }},
		{"Content-Length max", "POST /" + h11 + "Content-Length: 9223372036854775807\r\n\r\n", func(r *Request) bool { return r.ContentLength == 1<<63-1 }},
		{"Content-Length same list", "POST /" + h11 + "Content-Length: 5 ,5\r\n\r\n", func(r *Request) bool { return r.ContentLength == 5 }},
		{"Content-Length same fields", "POST /" + h11 + "Content-Length: 5\r\ncontent-length: 005\r\n\r\n", func(r *Request) bool { return r.ContentLength == 5 }},
		{"chunked", "POST /" + h11 + "Transfer-Encoding: chunked\r\n\r\n", func(r *Request) bool { return r.Chunked && r.ContentLength == -1 }},
		{"chunked case and OWS", "POST /" + h11 + "transfer-encoding:  \tChunked \r\n\r\n", func(r *Request) bool { return r.Chunked }},
		{"Expect", "POST /" + h11 + "Expect: 100-continue\r\n\r\n", func(r *Request) bool { return r.ExpectContinue }},
		{"Expect case", "POST /" + h11 + "expect: 100-Continue\r\n\r\n", func(r *Request) bool { return r.ExpectContinue }},
		{"Expect empty", "POST /" + h11 + "Expect:\r\n\r\n", func(r *Request) bool { return !r.ExpectContinue }},
		{"Expect on HTTP/1.0 ignored", "POST / HTTP/1.0\r\nExpect: 100-continue\r\nExpect: whatever\r\n\r\n", func(r *Request) bool { return !r.ExpectContinue }},
		{"tab before value", "GET /" + h11 + "X:\tv\r\n\r\n", func(r *Request) bool { return string(r.Headers[1].Value) == "v" }},
		{"token specials in name", "GET /" + h11 + "X!#$%&'*+.^`|~1: v\r\n\r\n", func(r *Request) bool { return len(r.Headers) == 2 }},
		{"lower-case method kept", "get /" + h11 + "\r\n", func(r *Request) bool { return string(r.Method) == "get" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := parseString(c.in, Limits{})
			if err != nil {
				t.Fatalf("ReadRequest(%q): %v", c.in, err)
			}
			if !c.check(req) {
				t.Fatalf("ReadRequest(%q) gave %+v", c.in, req)
			}
		})
	}
}

func headOfSize(n int) string {
	const start = "GET / HTTP/1.1\r\nHost: a\r\nX: "
	const end = "\r\n\r\n"
	return start + strings.Repeat("v", n-len(start)-len(end)) + end
}

func TestLimits(t *testing.T) {
	for _, c := range []struct{ in, want int }{
		{0, DefaultMaxHeadBytes}, {-5, DefaultMaxHeadBytes}, {1, 1024}, {1024, 1024},
		{5000, 5000}, {65535, 65535}, {65536, 65535}, {1 << 30, 65535},
	} {
		if got := (Limits{MaxHeadBytes: c.in}).headLimit(); got != c.want {
			t.Errorf("headLimit(%d) = %d, want %d", c.in, got, c.want)
		}
	}

	for _, limit := range []int{1024, 4096, 65535} {
		lim := Limits{MaxHeadBytes: limit}
		if _, err := parseString(headOfSize(limit), lim); err != nil {
			t.Errorf("head of exactly %d bytes: %v", limit, err)
		}
		if _, err := parseString(headOfSize(limit+1), lim); statusOf(err) != 431 {
			t.Errorf("head of %d bytes: %v, want 431", limit+1, err)
		}
		line := "GET /" + strings.Repeat("a", limit-len("GET / HTTP/1.1\r\n")) + " HTTP/1.1\r\n"
		if _, err := parseString(line+"Host: a\r\n\r\n", lim); statusOf(err) != 431 {
			t.Errorf("request line filling the limit: %v, want 431", err)
		}
		line = "GET /a" + line[5:]
		if _, err := parseString(line+"Host: a\r\n\r\n", lim); statusOf(err) != 414 {
			t.Errorf("request line over the limit: %v, want 414", err)
		}
	}
	// An absurd limit is clamped, not honoured.
	if _, err := parseString(headOfSize(70000), Limits{MaxHeadBytes: 1 << 20}); statusOf(err) != 431 {
		t.Errorf("70000-byte head with a 1 MiB limit: %v, want 431", err)
	}
	// Leading empty lines do not count against the limit.
	if _, err := parseString("\r\n\r\n"+headOfSize(1024), Limits{MaxHeadBytes: 1024}); err != nil {
		t.Errorf("empty lines counted: %v", err)
	}

	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: a\r\n")
	for i := 1; i < maxHeaderFields; i++ {
		b.WriteString("X: y\r\n")
	}
	if _, err := parseString(b.String()+"\r\n", Limits{}); err != nil {
		t.Errorf("%d fields: %v", maxHeaderFields, err)
	}
	if _, err := parseString(b.String()+"X: y\r\n\r\n", Limits{}); statusOf(err) != 431 {
		t.Errorf("%d fields: %v, want 431", maxHeaderFields+1, err)
	}
}

// The HTTP side of the 65535-byte vars contract: whatever fits in the
// largest head encodes, including repeated fields joined into one value.
func TestHeadLimitGuaranteesVars(t *testing.T) {
	lim := Limits{MaxHeadBytes: MaxVarLen}
	big := parseOK(t, headOfSize(MaxVarLen), lim)
	vars := varsMap(t, big.AppendVars(nil, nil, -1))
	if len(vars["HTTP_X"]) != MaxVarLen-len("GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n") {
		t.Errorf("HTTP_X has %d bytes", len(vars["HTTP_X"]))
	}

	var b strings.Builder
	b.WriteString("GET /" + strings.Repeat("%41", 5000) + " HTTP/1.1\r\nHost: a\r\n")
	for b.Len() < MaxVarLen-1100 {
		b.WriteString("Cookie: " + strings.Repeat("c", 1000) + "\r\n")
	}
	b.WriteString("\r\n")
	req := parseOK(t, b.String(), lim)
	vars = varsMap(t, req.AppendVars(nil, nil, -1))
	if len(vars["HTTP_COOKIE"]) < 45000 || len(vars["PATH_INFO"]) != 5001 {
		t.Errorf("joined cookie %d bytes, path %d bytes", len(vars["HTTP_COOKIE"]), len(vars["PATH_INFO"]))
	}

	long := "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("N", MaxVarLen-40) + ": v\r\n\r\n"
	req = parseOK(t, long, lim)
	varsMap(t, req.AppendVars(nil, nil, -1))
}

func parseOK(t *testing.T, s string, lim Limits) *Request {
	t.Helper()
	req, err := parseString(s, lim)
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	return req
}

func TestPipelining(t *testing.T) {
	in := "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Keep: first\r\n\r\nhello" +
		"GET /b?q HTTP/1.1\r\nHost: b\r\n\r\n" +
		"\r\nPUT /c HTTP/1.1\nHost: c\nTransfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\n\r\n"
	for _, size := range []int{16, 64, 4096} {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(in)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			r := bufio.NewReaderSize(src, size)
			req := new(Request)

			if err := ReadRequest(r, Limits{}, req); err != nil {
				t.Fatal(err)
			}
			if string(req.Path) != "/a" || req.ContentLength != 5 {
				t.Fatalf("first request: %+v", req)
			}
			body := make([]byte, req.ContentLength)
			if _, err := io.ReadFull(r, body); err != nil || string(body) != "hello" {
				t.Fatalf("body %q, %v: ReadRequest consumed part of it", body, err)
			}
			// Reading the body must not disturb the parsed head.
			if string(req.Method) != "POST" || string(req.Headers[2].Value) != "first" {
				t.Fatalf("head changed by reading the body: %q %q", req.Method, req.Headers[2].Value)
			}

			if err := ReadRequest(r, Limits{}, req); err != nil {
				t.Fatal(err)
			}
			if string(req.Method) != "GET" || string(req.Path) != "/b" || string(req.Query) != "q" || string(req.Host) != "b" {
				t.Fatalf("second request: %+v", req)
			}

			if err := ReadRequest(r, Limits{}, req); err != nil {
				t.Fatal(err)
			}
			if !req.Chunked || string(req.Path) != "/c" {
				t.Fatalf("third request: %+v", req)
			}
			body, err := io.ReadAll(newChunkedReader(r, Limits{}))
			if err != nil || string(body) != "abc" {
				t.Fatalf("chunked body %q, %v", body, err)
			}

			if err := ReadRequest(r, Limits{}, req); err != io.EOF {
				t.Fatalf("after last request: %v, want io.EOF", err)
			}
		}
	}
}

func TestReadRequestLeavesBody(t *testing.T) {
	in := "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"
	r := bufio.NewReader(strings.NewReader(in))
	if err := ReadRequest(r, Limits{}, new(Request)); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "hello world" {
		t.Fatalf("left %q", rest)
	}
}

func TestRequestReuse(t *testing.T) {
	req := new(Request)
	r := bufio.NewReader(strings.NewReader(
		"POST /x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\nExpect: 100-continue\r\nA: 1\r\nB: 2\r\n\r\n" +
			"GET /y HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"))
	if err := ReadRequest(r, Limits{}, req); err != nil {
		t.Fatal(err)
	}
	if err := ReadRequest(r, Limits{}, req); err != nil {
		t.Fatal(err)
	}
	if req.ContentLength != -1 || req.KeepAlive10 || req.Close || !req.ExpectContinue || len(req.Headers) != 2 ||
		req.ProtoMinor != 1 || len(req.Query) != 0 {
		t.Fatalf("state leaked between requests: %+v", req)
	}
}

func TestErrorString(t *testing.T) {
	var err error = &Error{Status: 431, Reason: "too big"}
	if err.Error() != "proto: 431 too big" {
		t.Fatal(err.Error())
	}
}

// ---- AppendVars ----

func varsMap(t *testing.T, block []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range collectVars(t, block) {
		if _, dup := m[p.k]; dup {
			t.Errorf("duplicate var %s", p.k)
		}
		m[p.k] = p.v
	}
	return m
}

func varsFor(t *testing.T, in string, ci *ConnInfo, bodyLen int64) (map[string]string, []pair) {
	t.Helper()
	req := mustParse(t, in)
	// Appending to a non-empty block must leave the prefix alone.
	b := req.AppendVars([]byte("PFX"), ci, bodyLen)
	if string(b[:3]) != "PFX" {
		t.Fatal("prefix overwritten")
	}
	return varsMap(t, b[3:]), collectVars(t, b[3:])
}

func sameVars(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %s (want %q)", k, v)
		} else if g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %q", k, v)
		}
	}
}

var testConn = &ConnInfo{
	Scheme:     "http",
	ServerName: "srv.local",
	RemoteAddr: "192.0.2.7",
	RemotePort: "54321",
}

func TestAppendVarsGET(t *testing.T) {
	got, order := varsFor(t, "GET /a%20b/c?x=1&y=%20 HTTP/1.1\r\n"+
		"Host: example.com:8080\r\n"+
		"User-Agent: wrk\r\n"+
		"Accept: */*\r\n"+
		"Accept-Language: en\r\n"+
		"X-Forwarded-For: 10.0.0.1\r\n"+
		"\r\n", testConn, -1)
	sameVars(t, got, map[string]string{
		"REQUEST_METHOD":       "GET",
		"REQUEST_URI":          "/a%20b/c?x=1&y=%20",
		"PATH_INFO":            "/a b/c",
		"QUERY_STRING":         "x=1&y=%20",
		"SCRIPT_NAME":          "",
		"SERVER_PROTOCOL":      "HTTP/1.1",
		"SERVER_NAME":          "example.com",
		"SERVER_PORT":          "8080",
		"REMOTE_ADDR":          "192.0.2.7",
		"REMOTE_PORT":          "54321",
		"UWSGI_SCHEME":         "http",
		"HTTP_HOST":            "example.com:8080",
		"HTTP_USER_AGENT":      "wrk",
		"HTTP_ACCEPT":          "*/*",
		"HTTP_ACCEPT_LANGUAGE": "en",
		"HTTP_X_FORWARDED_FOR": "10.0.0.1",
	})
	wantOrder := []string{"REQUEST_METHOD", "REQUEST_URI", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME",
		"SERVER_PROTOCOL", "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT", "UWSGI_SCHEME",
		"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE", "HTTP_X_FORWARDED_FOR"}
	for i, k := range wantOrder {
		if order[i].k != k {
			t.Errorf("var %d = %s, want %s", i, order[i].k, k)
		}
	}
}

func TestAppendVarsBody(t *testing.T) {
	const post = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX: 1\r\n\r\n"
	got, order := varsFor(t, post, testConn, 5)
	if got["CONTENT_TYPE"] != "text/plain" || got["CONTENT_LENGTH"] != "5" {
		t.Errorf("CONTENT_TYPE %q CONTENT_LENGTH %q", got["CONTENT_TYPE"], got["CONTENT_LENGTH"])
	}
	for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s emitted", k)
		}
	}
	// CGI variables precede every HTTP_ one.
	if order[11].k != "CONTENT_TYPE" || order[12].k != "CONTENT_LENGTH" || order[13].k != "HTTP_HOST" {
		t.Errorf("order: %v", order)
	}

	got, _ = varsFor(t, post, testConn, -1)
	if _, ok := got["CONTENT_LENGTH"]; ok {
		t.Error("CONTENT_LENGTH emitted for bodyLen -1")
	}

	got, _ = varsFor(t, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX: 1\r\n\r\n", testConn, 1234)
	if got["CONTENT_LENGTH"] != "1234" {
		t.Errorf("chunked CONTENT_LENGTH %q", got["CONTENT_LENGTH"])
	}
	if _, ok := got["HTTP_TRANSFER_ENCODING"]; ok {
		t.Error("HTTP_TRANSFER_ENCODING emitted for a chunked request")
	}
	if _, ok := got["CONTENT_TYPE"]; ok {
		t.Error("CONTENT_TYPE emitted without a Content-Type header")
	}

	got, _ = varsFor(t, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", testConn, 0)
	if _, ok := got["CONTENT_LENGTH"]; ok {
		t.Error("CONTENT_LENGTH emitted for a request without body framing")
	}

	got, _ = varsFor(t, "POST / HTTP/1.1\r\nHost: h\r\nContent-Type:\r\nContent-Length: 0\r\n\r\n", testConn, 0)
	if v, ok := got["CONTENT_TYPE"]; !ok || v != "" || got["CONTENT_LENGTH"] != "0" {
		t.Errorf("empty Content-Type / zero length: %q %q", v, got["CONTENT_LENGTH"])
	}
}

func TestAppendVarsJoiningAndDropping(t *testing.T) {
	got, order := varsFor(t, "GET / HTTP/1.1\r\n"+
		"Host: h\r\n"+
		"Cookie: a=1\r\n"+
		"Accept: text/html\r\n"+
		"X-Forwarded-For: 10.0.0.1\r\n"+
		"X_Forwarded_For: 6.6.6.6\r\n"+
		"cookie: b=2\r\n"+
		"ACCEPT: */*\r\n"+
		"Proxy: http://evil:8080\r\n"+
		"proxy: http://evil2\r\n"+
		"Content-Type: a/b\r\n"+
		"content-type: c/d\r\n"+
		"x-forwarded-for: 10.0.0.2\r\n"+
		"Under_Score: x\r\n"+
		"Cookie: c=3\r\n"+
		"\r\n", nil, -1)
	sameVars(t, got, map[string]string{
		"REQUEST_METHOD":       "GET",
		"REQUEST_URI":          "/",
		"PATH_INFO":            "/",
		"QUERY_STRING":         "",
		"SCRIPT_NAME":          "",
		"SERVER_PROTOCOL":      "HTTP/1.1",
		"SERVER_NAME":          "h",
		"SERVER_PORT":          "80",
		"REMOTE_ADDR":          "",
		"REMOTE_PORT":          "",
		"CONTENT_TYPE":         "a/b, c/d",
		"HTTP_HOST":            "h",
		"HTTP_COOKIE":          "a=1; b=2; c=3",
		"HTTP_ACCEPT":          "text/html, */*",
		"HTTP_X_FORWARDED_FOR": "10.0.0.1, 10.0.0.2",
	})
	var httpOrder []string
	for _, p := range order {
		if strings.HasPrefix(p.k, "HTTP_") {
			httpOrder = append(httpOrder, p.k)
		}
	}
	if strings.Join(httpOrder, " ") != "HTTP_HOST HTTP_COOKIE HTTP_ACCEPT HTTP_X_FORWARDED_FOR" {
		t.Errorf("HTTP_ order: %v", httpOrder)
	}
}

func TestAppendVarsServerNameAndPort(t *testing.T) {
	cases := []struct {
		name, in   string
		ci         ConnInfo
		host, port string
	}{
		{"host and port from Host", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", ConnInfo{ServerName: "srv"}, "a.example", "8080"},
		{"listener port wins", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", ConnInfo{ServerName: "srv", ServerPort: "9000"}, "a.example", "9000"},
		{"Host without port", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", ConnInfo{}, "a.example", "80"},
		{"https default port", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", ConnInfo{Scheme: "https"}, "a.example", "443"},
		{"empty port", "GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", ConnInfo{}, "a.example", "80"},
		{"IPv6", "GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", ConnInfo{}, "[::1]", "8443"},
		{"IPv6 no port", "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", ConnInfo{ServerPort: "81"}, "[2001:db8::1]", "81"},
		{"no Host", "GET / HTTP/1.0\r\n\r\n", ConnInfo{ServerName: "srv", ServerPort: "8000"}, "srv", "8000"},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", ConnInfo{ServerName: "srv"}, "srv", "80"},
		{"nothing at all", "GET / HTTP/1.0\r\n\r\n", ConnInfo{}, "localhost", "80"},
		{"absolute-form overrides Host", "GET http://u.example:81/p HTTP/1.1\r\nHost: h.example:82\r\n\r\n", ConnInfo{}, "u.example", "81"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := varsFor(t, c.in, &c.ci, -1)
			if got["SERVER_NAME"] != c.host || got["SERVER_PORT"] != c.port {
				t.Errorf("SERVER_NAME %q SERVER_PORT %q, want %q %q", got["SERVER_NAME"], got["SERVER_PORT"], c.host, c.port)
			}
		})
	}
}

func TestAppendVarsAbsoluteForm(t *testing.T) {
	got, _ := varsFor(t, "GET http://u.example/p%2Fq?x HTTP/1.1\r\nHost: h.example\r\n\r\n", nil, -1)
	if got["HTTP_HOST"] != "u.example" || got["PATH_INFO"] != "/p/q" || got["QUERY_STRING"] != "x" ||
		got["REQUEST_URI"] != "http://u.example/p%2Fq?x" {
		t.Errorf("%v", got)
	}
	got, _ = varsFor(t, "GET http://u.example HTTP/1.0\r\nUser-Agent: x\r\n\r\n", nil, -1)
	if got["HTTP_HOST"] != "u.example" || got["PATH_INFO"] != "/" || got["SERVER_PROTOCOL"] != "HTTP/1.0" {
		t.Errorf("%v", got)
	}
}

func TestAppendVarsHandBuilt(t *testing.T) {
	req := &Request{
		Method:        []byte("GET"),
		Target:        []byte("/x"),
		Path:          []byte("/x"),
		ProtoMajor:    1,
		ProtoMinor:    1,
		Host:          []byte("h:1"),
		ContentLength: -1,
		Headers: []Header{
			{[]byte("Host"), []byte("h:1")},
			{[]byte("Cookie"), []byte("a")},
			{[]byte("cookie"), []byte("b")},
			{[]byte("X_Y"), []byte("drop")},
		},
	}
	got := varsMap(t, req.AppendVars(nil, nil, -1))
	if got["HTTP_HOST"] != "h:1" || got["HTTP_COOKIE"] != "a; b" || got["SERVER_NAME"] != "h" || got["SERVER_PORT"] != "1" {
		t.Errorf("%v", got)
	}
	if _, ok := got["HTTP_X_Y"]; ok {
		t.Error("underscore header emitted")
	}
}

func TestPathInfoDecoding(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/", "/"},
		{"/plain", "/plain"},
		{"/a%20b", "/a b"},
		{"/a%2Fb", "/a/b"},
		{"/a%2fb", "/a/b"},
		{"/%4a%4A", "/JJ"},
		{"/%zz", "/%zz"},
		{"/%z1", "/%z1"},
		{"/%1z", "/%1z"},
		{"/a%", "/a%"},
		{"/a%4", "/a%4"},
		{"/%%41", "/%A"},
		{"/%%", "/%%"},
		{"/a+b", "/a+b"},
		{"/%2B", "/+"},
		{"/%e2%82%ac", "/\xe2\x82\xac"},
		{"/%00", "/\x00"},
		{"/%0D%0A", "/\r\n"},
		{"/%ff%FF", "/\xff\xff"},
		{"/caf\xc3\xa9", "/caf\xc3\xa9"},
		{"/%25", "/%"},
		{"/%2541", "/%41"},
	}
	for _, c := range cases {
		if got := string(appendUnescaped(nil, []byte(c.in))); got != c.want {
			t.Errorf("appendUnescaped(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(c.in, "%00") {
			continue // refused in an HTTP request line (TestReadRequestErrors)
		}
		got, _ := varsFor(t, "GET "+c.in+"?a=%20+b HTTP/1.1\r\nHost: h\r\n\r\n", nil, -1)
		if got["PATH_INFO"] != c.want || got["QUERY_STRING"] != "a=%20+b" {
			t.Errorf("%q: PATH_INFO %q QUERY_STRING %q", c.in, got["PATH_INFO"], got["QUERY_STRING"])
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "7": 7, "0010": 10, "9223372036854775807": 1<<63 - 1} {
		if n, ok := parseDecimal([]byte(s)); !ok || n != want {
			t.Errorf("parseDecimal(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "-1", "+1", " 1", "1 ", "1a", "9223372036854775808", "18446744073709551616"} {
		if _, ok := parseDecimal([]byte(s)); ok {
			t.Errorf("parseDecimal(%q) accepted", s)
		}
	}
}

// validValue's word-at-a-time path must agree with the byte table for
// every byte value in every position of a word, and across word ends.
func TestValidValue(t *testing.T) {
	buf := []byte("abcdefghijklmnopqrstu")
	for pos := range buf {
		for c := 0; c < 256; c++ {
			v := append([]byte(nil), buf...)
			v[pos] = byte(c)
			want := valueChars[c]
			if got := validValue(v); got != want {
				t.Fatalf("byte %#x at %d: validValue = %v, want %v", c, pos, got, want)
			}
		}
	}
	if !validValue([]byte("\xff\x80\xfe\x90 \t~!\xff\xff\xff\xff\xff\xff\xff\xff")) {
		t.Fatal("obs-text and HTAB rejected")
	}
}
