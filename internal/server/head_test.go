package server

import (
	"strings"
	"testing"

	"uwsgo/internal/pypy"
)

func TestAppendAppHead(t *testing.T) {
	// In the test table "|" stands for the NUL the setup module puts between a header's
	// name and value.
	cases := []struct {
		name, in string
		rc       int
		out      string
		h        appHead
	}{
		{"plain", "200 OK\r\nContent-Type|text/plain\r\n", 0,
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", appHead{code: 200, contentLength: -1}},
		{"length and date", "404 Not Found\r\ncontent-length|12\r\nDate|x\r\n", 0,
			"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\nDate: x\r\n", appHead{code: 404, contentLength: 12, hasDate: true}},
		{"hop-by-hop dropped, close kept", "200 OK\r\nConnection|Keep-Alive, close\r\nTransfer-Encoding|chunked\r\nKeep-Alive|5\r\nX|1\r\n", 0,
			"HTTP/1.1 200 OK\r\nX: 1\r\n", appHead{code: 200, contentLength: -1, close: true}},
		{"value whitespace trimmed", "200 OK\r\nX|  a b \t\r\n", 0, "HTTP/1.1 200 OK\r\nX: a b\r\n", appHead{code: 200, contentLength: -1}},
		{"colon in value", "200 OK\r\nX|a: b\r\n", 0, "HTTP/1.1 200 OK\r\nX: a: b\r\n", appHead{code: 200, contentLength: -1}},
		{"empty reason", "204 \r\n", 0, "HTTP/1.1 204 \r\n", appHead{code: 204, contentLength: -1}},
		{"no reason", "200\r\n", pypy.SendBadStatus, "", appHead{}},
		{"letters", "2OO OK\r\n", pypy.SendBadStatus, "", appHead{}},
		{"leading zero", "099 Odd\r\n", pypy.SendBadStatus, "", appHead{}},
		{"control in reason", "200 O\x01K\r\n", pypy.SendBadStatus, "", appHead{}},
		{"CRLF in status", "200 OK\r\nInjected: 1\r\n", pypy.SendBadHeader, "", appHead{}},
		{"space in name", "200 OK\r\nBad Name|x\r\n", pypy.SendBadHeader, "", appHead{}},
		{"colon in name", "200 OK\r\nX-A: Injected|yes\r\n", pypy.SendBadHeader, "", appHead{}},
		{"no separator", "200 OK\r\nNoValue\r\n", pypy.SendBadHeader, "", appHead{}},
		{"empty name", "200 OK\r\n|x\r\n", pypy.SendBadHeader, "", appHead{}},
		{"CRLF in value", "200 OK\r\nX|a\r\nInjected: 1\r\n", pypy.SendBadHeader, "", appHead{}},
		{"LF in value", "200 OK\r\nX|a\nInjected|1\r\n", pypy.SendBadHeader, "", appHead{}},
		{"NUL in value", "200 OK\r\nX|a|b\r\n", pypy.SendBadHeader, "", appHead{}},
		{"two lengths", "200 OK\r\nContent-Length|1\r\nContent-Length|1\r\n", pypy.SendBadHeader, "", appHead{}},
		{"bad length", "200 OK\r\nContent-Length|-1\r\n", pypy.SendBadHeader, "", appHead{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("earlier response|")
			out, h, rc := appendAppHead(prefix, []byte(strings.ReplaceAll(c.in, "|", "\x00")))
			if rc != c.rc {
				t.Fatalf("rc %d, want %d", rc, c.rc)
			}
			if !strings.HasPrefix(string(out), "earlier response|") {
				t.Fatalf("output before the head was changed: %q", out)
			}
			if rc != 0 {
				return
			}
			if got := strings.TrimPrefix(string(out), "earlier response|"); got != c.out {
				t.Fatalf("head %q, want %q", got, c.out)
			}
			if h != c.h {
				t.Fatalf("parsed %+v, want %+v", h, c.h)
			}
		})
	}
}

func TestHasToken(t *testing.T) {
	for v, want := range map[string]bool{"close": true, "Keep-Alive, CLOSE": true, " close ": true, "closed": false, "keep-alive": false, "": false, "x,,close": true} {
		if got := hasToken([]byte(v), "close"); got != want {
			t.Errorf("hasToken(%q) = %v", v, got)
		}
	}
}
