package e2e

// End-to-end tests of uwsgo's WSGI (PEP 3333) implementation: the environ and wsgi.input
// here; responses, file_wrapper, start_response and close() in wsgi_response_test.go; error
// handling in wsgi_errors_test.go; wsgiref.validate in wsgi_validate_test.go. The app is
// testdata/wsgi_app.py (and testdata/wsgi_validated.py).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wsgiEnviron is what /environ reports: every str-valued key, plus checks the app made.
type wsgiEnviron struct {
	Str  map[string]string
	Bad  []string
	Body string
	WSGI struct {
		VersionOK       bool   `json:"version_ok"`
		URLScheme       string `json:"url_scheme"`
		Multithread     bool   `json:"multithread"`
		Multiprocess    bool   `json:"multiprocess"`
		RunOnce         bool   `json:"run_once"`
		HasMultithread  bool   `json:"has_multithread"`
		HasMultiprocess bool   `json:"has_multiprocess"`
		HasRunOnce      bool   `json:"has_run_once"`
		FileWrapper     bool   `json:"file_wrapper"`
		ErrorsText      bool   `json:"errors_text"`
		InputAPI        bool   `json:"input_api"`
	}
}

func wsgiDecodeEnviron(t *testing.T, b []byte) *wsgiEnviron {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%v in %q", err, b)
	}
	e := &wsgiEnviron{Str: map[string]string{}}
	for k, v := range raw {
		var err error
		switch k {
		case "_bad":
			err = json.Unmarshal(v, &e.Bad)
		case "_body":
			err = json.Unmarshal(v, &e.Body)
		case "_wsgi":
			err = json.Unmarshal(v, &e.WSGI)
		default:
			var s string
			err = json.Unmarshal(v, &s)
			e.Str[k] = s
		}
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	return e
}

// wsgiRoundTrip writes a raw request on c and reads one response (method: the request's).
func wsgiRoundTrip(t *testing.T, c net.Conn, br *bufio.Reader, method, request string) (*http.Response, []byte) {
	t.Helper()
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the response to %q: %v", wsgiShort(request), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of the response to %q: %v", wsgiShort(request), err)
	}
	return resp, b
}

// TestWSGIEnviron sends one request with every kind of header and checks every CGI key,
// the HTTP_* keys (exactly one per header, repeated ones joined), and the wsgi.* keys.
func TestWSGIEnviron(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	c, br := s.Dial()
	_, port, _ := net.SplitHostPort(s.Addr)
	_, clientPort, _ := net.SplitHostPort(c.LocalAddr().String())

	target := "/environ/caf%C3%A9/a%2Fb/x+y%20z?q=1+2&r=%41&s=caf%C3%A9&t=a%2Fb"
	req := "POST " + target + " HTTP/1.1\r\n" +
		"Host: " + s.Addr + "\r\n" +
		"Content-Type: text/plain; charset=latin-1\r\n" +
		"Content-Length: 5\r\n" +
		"X-Multi: a\r\n" +
		"Cookie: a=1\r\n" +
		"User-Agent: wsgi-e2e\r\n" +
		"X-Multi: b\r\n" +
		"Cookie: b=2\r\n" +
		"x-lower-dashed-name: v\r\n" +
		"X-Latin: caf\xc3\xa9\r\n" +
		"Accept: */*\r\n" +
		"Connection: keep-alive\r\n" +
		"\r\nhello"
	resp, b := wsgiRoundTrip(t, c, br, "POST", req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %q\n%s", resp.StatusCode, b, s.Log())
	}
	e := wsgiDecodeEnviron(t, b)

	if len(e.Bad) != 0 {
		t.Errorf("keys or CGI values that are not native str: %q", e.Bad)
	}
	want := map[string]string{
		"REQUEST_METHOD":  "POST",
		"SCRIPT_NAME":     "",
		"PATH_INFO":       "/environ/caf\u00c3\u00a9/a/b/x+y z", // latin-1 str of the decoded bytes
		"QUERY_STRING":    "q=1+2&r=%41&s=caf%C3%A9&t=a%2Fb",    // raw
		"REQUEST_URI":     target,                               // raw
		"CONTENT_TYPE":    "text/plain; charset=latin-1",
		"CONTENT_LENGTH":  "5",
		"SERVER_NAME":     "127.0.0.1",
		"SERVER_PORT":     port,
		"SERVER_PROTOCOL": "HTTP/1.1",
		"REMOTE_ADDR":     "127.0.0.1",
		"REMOTE_PORT":     clientPort,

		"HTTP_HOST":                s.Addr,
		"HTTP_X_MULTI":             "a, b",
		"HTTP_COOKIE":              "a=1; b=2",
		"HTTP_USER_AGENT":          "wsgi-e2e",
		"HTTP_X_LOWER_DASHED_NAME": "v",
		"HTTP_X_LATIN":             "caf\u00c3\u00a9",
		"HTTP_ACCEPT":              "*/*",
		"HTTP_CONNECTION":          "keep-alive",
	}
	for k, v := range want {
		got, ok := e.Str[k]
		if !ok {
			t.Errorf("environ has no %s (want %q)", k, v)
		} else if got != v {
			t.Errorf("environ[%s] = %q, want %q", k, got, v)
		}
	}
	var httpKeys, wantHTTP []string
	for k := range e.Str {
		if strings.HasPrefix(k, "HTTP_") {
			httpKeys = append(httpKeys, k)
		}
	}
	for k := range want {
		if strings.HasPrefix(k, "HTTP_") {
			wantHTTP = append(wantHTTP, k)
		}
	}
	sort.Strings(httpKeys)
	sort.Strings(wantHTTP)
	if !reflect.DeepEqual(httpKeys, wantHTTP) {
		t.Errorf("HTTP_* keys = %q, want exactly %q (one per header, none for Content-Type/Content-Length)", httpKeys, wantHTTP)
	}
	if e.Body != "hello" {
		t.Errorf("wsgi.input gave %q, want %q", e.Body, "hello")
	}
	w := e.WSGI
	if !w.VersionOK {
		t.Error("wsgi.version is not the tuple (1, 0)")
	}
	if w.URLScheme != "http" {
		t.Errorf("wsgi.url_scheme = %q, want http", w.URLScheme)
	}
	if !w.HasMultithread || !w.HasMultiprocess || !w.HasRunOnce {
		t.Errorf("missing wsgi.multithread/multiprocess/run_once: %+v", w)
	}
	if w.Multithread || w.Multiprocess || w.RunOnce {
		t.Errorf("one process, one thread: want multithread, multiprocess, run_once all false; got %+v", w)
	}
	if !w.FileWrapper {
		t.Error("wsgi.file_wrapper is missing or not callable")
	}
	if !w.ErrorsText {
		t.Error("wsgi.errors is not a text stream with write, writelines and flush")
	}
	if !w.InputAPI {
		t.Error("wsgi.input lacks read, readline, readlines or __iter__")
	}

	// Next request on the same connection: no query string, no body.
	resp, b = wsgiRoundTrip(t, c, br, "GET", "GET /environ HTTP/1.1\r\nHost: "+s.Addr+"\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("second request: status %d %q", resp.StatusCode, b)
	}
	e = wsgiDecodeEnviron(t, b)
	for k, v := range map[string]string{"REQUEST_METHOD": "GET", "PATH_INFO": "/environ", "QUERY_STRING": "", "REQUEST_URI": "/environ", "SCRIPT_NAME": ""} {
		if got, ok := e.Str[k]; !ok || got != v {
			t.Errorf("GET /environ: environ[%s] = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_X_MULTI", "HTTP_COOKIE"} {
		if _, ok := e.Str[k]; ok {
			t.Errorf("GET /environ: %s is in the environ of a request that did not send it", k)
		}
	}
	if e.Body != "" {
		t.Errorf("GET without a body: wsgi.input gave %q", e.Body)
	}

	// HTTP/1.0.
	resp, b, _ = wsgiParse(t, s.Raw("GET /environ HTTP/1.0\r\n\r\n"), "GET")
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP/1.0: status %d %q", resp.StatusCode, b)
	}
	if p := wsgiDecodeEnviron(t, b).Str["SERVER_PROTOCOL"]; p != "HTTP/1.0" {
		t.Errorf("HTTP/1.0 request: SERVER_PROTOCOL = %q", p)
	}
}

// TestWSGIEnvironPathInfo checks the percent-decoding of PATH_INFO (to a latin-1 str) and
// that REQUEST_URI and QUERY_STRING stay raw.
func TestWSGIEnvironPathInfo(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	c, br := s.Dial()
	cases := []struct{ target, path, query string }{
		{"/environ/caf%C3%A9", "/environ/caf\u00c3\u00a9", ""},
		{"/environ/caf\xc3\xa9", "/environ/caf\u00c3\u00a9", ""},
		{"/environ/a%2Fb%2fc", "/environ/a/b/c", ""},
		{"/environ/x+y", "/environ/x+y", ""},
		{"/environ/sp%20ace", "/environ/sp ace", ""},
		{"/environ/%25%7e%41", "/environ/%~A", ""},
		{"/environ/%FF%01x", "/environ/\u00ff\u0001x", ""}, // %00 is refused: TestRelStrictRequests
		{"/environ/q?a=%2F+b&&c=%", "/environ/q", "a=%2F+b&&c=%"},
		{"/environ/empty?", "/environ/empty", ""},
	}
	for _, tc := range cases {
		resp, b := wsgiRoundTrip(t, c, br, "GET", "GET "+tc.target+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != 200 {
			t.Errorf("%q: status %d %q", tc.target, resp.StatusCode, b)
			continue
		}
		e := wsgiDecodeEnviron(t, b)
		if e.Str["PATH_INFO"] != tc.path {
			t.Errorf("%q: PATH_INFO = %q, want %q", tc.target, e.Str["PATH_INFO"], tc.path)
		}
		if got := e.Str["REQUEST_URI"]; got != wsgiToLatin1([]byte(tc.target)) {
			t.Errorf("%q: REQUEST_URI = %q, want it raw", tc.target, got)
		}
		if q, ok := e.Str["QUERY_STRING"]; !ok || q != tc.query {
			t.Errorf("%q: QUERY_STRING = %q (present %v), want %q", tc.target, q, ok, tc.query)
		}
		if len(e.Bad) != 0 {
			t.Errorf("%q: not native str: %q", tc.target, e.Bad)
		}
	}
}

// TestWSGIMultithread: wsgi.multithread follows --threads; one process is never multiprocess.
func TestWSGIMultithread(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		threads string
		want    bool
	}{{"1", false}, {"4", true}} {
		t.Run("threads="+tc.threads, func(t *testing.T) {
			t.Parallel()
			s := wsgiStart(t, "--threads", tc.threads)
			_, b := wsgiDo(t, s, "GET", "/environ", nil, nil)
			e := wsgiDecodeEnviron(t, b)
			if e.WSGI.Multithread != tc.want {
				t.Errorf("--threads %s: wsgi.multithread = %v, want %v", tc.threads, e.WSGI.Multithread, tc.want)
			}
			if e.WSGI.Multiprocess || e.WSGI.RunOnce {
				t.Errorf("--threads %s: multiprocess %v, run_once %v; want both false", tc.threads, e.WSGI.Multiprocess, e.WSGI.RunOnce)
			}
		})
	}
}

// TestWSGIErrorsStream: what the app writes to wsgi.errors appears in the server's log.
func TestWSGIErrorsStream(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	mark := "mark-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	resp, b := wsgiDo(t, s, "GET", "/errors?mark="+mark, nil, nil)
	if resp.StatusCode != 200 || string(b) != "written" {
		t.Fatalf("status %d %q", resp.StatusCode, b)
	}
	for _, want := range []string{"wsgi.errors says " + mark + "\n", "writelines " + mark + "\n"} {
		if !s.WaitLog(want, 10*time.Second) {
			t.Errorf("the log lacks %q; it is:\n%s", want, s.Log())
		}
	}
}

// wsgiInputBody has empty lines, a long line, binary bytes and no final newline.
var wsgiInputBody = []byte("first line\nsecond\n\n" + strings.Repeat("x", 30) + "\n\x00\xff\r\nno newline at end")

func wsgiLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

func wsgiPieces(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

// TestWSGIInput reads the same body with each wsgi.input method, from memory and from a
// spilled temporary file, and checks that EOF is sticky at CONTENT_LENGTH.
func TestWSGIInput(t *testing.T) {
	t.Parallel()
	body := wsgiInputBody
	var hinted [][]byte
	for _, l := range wsgiLines(body) {
		hinted = append(hinted, wsgiPieces(l, 4)...)
	}
	first := wsgiLines(body)[0]
	mixed := [][]byte{first, body[len(first) : len(first)+5]}
	mixed = append(mixed, wsgiLines(body[len(first)+5:])...)
	modes := []struct {
		query string
		want  [][]byte
	}{
		{"mode=read", [][]byte{body}},
		{"mode=read-1", [][]byte{body}},
		{"mode=pieces&n=1", wsgiPieces(body, 1)},
		{"mode=pieces&n=7", wsgiPieces(body, 7)},
		{"mode=pieces&n=1000", [][]byte{body}},
		{"mode=readline", wsgiLines(body)},
		{"mode=readline-hint&n=4", hinted},
		{"mode=readlines", wsgiLines(body)},
		{"mode=iter", wsgiLines(body)},
		{"mode=mixed&n=5", mixed},
	}
	for _, srv := range []struct {
		name string
		args []string
	}{
		{"memory", nil},
		{"spilled", []string{"--post-buffering", "0"}},
	} {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := wsgiStart(t, srv.args...)
			for _, m := range modes {
				var got struct {
					Parts      []string
					After      []string
					AfterLines int `json:"after_lines"`
					Types      []string
				}
				wsgiJSON(t, s, "POST", "/input?"+m.query, body, &got)
				var parts [][]byte
				for _, p := range got.Parts {
					parts = append(parts, wsgiLatin1(t, p))
				}
				if !reflect.DeepEqual(parts, m.want) {
					t.Errorf("%s: got %q, want %q", m.query, parts, m.want)
				}
				if !reflect.DeepEqual(got.After, []string{"", "", "", ""}) || got.AfterLines != 0 {
					t.Errorf("%s: after the end read(), read(7), readline(), readline(3) gave %q and readlines() %d lines; want all empty", m.query, got.After, got.AfterLines)
				}
				if !reflect.DeepEqual(got.Types, []string{"bytes"}) {
					t.Errorf("%s: wsgi.input returned types %q, want only bytes", m.query, got.Types)
				}
			}
			// Prove which path the body took: a file descriptor only when spilled.
			var where wsgiSHAResult
			wsgiJSON(t, s, "POST", "/sha", body, &where)
			if spilled := where.Spill != ""; spilled != (srv.name == "spilled") {
				t.Errorf("server %s: wsgi.input is backed by %q", srv.name, where.Spill)
			}
			// No body at all, and an empty one.
			for _, tc := range []struct {
				method string
				body   []byte
			}{{"GET", nil}, {"POST", []byte{}}} {
				var got struct{ Parts, After []string }
				wsgiJSON(t, s, tc.method, "/input?mode=read", tc.body, &got)
				if !reflect.DeepEqual(got.Parts, []string{""}) || !reflect.DeepEqual(got.After, []string{"", "", "", ""}) {
					t.Errorf("%s without a body: read() gave %q then %q", tc.method, got.Parts, got.After)
				}
			}
		})
	}
}

// TestWSGIInputStopsAtContentLength: the app's read() returns at the end of the body while
// the client keeps the connection open, and never eats a pipelined request that follows.
func TestWSGIInputStopsAtContentLength(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	c, br := wsgiRawConn(t, s, 10*time.Second)
	type inputResult struct{ Parts, After []string }
	check := func(what string, b []byte, want string) {
		t.Helper()
		var got inputResult
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v in %q", what, err, b)
		}
		if !reflect.DeepEqual(got.Parts, []string{want}) || !reflect.DeepEqual(got.After, []string{"", "", "", ""}) {
			t.Errorf("%s: read() gave %q, then %q; want %q then empty", what, got.Parts, got.After, want)
		}
	}
	// The connection stays open and idle after the body: read() must not wait for more.
	for _, mode := range []string{"read", "readline", "readlines", "iter"} {
		resp, b := wsgiRoundTrip(t, c, br, "POST", "POST /input?mode="+mode+" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
		if resp.StatusCode != 200 {
			t.Fatalf("mode %s: status %d %q", mode, resp.StatusCode, b)
		}
		var got inputResult
		json.Unmarshal(b, &got)
		if strings.Join(got.Parts, "") != "hello" {
			t.Errorf("mode %s on an open connection: got %q", mode, got.Parts)
		}
	}
	// Two requests in one write: the first body's end is the second request's start.
	pipelined := "POST /input?mode=read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /input?mode=read HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nbye" +
		"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(c, pipelined); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"hello", "bye"} {
		resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		check(fmt.Sprintf("pipelined request %d", i), b, want)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("pipelined GET /ping: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "pong" {
		t.Errorf("pipelined GET /ping after two bodies: %q", b)
	}
}

// wsgiSHAResult is what /sha (and the validated /digest) report.
type wsgiSHAResult struct {
	SHA256        string  `json:"sha256"`
	Len           int     `json:"len"`
	ContentLength *string `json:"content_length"`
	EOF           bool    `json:"eof"`
	Spill         string  `json:"spill"`
}

// TestWSGIInputChunked sends chunked request bodies from a raw socket: the app reads them
// decoded, in memory and spilled to a file.
func TestWSGIInputChunked(t *testing.T) {
	t.Parallel()
	small := [][]byte{[]byte("hello "), []byte("chunked"), []byte(" world\nsecond line\n")}
	var large [][]byte
	for i := 0; i < 40; i++ {
		large = append(large, wsgiRandom(50_000+i, int64(i)))
	}
	for _, tc := range []struct {
		name  string
		args  []string
		parts [][]byte
	}{
		{"small", nil, small},
		{"large-spilled", []string{"--post-buffering", "65536"}, large},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := wsgiStart(t, tc.args...)
			whole := bytes.Join(tc.parts, nil)
			c, br := wsgiRawConn(t, s, 20*time.Second)
			req := "POST /sha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n" + string(wsgiChunked(tc.parts...))
			resp, b := wsgiRoundTrip(t, c, br, "POST", req)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d %q\n%s", resp.StatusCode, b, s.Log())
			}
			var got wsgiSHAResult
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.SHA256 != wsgiSHA(whole) || got.Len != len(whole) || !got.EOF {
				t.Errorf("chunked body of %d bytes arrived as %d bytes, sha %s (want %s), eof %v", len(whole), got.Len, got.SHA256, wsgiSHA(whole), got.EOF)
			}
			if got.ContentLength != nil && *got.ContentLength != "" && *got.ContentLength != strconv.Itoa(len(whole)) {
				t.Errorf("CONTENT_LENGTH = %q for a chunked body of %d bytes", *got.ContentLength, len(whole))
			}
			// The decoder stopped at the terminator: the connection serves the next request.
			if _, b := wsgiRoundTrip(t, c, br, "GET", "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"); string(b) != "pong" {
				t.Errorf("GET /ping after the chunked body: %q", b)
			}
			// readline() over a chunked body.
			var lines struct{ Parts []string }
			_, b = wsgiRoundTrip(t, c, br, "POST", "POST /input?mode=readline HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+string(wsgiChunked([]byte("ab\nc"), []byte("d\n"), []byte("e"))))
			if err := json.Unmarshal(b, &lines); err != nil || !reflect.DeepEqual(lines.Parts, []string{"ab\n", "cd\n", "e"}) {
				t.Errorf("readline() over a chunked body: %q (%v)", lines.Parts, err)
			}
		})
	}
}

// TestWSGIInputLargeSpilled sends 5 MiB with --post-buffering 65536 and TMPDIR set to a
// directory of the test's own: the body is spilled there, arrives intact, and nothing is
// left behind (no file, no open descriptor) once the request is done.
func TestWSGIInputLargeSpilled(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := Run(t, []string{"--pypy-wsgi-file", testdata("wsgi_app.py"), "--post-buffering", "65536"}, HTTP(), Env("TMPDIR="+tmp))
	body := wsgiRandom(5<<20, 5)
	var got wsgiSHAResult
	wsgiJSON(t, s, "POST", "/sha", body, &got)
	if got.SHA256 != wsgiSHA(body) || got.Len != len(body) || !got.EOF {
		t.Errorf("5 MiB body arrived as %d bytes, sha %s, want %s", got.Len, got.SHA256, wsgiSHA(body))
	}
	if got.ContentLength == nil || *got.ContentLength != strconv.Itoa(len(body)) {
		t.Errorf("CONTENT_LENGTH = %v, want %d", got.ContentLength, len(body))
	}
	if !strings.HasPrefix(got.Spill, tmp+string(os.PathSeparator)) {
		t.Errorf("the app's wsgi.input is %q, not a file in TMPDIR %s: was the body spilled?", got.Spill, tmp)
	}
	pid := s.Cmd.Process.Pid
	leftovers := func() []string {
		var left []string
		entries, _ := os.ReadDir(tmp)
		for _, e := range entries {
			left = append(left, "file "+e.Name())
		}
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && strings.HasPrefix(target, tmp) {
				left = append(left, "open descriptor "+fd+" -> "+target)
			}
		}
		return left
	}
	if !eventually(5*time.Second, func() bool { return len(leftovers()) == 0 }) {
		t.Errorf("after the request TMPDIR still holds: %q", leftovers())
	}
	wsgiPing(t, s)
}
