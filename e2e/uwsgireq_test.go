package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The request-level functions of the uwsgi module: WebSockets (uwsgireq_ws_test.go),
// sendfile, chunked_read, disconnect, connection_fd, request_id, and all of them called
// outside a request. The app is testdata/uwsgireq_app.py.

// ureqConfigs are the process layouts where the request functions must work alike.
var ureqConfigs = []struct {
	name string
	args []string
}{
	{"single", nil},
	{"master2", []string{"--master", "--processes", "2"}},
}

func ureqStart(t *testing.T, args ...string) *Server {
	t.Helper()
	return Start(t, append([]string{"--pypy-wsgi-file", testdata("uwsgireq_app.py")}, args...)...)
}

// ureqRecFile is a path where the app may record what happened.
func ureqRecFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "rec")
}

// ureqWaitFile waits (10 s at most, while the server lives) for the app to write path
// and returns its content.
func ureqWaitFile(t *testing.T, s *Server, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return string(b)
		}
		if s.Exited(0) != -1 {
			t.Fatalf("the server died before the app wrote %s; its output:\n%s", path, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the app never wrote %s; server output:\n%s", path, s.Log())
	return ""
}

// ureqServesOn requires the server to answer plain requests, each on a new connection
// (connections that were in a WebSocket session or disconnected must leave nothing
// behind for the next ones), completely.
func ureqServesOn(t *testing.T, s *Server) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 20; i++ {
		resp, err := client.Get(s.URL("/pid"))
		if err != nil {
			t.Fatalf("the server does not serve on: %v\nserver output:\n%s", err, s.Log())
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"pid"`) {
			t.Fatalf("the server does not serve on: request %d after: status %d, body %q, %v (Content-Length %d)\nserver output:\n%s",
				i+1, resp.StatusCode, body, err, resp.ContentLength, s.Log())
		}
	}
}

// ureqNoCrash requires a log without Go panics, fatal signals or worker deaths.
func ureqNoCrash(t *testing.T, s *Server) {
	t.Helper()
	log := s.Log()
	for _, bad := range []string{"panic:", "SIGSEGV", "fatal error:", "goroutine ", "died", "respawn"} {
		if strings.Contains(log, bad) {
			t.Errorf("the server log has %q:\n%s", bad, log)
			return
		}
	}
}

// ureqJSON fetches path with a fresh connection and decodes the JSON answer into v.
func ureqJSON(t *testing.T, s *Server, path string, v any) int {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(s.URL(path))
	if err != nil {
		t.Fatalf("GET %s: %v\nserver output:\n%s", path, err, s.Log())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %q", path, err, body)
		}
	}
	return resp.StatusCode
}

func ureqSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestUwsgiReqSendfile: uwsgi.sendfile() with a path, an open file object and a
// descriptor sends the file as the body with its Content-Length, on one keep-alive
// connection (so the framing of each is exact); HEAD gets the head only.
func TestUwsgiReqSendfile(t *testing.T) {
	t.Parallel()
	s := ureqStart(t)
	dir := t.TempDir()
	files := map[string][]byte{
		"small": []byte("a small file\n"),
		"empty": {},
		"large": ureqRandom(3<<20 + 123),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Timeout: 20 * time.Second}
	for _, mode := range []string{"path", "obj", "fd"} {
		for _, name := range []string{"small", "large", "empty"} {
			data := files[name]
			path := "/sendfile?mode=" + mode + "&path=" + url.QueryEscape(filepath.Join(dir, name))
			resp, err := client.Get(s.URL(path))
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", mode, name, err, s.Log())
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s %s: reading the body: %v", mode, name, err)
			}
			if resp.StatusCode != 200 {
				t.Errorf("%s %s: status %d: %q", mode, name, resp.StatusCode, ureqShort(body))
				continue
			}
			if resp.ContentLength != int64(len(data)) {
				t.Errorf("%s %s: Content-Length %d, want %d", mode, name, resp.ContentLength, len(data))
			}
			if got := resp.Header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("%s %s: Content-Type %q: the app's head was not used", mode, name, got)
			}
			if ureqSHA(body) != ureqSHA(data) {
				t.Errorf("%s %s: got %d bytes (sha256 %s), want %d bytes (sha256 %s)", mode, name, len(body), ureqSHA(body), len(data), ureqSHA(data))
			}
		}
	}

	// HEAD: a head, no body.
	for _, mode := range []string{"path", "obj", "fd"} {
		path := "/sendfile?mode=" + mode + "&path=" + url.QueryEscape(filepath.Join(dir, "large"))
		raw := s.Raw("HEAD " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		head, body, ok := strings.Cut(raw, "\r\n\r\n")
		if !ok || !strings.HasPrefix(head, "HTTP/1.1 200 ") {
			t.Errorf("HEAD %s: got %q", mode, ureqShort([]byte(raw)))
			continue
		}
		if body != "" {
			t.Errorf("HEAD %s: %d body bytes after the head", mode, len(body))
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(head+"\r\n\r\n")), &http.Request{Method: "HEAD"})
		if err != nil {
			t.Errorf("HEAD %s: %v", mode, err)
			continue
		}
		if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(files["large"])) {
			t.Errorf("HEAD %s: Content-Length %s, want %d (or none)", mode, cl, len(files["large"]))
		}
	}
	ureqNoCrash(t, s)
}

// ureqChunkedPost sends body as a chunked POST to target, cut into the given chunk
// sizes, and decodes the JSON answer.
func ureqChunkedPost(t *testing.T, s *Server, target string, body []byte, sizes []int) map[string]any {
	t.Helper()
	c, br := s.Dial()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	w := bufio.NewWriter(c)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", target)
	rest := body
	for i := 0; len(rest) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(rest))
		fmt.Fprintf(w, "%x\r\n", n)
		w.Write(rest[:n])
		w.WriteString("\r\n")
		rest = rest[n:]
	}
	w.WriteString("0\r\n\r\n")
	if err := w.Flush(); err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("POST %s: %v\n%s", target, err, s.Log())
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	var v map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(out, &v) != nil {
		t.Fatalf("POST %s: %d %q\n%s", target, resp.StatusCode, ureqShort(out), s.Log())
	}
	return v
}

// TestUwsgiReqChunkedRead: chunked_read() and chunked_read_nb() return a chunked body
// piece by piece, then b""; the pieces make up exactly what was sent, in memory or
// spilled to a file.
func TestUwsgiReqChunkedRead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		body  []byte
		sizes []int
		args  []string
	}{
		{"empty", nil, []int{1}, nil},
		{"small", []byte("abcdef"), []int{2, 1, 3}, nil},
		{"many", ureqRandom(400 << 10), []int{1, 100, 5000, 20000, 70000, 3}, nil},
		{"spilled", ureqRandom(300 << 10), []int{4096, 10000, 65536}, []string{"--post-buffering", "4096"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, tc.args...)
			for _, nb := range []string{"0", "1"} {
				v := ureqChunkedPost(t, s, "/chunked?nb="+nb, tc.body, tc.sizes)
				what := map[string]string{"0": "chunked_read", "1": "chunked_read_nb"}[nb]
				if got := v["len"]; got != float64(len(tc.body)) {
					t.Errorf("%s: the pieces add up to %v bytes, want %d", what, got, len(tc.body))
				}
				if got := v["sha256"]; got != ureqSHA(tc.body) {
					t.Errorf("%s: the pieces' sha256 %v, want %s", what, got, ureqSHA(tc.body))
				}
				pieces, _ := v["pieces"].(float64)
				switch {
				case len(tc.body) == 0 && pieces != 0:
					t.Errorf("%s: %v pieces of an empty body", what, pieces)
				case len(tc.body) > 0 && pieces < 1:
					t.Errorf("%s: no piece of a %d-byte body", what, len(tc.body))
				case len(tc.body) > 256<<10 && pieces < 2:
					t.Errorf("%s: a %d-byte body sent in many chunks came in %v piece(s)", what, len(tc.body), pieces)
				}
			}
		})
	}
}

// TestUwsgiReqDisconnect: uwsgi.disconnect() closes the client's connection at once (the
// client sees the end without a complete response, and nothing the app returns after),
// before any response and after a head and part of a body; the app goes on without an
// error and the server goes on serving, completely, on new connections.
func TestUwsgiReqDisconnect(t *testing.T) {
	t.Parallel()
	for _, cfg := range ureqConfigs {
		t.Run(cfg.name+"/before-response", func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, cfg.args...)
			rec := ureqRecFile(t)
			c, br := s.Dial()
			fmt.Fprintf(c, "GET /disconnect?rec=%s HTTP/1.1\r\nHost: x\r\n\r\n", url.QueryEscape(rec))
			got, err := io.ReadAll(br)
			if err != nil {
				t.Errorf("after uwsgi.disconnect(): %v (after %q), want EOF", err, got)
			}
			if len(got) != 0 {
				t.Errorf("after uwsgi.disconnect() the client got %q, want nothing", got)
			}
			if r := ureqWaitFile(t, s, rec); r != "after" {
				t.Errorf("the app after uwsgi.disconnect(): %q, want it to go on", r)
			}
			ureqServesOn(t, s)
			if strings.Contains(s.Log(), "exception in the app") {
				t.Errorf("the app raised:\n%s", s.Log())
			}
			ureqNoCrash(t, s)
		})
		t.Run(cfg.name+"/mid-body", func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, cfg.args...)
			rec := ureqRecFile(t)
			c, br := s.Dial()
			fmt.Fprintf(c, "GET /disconnect?write=1&rec=%s HTTP/1.1\r\nHost: x\r\n\r\n", url.QueryEscape(rec))
			if resp, err := http.ReadResponse(br, nil); err == nil {
				body, err := io.ReadAll(resp.Body)
				if err == nil {
					t.Errorf("after uwsgi.disconnect() mid-body the client read a complete response: %d %q", resp.StatusCode, body)
				}
				if len(body) > len("partial") {
					t.Errorf("the client got %q: more than the app wrote before uwsgi.disconnect()", body)
				}
			}
			if r := ureqWaitFile(t, s, rec); r != "after" {
				t.Errorf("the app after a write() and uwsgi.disconnect(): %q, want it to go on", r)
			}
			ureqServesOn(t, s)
			if strings.Contains(s.Log(), "exception in the app") {
				t.Errorf("the app raised:\n%s", s.Log())
			}
			ureqNoCrash(t, s)
		})
	}
}

// TestUwsgiReqConnectionFD: uwsgi.connection_fd() is an int descriptor above 2 of a socket
// whose peer is this client; closing a duplicate of it leaves the connection working.
func TestUwsgiReqConnectionFD(t *testing.T) {
	t.Parallel()
	for _, cfg := range ureqConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, cfg.args...)
			for i := 0; i < 3; i++ {
				c, br := s.Dial()
				local := c.LocalAddr().(*net.TCPAddr)
				fmt.Fprintf(c, "GET /fd HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("GET /fd: %v\n%s", err, s.Log())
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var v struct {
					FD     int   `json:"fd"`
					IsInt  bool  `json:"is_int"`
					IsSock bool  `json:"is_sock"`
					Peer   []any `json:"peer"`
				}
				if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil {
					t.Fatalf("GET /fd: %d %q\n%s", resp.StatusCode, body, s.Log())
				}
				if !v.IsInt || v.FD <= 2 {
					t.Errorf("connection_fd() = %d (int: %v), want an int above 2", v.FD, v.IsInt)
				}
				if !v.IsSock {
					t.Errorf("connection_fd() = %d is not a socket", v.FD)
				}
				if len(v.Peer) != 2 || v.Peer[0] != local.IP.String() || v.Peer[1] != float64(local.Port) {
					t.Errorf("the peer of connection_fd() is %v, want this client %s", v.Peer, local)
				}
				// The same connection serves the next request.
				fmt.Fprintf(c, "GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err = http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("the next request on the connection of connection_fd(): %v", err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("the next request on the connection: status %d", resp.StatusCode)
				}
				c.Close()
			}
			ureqNoCrash(t, s)
		})
	}
}

// TestUwsgiReqRequestID: uwsgi.request_id() increases from one request to the next in
// each worker.
func TestUwsgiReqRequestID(t *testing.T) {
	t.Parallel()
	for _, cfg := range ureqConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, cfg.args...)
			last := map[float64]float64{}
			counts := map[float64]int{}
			for i := 0; i < 12; i++ {
				var v map[string]float64
				if code := ureqJSON(t, s, "/rid", &v); code != 200 {
					t.Fatalf("GET /rid: %d", code)
				}
				pid, id := v["pid"], v["id"]
				if prev, ok := last[pid]; ok && id <= prev {
					t.Errorf("worker %v: request_id() %v after %v, want it to increase", pid, id, prev)
				}
				last[pid] = id
				counts[pid]++
			}
			most := 0
			for _, n := range counts {
				most = max(most, n)
			}
			if most < 2 {
				t.Errorf("no worker answered twice (%v): nothing compared", counts)
			}
		})
	}
}

// ureqCheckOutside requires every call of results to have raised a RuntimeError that
// talks about a request.
func ureqCheckOutside(t *testing.T, where string, results map[string]string, names []string) {
	t.Helper()
	for _, name := range names {
		got, ok := results[name]
		if !ok {
			t.Errorf("%s: uwsgi.%s was not called", where, name)
			continue
		}
		if !strings.HasPrefix(got, "RuntimeError: ") || !strings.Contains(got, "request") {
			t.Errorf("%s: uwsgi.%s() gave %q, want a RuntimeError saying it needs a request", where, name, got)
		}
	}
}

var ureqFunctions = []string{"request_id", "websocket_handshake", "websocket_recv", "websocket_recv_nb",
	"websocket_send", "websocket_send_binary", "chunked_read", "chunked_read_nb", "sendfile", "disconnect", "connection_fd"}

// ureqEvalCode calls every request function at start-up and leaves what they raised in
// the environment variable UREQ_EVAL (the app's /eval answers it).
const ureqEvalCode = `
import json, os, uwsgi
_r = {}
for _n, _a in (("request_id", ()), ("websocket_handshake", ("dGhlIHNhbXBsZSBub25jZQ==",)),
               ("websocket_recv", ()), ("websocket_recv_nb", ()), ("websocket_send", (b"x",)),
               ("websocket_send_binary", (b"x",)), ("chunked_read", ()), ("chunked_read_nb", ()),
               ("sendfile", ("/etc/hostname",)), ("disconnect", ()), ("connection_fd", ())):
    try:
        _r[_n] = "returned %r" % (getattr(uwsgi, _n)(*_a),)
    except BaseException as _e:
        _r[_n] = "%s: %s" % (type(_e).__name__, _e)
os.environ["UREQ_EVAL"] = json.dumps(_r)
`

// TestUwsgiReqOutsideRequest: the request functions called at start-up (--pypy-eval) and
// from a thread the app started, once its request has ended, raise a RuntimeError; the
// server serves on.
func TestUwsgiReqOutsideRequest(t *testing.T) {
	t.Parallel()
	s := ureqStart(t, "--pypy-eval", ureqEvalCode)

	var eval map[string]string
	if code := ureqJSON(t, s, "/eval", &eval); code != 200 {
		t.Fatalf("GET /eval: %d", code)
	}
	ureqCheckOutside(t, "--pypy-eval at start-up", eval, ureqFunctions)

	var started map[string]bool
	if code := ureqJSON(t, s, "/thread/start", &started); code != 200 || !started["started"] {
		t.Fatalf("GET /thread/start: %d %v", code, started)
	}
	var thread map[string]string
	if code := ureqJSON(t, s, "/thread/go", &thread); code != 200 {
		t.Fatalf("GET /thread/go: %d", code)
	}
	ureqCheckOutside(t, "a thread after its request ended", thread, ureqFunctions)

	ureqServesOn(t, s)
	ureqNoCrash(t, s)
}

// ureqSignalCalls has a uWSGI signal handler (which runs outside any request, on one of
// the worker's OS threads) call the named request functions after requests have run on
// the worker's threads, and returns what they did. Which thread runs the handler is the
// Go scheduler's choice, so it tries up to 10 rounds and returns the first answer where
// a call did not raise RuntimeError (or the last answer).
func ureqSignalCalls(t *testing.T, s *Server, names string) map[string]string {
	t.Helper()
	var out map[string]string
	for round := 0; round < 10; round++ {
		for i := 0; i < 6; i++ {
			var v map[string]float64
			ureqJSON(t, s, "/rid", &v)
		}
		out = ureqSignalRound(t, s, names)
		for _, r := range out {
			if !strings.HasPrefix(r, "RuntimeError: ") {
				t.Logf("round %d: %v", round+1, out)
				return out
			}
		}
	}
	return out
}

func ureqSignalRound(t *testing.T, s *Server, names string) map[string]string {
	t.Helper()
	var raised map[string]bool
	if code := ureqJSON(t, s, "/signal/raise?calls="+names, &raised); code != 200 {
		t.Fatalf("GET /signal/raise: %d", code)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.Exited(0) != -1 {
			t.Fatalf("the server died while a signal handler called uwsgi.%s() outside a request:\n%s", names, s.Log())
		}
		resp, err := client.Get(s.URL("/signal/result"))
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			var out map[string]string
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("/signal/result: %v in %q", err, body)
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the signal handler never ran (or the server died):\n%s", s.Log())
	return nil
}

// TestUwsgiReqOutsideRequestSignalHandler: in a uWSGI signal handler, which runs on one
// of the worker's threads between requests, the request functions raise a RuntimeError:
// they must not act on (or report) the request that thread ran before.
func TestUwsgiReqOutsideRequestSignalHandler(t *testing.T) {
	t.Parallel()
	names := []string{"request_id", "websocket_recv_nb", "websocket_send", "chunked_read", "connection_fd", "disconnect"}
	s := ureqStart(t)
	got := ureqSignalCalls(t, s, strings.Join(names, ","))
	ureqCheckOutside(t, "a uWSGI signal handler", got, names)
	ureqServesOn(t, s)
	ureqNoCrash(t, s)
}

// TestUwsgiReqOutsideRequestSignalHandlerSendfile: uwsgi.sendfile() in a uWSGI signal
// handler raises a RuntimeError; it must not take the server down.
func TestUwsgiReqOutsideRequestSignalHandlerSendfile(t *testing.T) {
	t.Parallel()
	s := ureqStart(t)
	got := ureqSignalCalls(t, s, "sendfile")
	ureqCheckOutside(t, "a uWSGI signal handler", got, []string{"sendfile"})
	ureqServesOn(t, s)
	ureqNoCrash(t, s)
}

// TestUwsgiReqOutsideRequestLateWrite: a thread the app started calls its request's
// write() callable once the request has ended and no request runs: the call fails in
// Python (any exception), the server lives on.
func TestUwsgiReqOutsideRequestLateWrite(t *testing.T) {
	t.Parallel()
	s := ureqStart(t)
	dir := t.TempDir()
	rec, goFile := filepath.Join(dir, "rec"), filepath.Join(dir, "go")
	_, body := s.Get("/late?rec=" + url.QueryEscape(rec) + "&go=" + url.QueryEscape(goFile))
	if body != "now\n" {
		t.Fatalf("GET /late: %q", body)
	}
	// The request is over; only now may the thread write.
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := ureqWaitFile(t, s, rec)
	if got == "returned" {
		t.Errorf("write() after the request ended returned, want an exception")
	}
	ureqServesOn(t, s)
	ureqNoCrash(t, s)
}
