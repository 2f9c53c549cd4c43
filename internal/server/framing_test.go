package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uwsgo/internal/proto"
	"uwsgo/internal/pypy"
	"uwsgo/internal/shm/scoreboard"
)

// The response framing, through the App seam: a real Server on a real socket, read by a
// real HTTP client, with the app played by Go functions that answer through Send as the
// setup module does. PyPy's own side of the calls is tested end to end (e2e/).

// goApp runs the route of the request's PATH_INFO; an unknown path fails like an app
// that raised before its headers.
type goApp map[string]func(s *Server, handle int) int

// served is a running Server with the file its log goes to.
type served struct {
	*Server
	addr    string
	logFile string
}

func (sv *served) log() string {
	b, _ := os.ReadFile(sv.logFile)
	return string(b)
}

// serveGo serves app on a loopback port; cfg's zero fields get test values.
func serveGo(t *testing.T, app goApp, cfg Config) *served {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "log")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cfg.Threads = max(cfg.Threads, 2)
	cfg.MaxHeadBytes = max(cfg.MaxHeadBytes, 8192)
	cfg.SocketTimeout = max(cfg.SocketTimeout, 10*time.Second)
	cfg.KeepAlive = max(cfg.KeepAlive, 10*time.Second)
	cfg.Log = log.New(out, "", 0)
	cfg.Board = scoreboard.Private(cfg.Threads)
	var s *Server
	cfg.App = App{
		Handle: func(handle int, vars, body []byte, bodyFD int) int {
			var path []byte
			proto.EachVar(vars, func(k, v []byte) bool {
				if string(k) == "PATH_INFO" {
					path = v
				}
				return true
			})
			route, ok := app[string(path)]
			if !ok {
				return pypy.FailedBeforeHeaders
			}
			return route(s, handle)
		},
		RPC: func(handle int, items []byte) int { return pypy.RPCUnknown },
	}
	s = New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln, HTTP)
	t.Cleanup(s.Close)
	return &served{Server: s, addr: ln.Addr().String(), logFile: logFile}
}

const textHead = "200 OK\r\nContent-Type\x00text/plain\r\n"

// pieces answers with head and the pieces, each a Send of its own, and a final empty one
// when last is false (an iterable's end).
func pieces(head string, last bool, body ...string) func(*Server, int) int {
	return func(s *Server, h int) int {
		for i, p := range body {
			hd := ""
			if i == 0 {
				hd = head
			}
			if rc := s.Send(h, []byte(hd), []byte(p), last && i == len(body)-1); rc != pypy.SendOK {
				return pypy.FailedAfterHeaders
			}
		}
		if !last {
			s.Send(h, nil, nil, true)
		}
		return pypy.Handled
	}
}

// exchangeRaw writes requests on one connection, half-closes it, and returns everything
// the server sent until it closed its end.
func (sv *served) exchangeRaw(t *testing.T, requests string) string {
	t.Helper()
	c, err := net.Dial("tcp", sv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, requests)
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading: %v (got %q)", err, b)
	}
	return string(b)
}

// responses parses the responses to the methods in order; the last one's body may end
// with the connection.
func responses(t *testing.T, raw string, methods ...string) []*http.Response {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(raw))
	var out []*http.Response
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("response %d of %q: %v", len(out)+1, raw, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body of %q: %v", len(out)+1, raw, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		out = append(out, resp)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Fatalf("%d bytes after the responses: %q", len(rest), rest)
	}
	return out
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

const get = "GET %s HTTP/1.1\r\nHost: x\r\n\r\n"

// The framing each kind of app answer gets on HTTP/1.1, and the connection kept alive
// after it: a second request follows on the same connection and is answered.
func TestFramingKeepAlive(t *testing.T) {
	sv := serveGo(t, goApp{
		"/list":      pieces(textHead, true, "hello"),
		"/iter":      pieces(textHead, false, "hel", "", "lo"),
		"/own":       pieces("200 OK\r\nContent-Length\x003\r\n", true, "hello"),
		"/empty":     pieces(textHead, false, ""),
		"/nocontent": pieces("204 No Content\r\n", true, "ignored"),
		"/notmod":    pieces("304 Not Modified\r\n", false, "ignored"),
		"/next":      pieces(textHead, true, "next"),
	}, Config{})
	for _, tc := range []struct {
		path   string
		status int
		length int64 // -1: none
		body   string
	}{
		{"/list", 200, 5, "hello"},
		{"/iter", 200, 5, "hello"},
		{"/own", 200, 3, "hel"}, // cut at the app's own Content-Length
		{"/empty", 200, 0, ""},
		{"/nocontent", 204, 0, ""}, // net/http reports 0 for 204
		{"/notmod", 304, 0, ""},
	} {
		raw := sv.exchangeRaw(t, fmt.Sprintf(get, tc.path)+fmt.Sprintf(get, "/next"))
		rs := responses(t, raw, "GET", "GET")
		r := rs[0]
		if r.StatusCode != tc.status || r.ContentLength != tc.length || len(r.TransferEncoding) != 0 || bodyOf(r) != tc.body || r.Close {
			t.Errorf("%s: %d, Content-Length %d, Transfer-Encoding %v, close %v, body %q; want %d, %d, %q, kept alive\n%q",
				tc.path, r.StatusCode, r.ContentLength, r.TransferEncoding, r.Close, bodyOf(r), tc.status, tc.length, tc.body, raw)
		}
		if tc.status != 200 && strings.Contains(strings.SplitN(raw, "\r\n\r\n", 2)[0], "Content-Length") {
			t.Errorf("%s: a bodiless status with a Content-Length: %q", tc.path, raw)
		}
		if bodyOf(rs[1]) != "next" {
			t.Errorf("%s: the next request got %q", tc.path, bodyOf(rs[1]))
		}
	}
}

// HEAD gets the head GET would get, the length included, and no body: the next response
// on the connection follows the head directly.
func TestFramingHEAD(t *testing.T) {
	big := strings.Repeat("s", holdMax+1) // streamed: its length is not known
	sv := serveGo(t, goApp{
		"/list":   pieces(textHead, true, "hello"),
		"/stream": pieces(textHead, false, big, "more"),
		"/next":   pieces(textHead, true, "next"),
	}, Config{})
	for path, length := range map[string]int64{"/list": 5, "/stream": -1} {
		raw := sv.exchangeRaw(t, "HEAD "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"+fmt.Sprintf(get, "/next"))
		rs := responses(t, raw, "HEAD", "GET")
		if rs[0].StatusCode != 200 || rs[0].ContentLength != length || len(rs[0].TransferEncoding) != 0 || bodyOf(rs[1]) != "next" {
			t.Errorf("HEAD %s: %d, Content-Length %d (want %d), Transfer-Encoding %v; then %q", path, rs[0].StatusCode, rs[0].ContentLength, length, rs[0].TransferEncoding, bodyOf(rs[1]))
		}
	}
}

// A body that outgrows what is held is streamed: chunked on HTTP/1.1 (and the connection
// kept), to the end of the connection on HTTP/1.0.
func TestFramingStreamed(t *testing.T) {
	big := strings.Repeat("s", holdMax+1)
	sv := serveGo(t, goApp{
		"/stream": pieces(textHead, false, "a", big, "z"),
		"/next":   pieces(textHead, true, "next"),
	}, Config{})
	raw := sv.exchangeRaw(t, fmt.Sprintf(get, "/stream")+fmt.Sprintf(get, "/next"))
	rs := responses(t, raw, "GET", "GET")
	if te := rs[0].TransferEncoding; len(te) != 1 || te[0] != "chunked" || bodyOf(rs[0]) != "a"+big+"z" || bodyOf(rs[1]) != "next" {
		t.Errorf("HTTP/1.1: Transfer-Encoding %v, body of %d bytes, then %q", te, len(bodyOf(rs[0])), bodyOf(rs[1]))
	}
	raw = sv.exchangeRaw(t, "GET /stream HTTP/1.0\r\n\r\n")
	r := responses(t, raw, "GET")[0]
	if !r.Close || len(r.TransferEncoding) != 0 || r.ContentLength != -1 || bodyOf(r) != "a"+big+"z" {
		t.Errorf("HTTP/1.0: close %v, Transfer-Encoding %v, Content-Length %d, body of %d bytes", r.Close, r.TransferEncoding, r.ContentLength, len(bodyOf(r)))
	}
}

// Connection: close from the client, and HTTP/1.0 without keep-alive, end the connection
// after the response, which says so; HTTP/1.0 with keep-alive is kept and told.
func TestFramingConnection(t *testing.T) {
	sv := serveGo(t, goApp{"/list": pieces(textHead, true, "hello")}, Config{})
	for _, tc := range []struct {
		req, header string
		close       bool
	}{
		{"GET /list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "Connection: close", true},
		{"GET /list HTTP/1.0\r\n\r\n", "Connection: close", true},
		{"GET /list HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "Connection: keep-alive", false},
	} {
		// A second request after one that closes is never answered.
		raw := sv.exchangeRaw(t, tc.req+tc.req)
		want := []string{"GET"}
		if !tc.close {
			want = append(want, "GET")
		}
		rs := responses(t, raw, want...)
		if !strings.Contains(raw, tc.header+"\r\n") || bodyOf(rs[0]) != "hello" {
			t.Errorf("%q: no %q or wrong body in %q", tc.req, tc.header, raw)
		}
	}
}

// --add-header's headers follow the app's own, on whole and streamed responses alike.
func TestFramingAddHeaders(t *testing.T) {
	sv := serveGo(t, goApp{
		"/list":   pieces(textHead, true, "hello"),
		"/stream": pieces(textHead, false, "a", "b"),
	}, Config{AddHeaders: [][2]string{{"X-Frame-Options", "DENY"}, {"X-Served-By", "uwsgo"}}})
	for _, path := range []string{"/list", "/stream"} {
		raw := sv.exchangeRaw(t, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		r := responses(t, raw, "GET")[0]
		if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Served-By") != "uwsgo" || r.Header.Get("Content-Type") == "" {
			t.Errorf("GET %s: headers %v, want the app's and both added ones", path, r.Header)
		}
	}
}

// An app that fails before its headers gets a 500 and the connection goes on; one that
// fails after streaming part of its body gets the connection cut, its body incomplete;
// one that returns without answering gets the connection closed without a response.
func TestFramingFailures(t *testing.T) {
	big := strings.Repeat("s", holdMax+1)
	sv := serveGo(t, goApp{
		"/next": pieces(textHead, true, "next"),
		"/midway": func(s *Server, h int) int {
			s.Send(h, []byte(textHead), []byte(big), false)
			return pypy.FailedAfterHeaders
		},
		"/held": func(s *Server, h int) int {
			s.Send(h, []byte(textHead), []byte("held"), false)
			return pypy.FailedAfterHeaders // nothing left the server: still a clean 500
		},
		"/silent": func(s *Server, h int) int { return pypy.Handled },
	}, Config{})

	rs := responses(t, sv.exchangeRaw(t, fmt.Sprintf(get, "/raises")+fmt.Sprintf(get, "/next")), "GET", "GET")
	if rs[0].StatusCode != 500 || bodyOf(rs[0]) != "Internal Server Error\n" || bodyOf(rs[1]) != "next" {
		t.Errorf("failed before headers: %d %q, then %q", rs[0].StatusCode, bodyOf(rs[0]), bodyOf(rs[1]))
	}
	rs = responses(t, sv.exchangeRaw(t, fmt.Sprintf(get, "/held")), "GET")
	if rs[0].StatusCode != 500 {
		t.Errorf("failed with its first piece held: %d", rs[0].StatusCode)
	}

	raw := sv.exchangeRaw(t, fmt.Sprintf(get, "/midway")+fmt.Sprintf(get, "/next"))
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("failed midway: %v", err)
	}
	if _, err := io.ReadAll(resp.Body); err == nil || strings.Contains(raw, "next") {
		t.Errorf("failed midway: the body read whole (%v) or the connection went on: %d bytes", err, len(raw))
	}

	if raw := sv.exchangeRaw(t, fmt.Sprintf(get, "/silent")+fmt.Sprintf(get, "/next")); raw != "" {
		t.Errorf("no answer: the server sent %q", raw)
	}
}

// A final piece that releases a held body into a stream that fails (here: the response
// memory budget spent and no temporary file to spill to) tells the app the client is
// gone, as every other piece would.
func TestFramingReleasedHoldReportsFailure(t *testing.T) {
	got := make(chan int, 1)
	sv := serveGo(t, goApp{
		"/big": func(s *Server, h int) int {
			s.Send(h, []byte(textHead), []byte("held"), false)
			got <- s.Send(h, nil, bytes.Repeat([]byte("b"), bigBody), true)
			return pypy.Handled
		},
	}, Config{Budgets: Budgets{ResponseMemory: 1}})
	t.Setenv("TMPDIR", "/nonexistent/uwsgo-test") // the stream's spill file, not the log's
	sv.exchangeRaw(t, fmt.Sprintf(get, "/big"))
	if rc := <-got; rc != pypy.SendClientGone {
		t.Errorf("the final piece's Send answered %d, want SendClientGone (%d)", rc, pypy.SendClientGone)
	}
}

// A Go panic in a call from Python is contained to its request: the app is told the
// client is gone, the client gets a 500 and a closed connection, the stack is logged,
// and the server goes on serving.
func TestFramingPanicInCallFromPython(t *testing.T) {
	after := make(chan int, 1)
	sv := serveGo(t, goApp{
		"/panic": func(s *Server, h int) int {
			x, err := s.exchangeOf(h)
			if err != nil {
				panic(err)
			}
			rc := pypy.SendOK
			func() {
				defer x.containPanic(&rc) // as Send does
				x.send([]byte(textHead), []byte("partial"), false)
				panic("a bug in the response writer")
			}()
			after <- s.Send(h, nil, []byte("more"), true)
			if rc != pypy.SendClientGone {
				return -100 - rc // seen as a failure below
			}
			return pypy.Handled
		},
		"/next": pieces(textHead, true, "next"),
	}, Config{})
	raw := sv.exchangeRaw(t, fmt.Sprintf(get, "/panic")+fmt.Sprintf(get, "/next"))
	rs := responses(t, raw, "GET")
	if rs[0].StatusCode != 500 || !rs[0].Close {
		t.Errorf("after a panic: %d, close %v: %q", rs[0].StatusCode, rs[0].Close, raw)
	}
	if rc := <-after; rc != pypy.SendClientGone {
		t.Errorf("a Send after the panic answered %d, want SendClientGone", rc)
	}
	if l := sv.log(); !strings.Contains(l, "panic answering GET /panic") || !strings.Contains(l, "a bug in the response writer") || !strings.Contains(l, "framing_test.go") {
		t.Errorf("the log does not name the panic and its stack:\n%s", l)
	}
	if n := sv.stats.Exceptions.Load(); n != 1 {
		t.Errorf("exceptions counted: %d, want 1", n)
	}
	if rs := responses(t, sv.exchangeRaw(t, fmt.Sprintf(get, "/next")), "GET"); bodyOf(rs[0]) != "next" {
		t.Errorf("the server after the panic: %q", bodyOf(rs[0]))
	}
}

// A panic that comes back out of a call into the app has crossed Python's frames: the
// worker logs it and exits rather than go on in a state nobody can trust. The test runs
// itself again as that worker.
func TestFramingPanicOutOfAppExits(t *testing.T) {
	if os.Getenv("UWSGO_TEST_PANIC_WORKER") == "1" {
		sv := serveGo(t, goApp{"/": func(*Server, int) int { panic("a bug under the app's call") }}, Config{})
		os.Stderr.WriteString("serving\n")
		sv.exchangeRaw(t, fmt.Sprintf(get, "/"))
		// The connection closes as the panic unwinds, a moment before the exit.
		time.Sleep(10 * time.Second)
		t.Fatalf("the worker still runs 10 s after the panic; its log:\n%s", sv.log())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFramingPanicOutOfAppExits$", "-test.v")
	cmd.Env = append(os.Environ(), "UWSGO_TEST_PANIC_WORKER=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "serving") {
		t.Fatalf("the worker did not exit with an error (%v) after serving:\n%s", err, out)
	}
	if !strings.Contains(string(out), "a bug under the app's call") || strings.Contains(string(out), "still runs") {
		t.Errorf("the worker's exit does not name the panic:\n%s", out)
	}
}
