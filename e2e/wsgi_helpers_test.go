package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wsgiClient never waits forever: every e2e request has a generous deadline.
// wsgiStreamed is wsgi_app.py's STREAMED: repeats that make a first piece larger than the
// 64 KiB the server holds back, so that it is on the wire before the app goes on.
const wsgiStreamed = 20000

var wsgiClient = &http.Client{Timeout: 30 * time.Second}

// wsgiStart runs uwsgo on testdata/wsgi_app.py with the extra args.
func wsgiStart(t *testing.T, args ...string) *Server {
	t.Helper()
	return Start(t, append([]string{"--pypy-wsgi-file", testdata("wsgi_app.py")}, args...)...)
}

// wsgiDo sends one request with net/http and returns the response and its whole body.
func wsgiDo(t *testing.T, s *Server, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL(path), r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := wsgiClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nserver output:\n%s", method, path, err, s.Log())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v\nserver output:\n%s", method, path, err, s.Log())
	}
	return resp, b
}

// wsgiJSON sends a request that must succeed with 200 and decodes its JSON answer into v.
func wsgiJSON(t *testing.T, s *Server, method, path string, body []byte, v any) {
	t.Helper()
	resp, b := wsgiDo(t, s, method, path, body, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: status %d, body %q\nserver output:\n%s", method, path, resp.StatusCode, b, s.Log())
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s %s: %v in %q", method, path, err, b)
	}
}

// wsgiPing proves the server still serves normal requests.
func wsgiPing(t *testing.T, s *Server) {
	t.Helper()
	resp, b := wsgiDo(t, s, "GET", "/ping", nil, nil)
	if resp.StatusCode != 200 || string(b) != "pong" {
		t.Fatalf("GET /ping after the previous request: %d %q\nserver output:\n%s", resp.StatusCode, b, s.Log())
	}
}

// wsgiParse reads one response from raw bytes; bodyErr is what reading its body ended with
// (io.ErrUnexpectedEOF for a cut chunked body).
func wsgiParse(t *testing.T, raw, method string) (resp *http.Response, body []byte, bodyErr error) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("cannot parse the response to %s: %v; raw:\n%q", method, err, wsgiShort(raw))
	}
	body, bodyErr = io.ReadAll(resp.Body)
	return resp, body, bodyErr
}

// wsgiSplitHead splits a raw response at the end of its head.
func wsgiSplitHead(t *testing.T, raw string) (head, rest string) {
	t.Helper()
	head, rest, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no complete response head in %q", wsgiShort(raw))
	}
	return head, rest
}

func wsgiShort(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// wsgiLatin1 turns a str that Python sent through JSON (one code point per byte) back into
// the bytes it stands for.
func wsgiLatin1(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			t.Fatalf("%q holds %U, not a latin-1 code point", s, r)
		}
		b = append(b, byte(r))
	}
	return b
}

// wsgiToLatin1 is the inverse: the Go string whose runes are the bytes of b.
func wsgiToLatin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// wsgiWaitLogFrom waits until the log written after offset contains substr.
func wsgiWaitLogFrom(s *Server, offset int, substr string, d time.Duration) bool {
	return eventually(d, func() bool {
		l := s.Log()
		return len(l) > offset && strings.Contains(l[offset:], substr)
	})
}

func wsgiSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// wsgiRandom is n reproducible pseudo-random bytes.
func wsgiRandom(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// wsgiWriteFile writes data to a new file in a fresh temporary directory.
func wsgiWriteFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wsgiRawConn opens a connection to s with a deadline; the test's end closes it.
func wsgiRawConn(t *testing.T, s *Server, d time.Duration) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br := s.Dial()
	c.SetDeadline(time.Now().Add(d))
	return c, br
}

// wsgiChunked encodes parts as a chunked body.
func wsgiChunked(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		b.WriteString(strconv.FormatInt(int64(len(p)), 16))
		b.WriteString("\r\n")
		b.Write(p)
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}
