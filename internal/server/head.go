package server

import (
	"bytes"

	"uwsgo/internal/pypy"
)

// appHead is what the response writer needs to know of the status and headers an app
// gave to start_response.
type appHead struct {
	code          int
	contentLength int64 // -1: the app gave none
	close         bool  // the app asked for Connection: close
	hasDate       bool
}

var tokenChar [256]bool

func init() {
	for c := '0'; c <= '9'; c++ {
		tokenChar[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		tokenChar[c] = true
		tokenChar[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tokenChar[c] = true
	}
}

// appendAppHead checks the app's "NNN Reason\r\nName\x00value\r\n..." and appends it to out
// as an HTTP/1.1 status line and header lines (without the blank line). Hop-by-hop
// headers are dropped: framing and connection management are the server's (PEP 3333
// forbids apps to send them), though Connection: close is honoured. It returns one of
// pypy.SendBadStatus or pypy.SendBadHeader, or 0.
func appendAppHead(out, head []byte) ([]byte, appHead, int) {
	h := appHead{contentLength: -1}
	line, rest := cutLine(head)
	if len(line) < 4 || line[3] != ' ' || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) || line[0] == '0' || hasCTL(line[4:]) {
		return out, h, pypy.SendBadStatus
	}
	h.code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	out = append(out, "HTTP/1.1 "...)
	out = append(out, line...)
	out = append(out, "\r\n"...)
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		sep := bytes.IndexByte(line, 0)
		if sep <= 0 {
			return out, h, pypy.SendBadHeader
		}
		name, value := line[:sep], trimOWS(line[sep+1:])
		for _, c := range name {
			if !tokenChar[c] {
				return out, h, pypy.SendBadHeader
			}
		}
		if hasCTL(value) {
			return out, h, pypy.SendBadHeader
		}
		switch {
		case equalFold(name, "Content-Length"):
			n, ok := parseLength(value)
			if !ok || h.contentLength >= 0 {
				return out, h, pypy.SendBadHeader
			}
			h.contentLength = n
		case equalFold(name, "Connection"):
			if hasToken(value, "close") {
				h.close = true
			}
			continue
		case equalFold(name, "Transfer-Encoding"), equalFold(name, "Keep-Alive"), equalFold(name, "Proxy-Connection"):
			continue
		case equalFold(name, "Date"):
			h.hasDate = true
		}
		out = append(out, name...)
		out = append(out, ": "...)
		out = append(out, value...)
		out = append(out, "\r\n"...)
	}
	return out, h, 0
}

// cutLine splits at the first CRLF; the setup module ends every line with one.
func cutLine(b []byte) (line, rest []byte) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:]
		}
	}
	return b, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hasCTL(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasToken reports whether the comma-separated list v holds token t (case-insensitive).
func hasToken(v []byte, t string) bool {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		item := v
		if i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if equalFold(trimOWS(item), t) {
			return true
		}
	}
	return false
}

func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
