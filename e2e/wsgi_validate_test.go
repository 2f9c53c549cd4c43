package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestWSGIValidator runs testdata/wsgi_validated.py, an app wrapped in
// wsgiref.validate.validator with warnings made errors, through every kind of request and
// error path. Each request must get its expected answer, and the log must hold no
// AssertionError, no warning and no unclosed iterator: the only tracebacks are those of
// the two routes that raise on purpose.
func TestWSGIValidator(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("wsgi_validated.py"))

	expect := func(method, path string, body []byte, hdr map[string]string, status int, want string) []byte {
		t.Helper()
		resp, b := wsgiDo(t, s, method, path, body, hdr)
		if resp.StatusCode != status || (want != "" && string(b) != want) {
			t.Errorf("%s %s: %d %q, want %d %q", method, path, resp.StatusCode, wsgiShort(string(b)), status, want)
		}
		return b
	}
	digest := func(what string, b []byte, want []byte) {
		t.Helper()
		var got wsgiSHAResult
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%s: %v in %q", what, err, b)
			return
		}
		if got.SHA256 != wsgiSHA(want) || got.Len != len(want) {
			t.Errorf("%s: got %d bytes (sha %s), want %d", what, got.Len, got.SHA256, len(want))
		}
	}

	expect("GET", "/hello", nil, nil, 200, "hello, validated world\n")

	raw := s.Raw("HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if head, rest := wsgiSplitHead(t, raw); !strings.HasPrefix(head, "HTTP/1.1 200 ") || !strings.Contains(head, "X-Method: HEAD") || rest != "" {
		t.Errorf("HEAD /hello: %q", wsgiShort(raw))
	}

	for q, want := range map[string]string{
		"/query?a=1&b=%20x+y&c": `{"path": "/query", "query": "a=1&b=%20x+y&c"}`,
		"/query":                `{"path": "/query", "query": ""}`,
		"/query?":               `{"path": "/query", "query": ""}`,
	} {
		expect("GET", q, nil, nil, 200, want)
	}

	small := []byte("a small body\nwith two lines\n")
	digest("POST with Content-Length", expect("POST", "/digest", small, map[string]string{"Content-Type": "text/plain"}, 200, ""), small)

	chunks := [][]byte{[]byte("chunked "), wsgiRandom(70_000, 7), []byte(" end")}
	resp, b, _ := wsgiParse(t, s.Raw("POST /digest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"+string(wsgiChunked(chunks...))), "POST")
	if resp.StatusCode != 200 {
		t.Errorf("chunked POST: %d %q", resp.StatusCode, b)
	}
	digest("chunked POST", b, bytes.Join(chunks, nil))

	large := wsgiRandom(5<<20, 8) // beyond the default --post-buffering: a spilled body
	digest("5 MiB POST", expect("POST", "/digest", large, map[string]string{"Content-Type": "application/octet-stream"}, 200, ""), large)

	expect("POST", "/lines", []byte("one\ntwo\nthree"), map[string]string{"Content-Type": "text/plain"}, 200,
		`{"lines": ["one\n", "two\n", "three"], "rest": []}`)
	expect("GET", "/generator", nil, nil, 200, "gen-one\ngen-two\n")
	expect("GET", "/write", nil, nil, 200, "written,returned\n")
	expect("GET", "/file", nil, nil, 200, strings.Repeat("file-wrapped bytes\n", 1000))
	expect("GET", "/errors", nil, nil, 200, "ok\n")
	if !s.WaitLog("validated wsgi.errors line\n", 5*time.Second) || !s.WaitLog("validated writelines\n", 5*time.Second) {
		t.Errorf("wsgi.errors output is not in the log:\n%s", s.Log())
	}
	expect("GET", "/replace", nil, nil, 500, "replaced\n")
	expect("GET", "/no-content", nil, nil, 204, "")

	// Error paths inside the validator.
	expect("GET", "/raise", nil, nil, 500, "")
	raw = s.Raw("GET /raise-mid HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body, err := wsgiParse(t, raw, "GET"); resp.StatusCode != 200 || string(body) != strings.Repeat("before the failure\n", 4000) || err == nil {
		t.Errorf("GET /raise-mid: %d %q, body error %v; want 200, the first chunk, then a cut", resp.StatusCode, wsgiShort(string(body)), err)
	}
	for _, m := range []string{"RuntimeError: validator-raise-marker", "RuntimeError: validator-raise-mid-marker"} {
		if !s.WaitLog(m, 5*time.Second) {
			t.Errorf("the log lacks %q", m)
		}
	}

	// Collect garbage so that an iterator the server never closed would complain now.
	expect("GET", "/gc", nil, nil, 200, "collected\n")
	expect("GET", "/hello", nil, nil, 200, "hello, validated world\n")

	log := s.Log()
	for _, bad := range []string{"AssertionError", "Warning", "garbage collected without being closed", "Exception ignored"} {
		if strings.Contains(log, bad) {
			t.Errorf("the log has %q: the validator found a PEP 3333 violation:\n%s", bad, log)
		}
	}
	if n := strings.Count(log, "Traceback (most recent call last)"); n != 2 {
		t.Errorf("the log has %d tracebacks, want exactly the 2 of /raise and /raise-mid:\n%s", n, log)
	}
}
