package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A finished response goes out at once, whatever bytes of the next request are already
// read behind it: the CRLF a client sends after a POST body (RFC 9112 §2.2), the start of
// a pipelined request, or a whole pipelined request that Python takes long to answer.
// Before, each of them held the response back for --socket-timeout.
func TestRelFlushDoesNotWaitForTheNextRequest(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--socket-timeout", "60", "--threads", "2")
	t.Cleanup(func() { s.Cmd.Process.Kill() }) // a /sleep may still run
	cases := []struct{ name, send, path string }{
		{"CRLF after a body", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\r\n", "/post"},
		{"a partial pipelined request", "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTT", "/first"},
		{"a slow pipelined request", "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /sleep?40 HTTP/1.1\r\nHost: x\r\n\r\n", "/first"},
	}
	for _, tc := range cases {
		c, r := s.Dial()
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c.SetReadDeadline(start.Add(20 * time.Second))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s: no response within 20 s (--socket-timeout is 60): %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), tc.path) {
			t.Fatalf("%s: got %d %q", tc.name, resp.StatusCode, body)
		}
		// Generous: the response is written as soon as Python returns, which is
		// milliseconds; before, it waited for the 60 s socket timeout.
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%s: the response took %v", tc.name, d)
		}
		c.Close()
	}
	// The connection whose CRLF followed the body is still good for another request.
	c, r := s.Dial()
	io.WriteString(c, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"/a", "/b"} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("reading the answer to %s: %v", want, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), want) {
			t.Fatalf("answer to %s: %q", want, body)
		}
	}
}
