package proto

import (
	"strings"
	"testing"
)

func TestAppendResponseHead(t *testing.T) {
	// In the test table "|" stands for the NUL the setup module puts between a header's
	// name and value.
	cases := []struct {
		name, in string
		err      error
		out      string
		h        ResponseHead
	}{
		{"plain", "200 OK\r\nContent-Type|text/plain\r\n", nil,
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", ResponseHead{Code: 200, ContentLength: -1}},
		{"length and date", "404 Not Found\r\ncontent-length|12\r\nDate|x\r\n", nil,
			"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\nDate: x\r\n", ResponseHead{Code: 404, ContentLength: 12, HasDate: true}},
		{"hop-by-hop dropped, close kept", "200 OK\r\nConnection|Keep-Alive, close\r\nTransfer-Encoding|chunked\r\nKeep-Alive|5\r\nX|1\r\n", nil,
			"HTTP/1.1 200 OK\r\nX: 1\r\n", ResponseHead{Code: 200, ContentLength: -1, Close: true}},
		{"value whitespace trimmed", "200 OK\r\nX|  a b \t\r\n", nil, "HTTP/1.1 200 OK\r\nX: a b\r\n", ResponseHead{Code: 200, ContentLength: -1}},
		{"colon in value", "200 OK\r\nX|a: b\r\n", nil, "HTTP/1.1 200 OK\r\nX: a: b\r\n", ResponseHead{Code: 200, ContentLength: -1}},
		{"empty reason", "204 \r\n", nil, "HTTP/1.1 204 \r\n", ResponseHead{Code: 204, ContentLength: -1}},
		{"no reason", "200\r\n", ErrBadStatus, "", ResponseHead{}},
		{"letters", "2OO OK\r\n", ErrBadStatus, "", ResponseHead{}},
		{"leading zero", "099 Odd\r\n", ErrBadStatus, "", ResponseHead{}},
		{"control in reason", "200 O\x01K\r\n", ErrBadStatus, "", ResponseHead{}},
		{"CRLF in status", "200 OK\r\nInjected: 1\r\n", ErrBadHeader, "", ResponseHead{}},
		{"space in name", "200 OK\r\nBad Name|x\r\n", ErrBadHeader, "", ResponseHead{}},
		{"colon in name", "200 OK\r\nX-A: Injected|yes\r\n", ErrBadHeader, "", ResponseHead{}},
		{"no separator", "200 OK\r\nNoValue\r\n", ErrBadHeader, "", ResponseHead{}},
		{"empty name", "200 OK\r\n|x\r\n", ErrBadHeader, "", ResponseHead{}},
		{"CRLF in value", "200 OK\r\nX|a\r\nInjected: 1\r\n", ErrBadHeader, "", ResponseHead{}},
		{"LF in value", "200 OK\r\nX|a\nInjected|1\r\n", ErrBadHeader, "", ResponseHead{}},
		{"NUL in value", "200 OK\r\nX|a|b\r\n", ErrBadHeader, "", ResponseHead{}},
		{"two lengths", "200 OK\r\nContent-Length|1\r\nContent-Length|1\r\n", ErrBadHeader, "", ResponseHead{}},
		{"bad length", "200 OK\r\nContent-Length|-1\r\n", ErrBadHeader, "", ResponseHead{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("earlier response|")
			out, h, err := AppendResponseHead(prefix, []byte(strings.ReplaceAll(c.in, "|", "\x00")))
			if err != c.err {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if !strings.HasPrefix(string(out), "earlier response|") {
				t.Fatalf("output before the head was changed: %q", out)
			}
			if err != nil {
				if string(out) != "earlier response|" {
					t.Fatalf("a refused head left %q in the output", out)
				}
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

func TestResponseHeadConnectionClose(t *testing.T) {
	for v, want := range map[string]bool{"close": true, "Keep-Alive, CLOSE": true, " close ": true, "closed": false, "keep-alive": false, "": false, "x,,close": true} {
		_, h, err := AppendResponseHead(nil, []byte("200 OK\r\nConnection\x00"+v+"\r\n"))
		if err != nil || h.Close != want {
			t.Errorf("Connection: %q: close %v (%v), want %v", v, h.Close, err, want)
		}
	}
}
