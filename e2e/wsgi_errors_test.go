package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestWSGIAppRaises: an exception in the app is a 500 for the client and a traceback with
// its message in the log; the next request is served normally.
func TestWSGIAppRaises(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for i, mark := range []string{"first-failure-xyzzy", "second-failure-plugh"} {
		resp, b := wsgiDo(t, s, "GET", "/raise?mark="+mark, nil, nil)
		if resp.StatusCode != 500 {
			t.Errorf("request %d: %d %q, want 500", i, resp.StatusCode, b)
		}
		if strings.Contains(string(b), mark) {
			t.Errorf("the exception's message leaked to the client: %q", b)
		}
		if !s.WaitLog("RuntimeError: "+mark, 10*time.Second) {
			t.Errorf("the log lacks the traceback of %q:\n%s", mark, s.Log())
		} else if l := s.Log(); !strings.Contains(l[:strings.Index(l, "RuntimeError: "+mark)], "Traceback (most recent call last)") {
			t.Errorf("the exception %q is logged without its traceback:\n%s", mark, l)
		}
		wsgiPing(t, s)
	}
}

// wsgiExpect500 requests path on a fresh connection and checks for a 500 whose raw bytes
// hold none of the forbidden strings (case-insensitive), and that the log grew a traceback.
func wsgiExpect500(t *testing.T, s *Server, path string, forbidden ...string) {
	t.Helper()
	off := len(s.Log())
	raw := s.Raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	ok := strings.HasPrefix(raw, "HTTP/1.1 500 ")
	if !ok {
		t.Errorf("%s: want a 500, got %q", path, wsgiShort(raw))
	}
	low := strings.ToLower(raw)
	for _, f := range forbidden {
		if strings.Contains(low, strings.ToLower(f)) {
			t.Errorf("%s: %q reached the client: %q", path, f, wsgiShort(raw))
		}
	}
	if ok && !wsgiWaitLogFrom(s, off, "Traceback (most recent call last)", 10*time.Second) {
		t.Errorf("%s: no traceback in the log:\n%s", path, s.Log()[off:])
	}
}

// TestWSGIBadBody: a body of str instead of bytes is a 500 and a logged TypeError.
func TestWSGIBadBody(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, c := range []string{"list", "gen", "bare"} {
		off := len(s.Log())
		wsgiExpect500(t, s, "/str?case="+c, "a str, not bytes", "a bare str")
		if !wsgiWaitLogFrom(s, off, "TypeError", 5*time.Second) {
			t.Errorf("str body (%s): no TypeError in the log:\n%s", c, s.Log()[off:])
		}
	}
	wsgiPing(t, s)
}

// TestWSGIBadHeaders: invalid status lines and headers (wrong types, CR/LF, bad names) are a
// 500, and nothing the app tried to inject appears on the wire.
func TestWSGIBadHeaders(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	cases := []string{
		"bytes-name", "int-value", "bytes-value",
		"crlf-value", "lf-value", "cr-value", "crlf-name",
		"space-name", "colon-name", "empty-name", "not-pair", "tuple-headers",
		"status-no-reason", "status-words", "status-4digit", "status-bytes", "status-crlf",
	}
	for _, c := range cases {
		for _, via := range []string{"list", "write", "gen"} {
			t.Run(c+"/"+via, func(t *testing.T) {
				wsgiExpect500(t, s, "/badhead?case="+c+"&via="+via, "Injected")
			})
		}
	}
	wsgiPing(t, s)
}

// TestWSGINoStartResponse: an app that never calls start_response gets a 500.
func TestWSGINoStartResponse(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, c := range []string{"list", "empty", "gen"} {
		wsgiExpect500(t, s, "/nostart?case="+c, "body without start_response")
	}
	wsgiPing(t, s)
}

// TestWSGIErrorBeforeFirstByte: a generator that yields only b"" and then raises has sent
// nothing (PEP 3333: the head waits for the first non-empty chunk), so the client gets a
// clean 500, not the app's status or headers.
func TestWSGIErrorBeforeFirstByte(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	wsgiExpect500(t, s, "/empty-then-raise?mark=empty-then-raise-marker", "X-Never")
	if !s.WaitLog("RuntimeError: empty-then-raise-marker", 5*time.Second) {
		t.Errorf("no traceback with the message in the log:\n%s", s.Log())
	}
	wsgiPing(t, s)
}

// TestWSGIErrorAfterHeaders: a streaming generator that raises after its first chunk gets
// the connection cut (no clean chunked end), the traceback logged, and the server goes on.
func TestWSGIErrorAfterHeaders(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for i := 0; i < 2; i++ { // twice: the first failure left nothing behind
		raw := s.Raw("GET /stream-raise?mark=stream-raise-marker HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body, err := wsgiParse(t, raw, "GET")
		if resp.StatusCode != 200 || string(body) != strings.Repeat("first chunk\n", wsgiStreamed) {
			t.Errorf("got %d %q, want 200 and the first chunk", resp.StatusCode, wsgiShort(string(body)))
		}
		if err == nil || strings.HasSuffix(raw, "0\r\n\r\n") {
			t.Errorf("the response ended cleanly: %q", wsgiShort(raw))
		}
		if !s.WaitLog("RuntimeError: stream-raise-marker", 5*time.Second) {
			t.Errorf("no traceback with the message in the log:\n%s", s.Log())
		}
		wsgiPing(t, s)
	}
}
