package e2e

// End-to-end tests of uwsgo's HTTP/1.1 on --http-socket: keep-alive, pipelining, HEAD,
// the response headers the server owns. The app is testdata/http_app.py; the helpers of
// all http_*_test.go files are here, prefixed http.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpArgs are the arguments that load http_app.py and make it record every request it
// sees in the file seen.
func httpArgs(seen string, args ...string) []string {
	eval := fmt.Sprintf("import os; os.environ['HTTP_E2E_SEEN'] = %q", seen)
	return append([]string{"--pypy-wsgi-file", testdata("http_app.py"), "--pypy-eval", eval}, args...)
}

// httpStart starts uwsgo on http_app.py with args; it returns the server and the file in
// which the app records each request it sees ("METHOD REQUEST_URI" lines).
// A first piece padded past the 64 KiB the server holds back streams at once, whatever
// the timing (http_app.py's pad).
const httpStreamedPad = "70000"

var httpPad = strings.Repeat(".", 70000)

func httpStart(t *testing.T, args ...string) (*Server, string) {
	t.Helper()
	seen := filepath.Join(t.TempDir(), "seen")
	return Start(t, httpArgs(seen, args...)...), seen
}

// httpSeen lists the requests the app saw, in order.
func httpSeen(t *testing.T, seen string) []string {
	t.Helper()
	b, err := os.ReadFile(seen)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// httpWaitSeen waits (up to 10 s) until the app has seen a request whose line contains substr.
func httpWaitSeen(t *testing.T, seen, substr string) {
	t.Helper()
	if eventually(10*time.Second, func() bool {
		for _, l := range httpSeen(t, seen) {
			if strings.Contains(l, substr) {
				return true
			}
		}
		return false
	}) {
		return
	}
	t.Fatalf("the app did not see a request %q within 10 s; it saw %q", substr, httpSeen(t, seen))
}

// httpConn is a raw client connection with a buffered reader for the server's answers.
type httpConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// httpDial connects to addr; every read and write must be done within 10 s.
func httpDial(t *testing.T, network, addr string) *httpConn {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &httpConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *httpConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("writing %q: %v", httpShort(s), err)
	}
}

// response reads one response to a request with method, body included.
func (c *httpConn) response(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading the response to a %s: %v", method, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("reading the body of the response to a %s: %v (got %q)", method, err, b)
	}
	return resp, string(b)
}

// expectClosed checks that the server closes the connection within d and sends nothing
// more before it does.
func (c *httpConn) expectClosed(d time.Duration) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c.br)
	if len(b) > 0 {
		c.t.Errorf("the server sent %q where it should have closed the connection", httpShort(string(b)))
	}
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, syscall.ECONNRESET):
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Errorf("the server did not close the connection within %v", d)
	default:
		c.t.Errorf("reading until the server closes: %v", err)
	}
}

// line reads one line that must end in CRLF and returns it without it.
func (c *httpConn) line() string {
	c.t.Helper()
	s, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading a line: %v (got %q)", err, s)
	}
	if !strings.HasSuffix(s, "\r\n") {
		c.t.Fatalf("line %q does not end in CRLF", s)
	}
	return strings.TrimSuffix(s, "\r\n")
}

// head reads a status line and a header section by hand.
func (c *httpConn) head() (string, http.Header) {
	c.t.Helper()
	status := c.line()
	h := http.Header{}
	for i := 0; i < 200; i++ {
		l := c.line()
		if l == "" {
			return status, h
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			c.t.Fatalf("malformed header line %q", l)
		}
		h.Add(name, strings.Trim(value, " \t"))
	}
	c.t.Fatal("more than 200 header lines")
	return "", nil
}

// chunked reads a chunked body by hand, strictly: every line ends in CRLF, sizes are bare
// hex, the body ends with a 0-size chunk and an empty trailer section. It returns the data
// of each chunk.
func (c *httpConn) chunked() []string {
	c.t.Helper()
	var chunks []string
	for i := 0; i < 10000; i++ {
		l := c.line()
		size, err := strconv.ParseUint(l, 16, 32)
		if err != nil {
			c.t.Fatalf("chunk-size line %q: %v (chunks so far %q)", l, err, chunks)
		}
		if size == 0 {
			if tr := c.line(); tr != "" {
				c.t.Fatalf("trailer %q after the last chunk: uwsgo sends none", tr)
			}
			return chunks
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(c.br, data); err != nil {
			c.t.Fatalf("chunk of %d bytes: %v", size, err)
		}
		if end := c.line(); end != "" {
			c.t.Fatalf("chunk data %q is followed by %q, not CRLF", data, end)
		}
		chunks = append(chunks, string(data))
	}
	c.t.Fatal("more than 10000 chunks")
	return nil
}

// httpJSON decodes an app's JSON answer.
func httpJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("the app's answer %q is not JSON: %v", httpShort(body), err)
	}
	return m
}

// httpCheckDate checks that h carries exactly one valid Date, close to now.
func httpCheckDate(t *testing.T, what string, h http.Header) {
	t.Helper()
	ds := h.Values("Date")
	if len(ds) != 1 {
		t.Errorf("%s: want one Date header, got %q", what, ds)
		return
	}
	d, err := http.ParseTime(ds[0])
	if err != nil {
		t.Errorf("%s: Date %q: %v", what, ds[0], err)
		return
	}
	if skew := time.Since(d); skew > 10*time.Minute || skew < -10*time.Minute {
		t.Errorf("%s: Date %q is %v away from now", what, ds[0], skew)
	}
}

// httpConnHeader is a response's Connection header as sent. net/http removes a "close"
// token from the header of an HTTP/1.1 response and reports it as resp.Close instead.
func httpConnHeader(resp *http.Response) string {
	if resp.Close && resp.ProtoAtLeast(1, 1) {
		return "close"
	}
	return strings.Join(resp.Header.Values("Connection"), ",")
}

func httpShort(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

func httpGET(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"
}

// ---------------------------------------------------------------- keep-alive

// HTTP/1.1 keeps the connection by default: several requests on one raw connection are all
// served on it, and the app sees the same REMOTE_PORT, the client's own.
func TestHTTPKeepAliveDefault(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t)
	c := httpDial(t, "tcp", s.Addr)
	port := strconv.Itoa(c.nc.LocalAddr().(*net.TCPAddr).Port)
	for i := 0; i < 3; i++ {
		c.send(httpGET(fmt.Sprintf("/env?i=%d", i)))
		resp, body := c.response("GET")
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("request %d: status %d, Connection %q; want 200 and a kept connection", i, resp.StatusCode, httpConnHeader(resp))
		}
		env := httpJSON(t, body)
		if env["REMOTE_PORT"] != port || env["QUERY_STRING"] != fmt.Sprintf("i=%d", i) {
			t.Fatalf("request %d: REMOTE_PORT %v QUERY_STRING %v; want %s and i=%d", i, env["REMOTE_PORT"], env["QUERY_STRING"], port, i)
		}
	}
	if got := httpSeen(t, seen); len(got) != 3 {
		t.Fatalf("the app saw %q, want 3 requests", got)
	}
}

// net/http's client reuses its one connection for every request, as the server tells it
// nothing that forbids it: one REMOTE_PORT for five requests.
func TestHTTPKeepAliveClientReuses(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ports := map[any]int{}
	for i := 0; i < 5; i++ {
		reused := false
		req, _ := http.NewRequest("GET", s.URL("/env"), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused },
		}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ports[httpJSON(t, string(body))["REMOTE_PORT"]]++
		if i > 0 && !reused {
			t.Errorf("request %d: net/http opened a new connection (response %d, Connection %q)", i, resp.StatusCode, httpConnHeader(resp))
		}
	}
	if len(ports) != 1 {
		t.Fatalf("the app saw REMOTE_PORTs %v; want one connection for 5 requests", ports)
	}
}

// When the connection must end after a response, the response says Connection: close and
// the server closes it; HTTP/1.0 keeps it only when asked, and says so.
func TestHTTPConnectionClose(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t)
	cases := []struct {
		name, request string
		closes        bool
		connection    string // the response's Connection header
	}{
		{"1.1 close", "GET /env HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", true, "close"},
		{"1.1 Close mixed case in a list", "GET /env HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n", true, "close"},
		{"1.0 plain", "GET /env HTTP/1.0\r\n\r\n", true, "close"},
		{"1.0 plain with host", "GET /env HTTP/1.0\r\nHost: a\r\n\r\n", true, "close"},
		{"1.0 keep-alive", "GET /env HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false, "keep-alive"},
		{"1.0 Keep-Alive mixed case", "GET /env HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", false, "keep-alive"},
		{"1.1 keep-alive", "GET /env HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(httpSeen(t, seen))
			c := httpDial(t, "tcp", s.Addr)
			c.send(tc.request)
			resp, body := c.response("GET")
			if resp.StatusCode != 200 || httpJSON(t, body)["PATH_INFO"] != "/env" {
				t.Fatalf("got %d %q", resp.StatusCode, httpShort(body))
			}
			if got := httpConnHeader(resp); got != tc.connection {
				t.Errorf("Connection header %q, want %q", got, tc.connection)
			}
			httpCheckDate(t, tc.name, resp.Header)
			if tc.closes {
				c.expectClosed(5 * time.Second)
			} else {
				// Still usable: the same request again, on the same connection.
				c.send(tc.request)
				resp, body := c.response("GET")
				env := httpJSON(t, body)
				if resp.StatusCode != 200 || env["REMOTE_PORT"] != strconv.Itoa(c.nc.LocalAddr().(*net.TCPAddr).Port) {
					t.Fatalf("second request on the kept connection: %d %q", resp.StatusCode, httpShort(body))
				}
			}
			want := 1
			if !tc.closes {
				want = 2
			}
			if got := len(httpSeen(t, seen)) - before; got != want {
				t.Errorf("the app saw %d requests, want %d", got, want)
			}
		})
	}
}

// A request after one that closes the connection is neither answered nor run, even when
// it was already received (pipelined in the same write).
func TestHTTPNothingAfterClose(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t)
	for _, first := range []string{
		"GET /echo?first HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /echo?first HTTP/1.0\r\n\r\n",
		"GET /appclose?first HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		c := httpDial(t, "tcp", s.Addr)
		c.send(first + httpGET("/echo?second"))
		resp, body := c.response("GET")
		if resp.StatusCode != 200 || httpConnHeader(resp) != "close" {
			t.Errorf("%q: got %d %q, Connection %q; want 200 with Connection: close", first, resp.StatusCode, body, httpConnHeader(resp))
		}
		c.expectClosed(5 * time.Second)
	}
	for _, l := range httpSeen(t, seen) {
		if strings.Contains(l, "second") {
			t.Errorf("the app ran %q, which followed a request that closed the connection", l)
		}
	}
	if got := httpSeen(t, seen); len(got) != 3 {
		t.Errorf("the app saw %q; want the 3 first requests", got)
	}
}

// ---------------------------------------------------------------- pipelining

// Requests written in one write are all answered, in order, with the right bodies: a POST
// with a body in the middle, a streamed (chunked) response and a HEAD among them.
func TestHTTPPipelining(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t)
	c := httpDial(t, "tcp", s.Addr)
	c.send(httpGET("/echo?1") +
		"POST /echo?2 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nposted body" +
		httpGET("/gen?n=2") +
		"HEAD /withcl HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /withcl?ignored HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nnever read\r\n" +
		"POST /echo?5 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nchun\r\n3\r\nked\r\n0\r\n\r\n" +
		"GET /echo?6 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	want := []struct{ method, body string }{
		{"GET", "GET /echo?1|"},
		{"POST", "POST /echo?2|posted body"},
		{"GET", "chunk-0;chunk-1;"},
		{"HEAD", ""},
		{"POST", "exactly 25 bytes of body\n"}, // the app ignored the body: the stream stays in step
		{"POST", "POST /echo?5|chunked"},
		{"GET", "GET /echo?6|"},
	}
	for i, w := range want {
		resp, body := c.response(w.method)
		if resp.StatusCode != 200 || body != w.body {
			t.Fatalf("response %d: %d %q, want 200 %q", i+1, resp.StatusCode, body, w.body)
		}
	}
	c.expectClosed(5 * time.Second)
	wantSeen := []string{"GET /echo?1", "POST /echo?2", "GET /gen?n=2", "HEAD /withcl", "POST /withcl?ignored", "POST /echo?5", "GET /echo?6"}
	if got := httpSeen(t, seen); strings.Join(got, "\n") != strings.Join(wantSeen, "\n") {
		t.Fatalf("the app saw %q, want %q", got, wantSeen)
	}
}

// Requests that arrive a byte at a time (head, Content-Length body, chunked body with an
// extension and a trailer) are put together exactly, and the empty line some clients send
// after a POST body is skipped.
func TestHTTPRequestsArrivingByteByByte(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	c := httpDial(t, "tcp", s.Addr)
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	reqs := "POST /echo?1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\r\n" +
		"POST /echo?2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n" +
		"GET /echo?3 HTTP/1.1\r\nHost: a\r\n\r\n"
	for i := 0; i < len(reqs); i++ {
		c.send(reqs[i : i+1])
		time.Sleep(time.Millisecond)
	}
	for i, want := range []string{"POST /echo?1|hello", "POST /echo?2|abcde", "GET /echo?3|"} {
		if resp, body := c.response("POST"); resp.StatusCode != 200 || body != want {
			t.Fatalf("response %d: %d %q, want %q", i+1, resp.StatusCode, body, want)
		}
	}
}

// A long pipeline (more than the server's 64 KiB of batched output) is answered in order.
func TestHTTPPipeliningLong(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	c := httpDial(t, "tcp", s.Addr)
	const n = 100
	pad := strings.Repeat("x", 1000)
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "POST /echo?i=%d HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s", i, len(pad), pad)
	}
	werr := make(chan error, 1)
	go func() { _, err := io.WriteString(c.nc, b.String()); werr <- err }()
	for i := 0; i < n; i++ {
		resp, body := c.response("POST")
		if want := fmt.Sprintf("POST /echo?i=%d|%s", i, pad); resp.StatusCode != 200 || body != want {
			t.Fatalf("response %d: %d %q", i, resp.StatusCode, httpShort(body))
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------- HEAD

// A HEAD response has the headers a GET would have, Content-Length included, and not one
// body byte: the next response on the connection parses right after its head.
func TestHTTPHead(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t)
	for _, path := range []string{"/list?n=4", "/withcl", "/gen?n=3", "/hop?mode=cl"} {
		t.Run(path, func(t *testing.T) {
			c := httpDial(t, "tcp", s.Addr)
			c.send(httpGET(path))
			get, getBody := c.response("GET")
			if get.StatusCode != 200 || getBody == "" {
				t.Fatalf("GET %s: %d %q", path, get.StatusCode, getBody)
			}
			// HEAD then GET in one write: any body byte after the HEAD's head would be
			// read as the GET's status line.
			c.send("HEAD " + path + " HTTP/1.1\r\nHost: a\r\n\r\n" + httpGET("/echo?after-head"))
			status, h := c.head()
			if status != "HTTP/1.1 200 OK" {
				t.Fatalf("HEAD %s: status line %q", path, status)
			}
			if get.ContentLength >= 0 {
				if h.Get("Content-Length") != strconv.FormatInt(get.ContentLength, 10) {
					t.Errorf("HEAD %s: Content-Length %q, GET had %d", path, h.Get("Content-Length"), get.ContentLength)
				}
			}
			if h.Get("Content-Type") != get.Header.Get("Content-Type") {
				t.Errorf("HEAD %s: Content-Type %q, GET had %q", path, h.Get("Content-Type"), get.Header.Get("Content-Type"))
			}
			httpCheckDate(t, "HEAD "+path, h)
			if next, _ := c.br.Peek(len("HTTP/1.1 ")); string(next) != "HTTP/1.1 " {
				t.Fatalf("HEAD %s: after its head came %q, not the next response", path, next)
			}
			resp, body := c.response("GET")
			if resp.StatusCode != 200 || body != "GET /echo?after-head|" {
				t.Fatalf("the response after HEAD %s: %d %q", path, resp.StatusCode, body)
			}
		})
	}
	for _, l := range httpSeen(t, seen) {
		if strings.HasPrefix(l, "HEAD") {
			return // HEAD reaches the app as HEAD (PEP 3333 leaves the body to the server)
		}
	}
	t.Errorf("the app never saw a HEAD: %q", httpSeen(t, seen))
}

// ---------------------------------------------------------------- headers the server owns

// An app that sends hop-by-hop headers (Connection: keep-alive, Transfer-Encoding: chunked,
// Keep-Alive) does not corrupt the framing: the server frames the body itself, once, and
// the connection stays usable.
func TestHTTPAppHopByHopHeaders(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	t.Run("list body", func(t *testing.T) {
		c := httpDial(t, "tcp", s.Addr)
		c.send(httpGET("/hop?mode=list"))
		status, h := c.head()
		if status != "HTTP/1.1 200 OK" || h.Get("Content-Length") != "10" || len(h.Values("Transfer-Encoding")) != 0 {
			t.Fatalf("status %q headers %v; want 200 with Content-Length 10 and no Transfer-Encoding", status, h)
		}
		httpCheckHop(t, h)
		body := make([]byte, 10)
		if _, err := io.ReadFull(c.br, body); err != nil || string(body) != "hop-by-hop" {
			t.Fatalf("body %q, %v", body, err)
		}
		httpCheckNext(t, c)
	})
	t.Run("own Content-Length", func(t *testing.T) {
		c := httpDial(t, "tcp", s.Addr)
		c.send(httpGET("/hop?mode=cl"))
		status, h := c.head()
		if status != "HTTP/1.1 200 OK" || h.Get("Content-Length") != "11" || len(h.Values("Transfer-Encoding")) != 0 {
			t.Fatalf("status %q headers %v; want 200 with Content-Length 11 and no Transfer-Encoding", status, h)
		}
		httpCheckHop(t, h)
		body := make([]byte, 11)
		if _, err := io.ReadFull(c.br, body); err != nil || string(body) != "hop-by-hop\n" {
			t.Fatalf("body %q, %v", body, err)
		}
		httpCheckNext(t, c)
	})
	t.Run("streamed body", func(t *testing.T) {
		c := httpDial(t, "tcp", s.Addr)
		c.send(httpGET("/hop?mode=gen&pad=" + httpStreamedPad))
		status, h := c.head()
		if te := h.Values("Transfer-Encoding"); status != "HTTP/1.1 200 OK" || len(te) != 1 || te[0] != "chunked" || h.Get("Content-Length") != "" {
			t.Fatalf("status %q headers %v; want 200 with one Transfer-Encoding: chunked", status, h)
		}
		httpCheckHop(t, h)
		if got := strings.Join(c.chunked(), ""); got != "chunk-0;"+httpPad+"chunk-1;chunk-2;" {
			t.Fatalf("chunked body %q", got)
		}
		httpCheckNext(t, c)
	})
	t.Run("HTTP/1.0 client", func(t *testing.T) {
		// The app's Connection: keep-alive does not keep an HTTP/1.0 connection the client
		// did not ask to keep.
		c := httpDial(t, "tcp", s.Addr)
		c.send("GET /hop?mode=list HTTP/1.0\r\n\r\n")
		resp, body := c.response("GET")
		if resp.StatusCode != 200 || body != "hop-by-hop" || httpConnHeader(resp) != "close" {
			t.Fatalf("got %d %q Connection %q; want 200 hop-by-hop and Connection: close", resp.StatusCode, body, httpConnHeader(resp))
		}
		c.expectClosed(5 * time.Second)
	})
}

// httpCheckHop checks that none of the app's hop-by-hop headers went out as it gave them.
func httpCheckHop(t *testing.T, h http.Header) {
	t.Helper()
	if v := h.Values("Keep-Alive"); len(v) != 0 {
		t.Errorf("the app's Keep-Alive header went out: %q", v)
	}
	for _, v := range h.Values("Connection") {
		if strings.EqualFold(v, "close") {
			t.Errorf("Connection: close on a kept connection")
		}
	}
}

// httpCheckNext checks that the connection still carries a next request and its answer.
func httpCheckNext(t *testing.T, c *httpConn) {
	t.Helper()
	c.send(httpGET("/echo?next"))
	resp, body := c.response("GET")
	if resp.StatusCode != 200 || body != "GET /echo?next|" {
		t.Fatalf("the next request on the connection: %d %q", resp.StatusCode, body)
	}
}

// An app's own Connection: close makes the server close after the response, and the
// response says so.
func TestHTTPAppConnectionClose(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	c := httpDial(t, "tcp", s.Addr)
	c.send(httpGET("/appclose"))
	status, h := c.head()
	if got := h.Values("Connection"); status != "HTTP/1.1 200 OK" || len(got) != 1 || got[0] != "close" {
		t.Fatalf("status %q, Connection headers %q; want 200 and exactly one Connection: close", status, got)
	}
	body := make([]byte, len("app asked to close"))
	if _, err := io.ReadFull(c.br, body); err != nil || string(body) != "app asked to close" || h.Get("Content-Length") != "18" {
		t.Fatalf("body %q (Content-Length %q), %v", body, h.Get("Content-Length"), err)
	}
	c.expectClosed(5 * time.Second)
}

// Every kind of response carries one Date header: a list body, a streamed one, an error
// from the app's absence of a route, a refused request.
func TestHTTPDateHeader(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	for _, req := range []string{
		httpGET("/list"),
		httpGET("/gen"),
		httpGET("/withcl"),
		httpGET("/nowhere"),
		"GET / HTTP/1.1\r\n\r\n", // no Host: refused with 400
	} {
		c := httpDial(t, "tcp", s.Addr)
		c.send(req)
		resp, _ := c.response("GET")
		httpCheckDate(t, fmt.Sprintf("%q (%d)", req, resp.StatusCode), resp.Header)
	}
}

// A status that has no body (204, 304) goes out without one, whatever the app returns,
// and without chunked framing: the next response follows its head directly.
func TestHTTPBodilessStatuses(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	for _, path := range []string{"/status?code=204", "/status?code=204&mode=gen", "/status?code=304", "/status?code=304&mode=gen"} {
		c := httpDial(t, "tcp", s.Addr)
		c.send(httpGET(path) + httpGET("/echo?after"))
		status, h := c.head()
		if !strings.HasPrefix(status, "HTTP/1.1 "+path[len("/status?code="):len("/status?code=")+3]+" ") {
			t.Fatalf("%s: status line %q", path, status)
		}
		if te := h.Values("Transfer-Encoding"); len(te) != 0 {
			t.Errorf("%s: Transfer-Encoding %q on a bodiless status", path, te)
		}
		if cl := h.Values("Content-Length"); strings.Contains(path, "204") && len(cl) != 0 {
			t.Errorf("%s: Content-Length %q on a 204", path, cl)
		}
		if next, _ := c.br.Peek(len("HTTP/1.1 ")); string(next) != "HTTP/1.1 " {
			t.Fatalf("%s: after its head came %q, not the next response", path, next)
		}
		if resp, body := c.response("GET"); resp.StatusCode != 200 || body != "GET /echo?after|" {
			t.Fatalf("%s: the next response: %d %q", path, resp.StatusCode, body)
		}
	}
}

// An app whose Content-Length does not match its body cannot desynchronise the
// connection: a longer body is cut at the Content-Length and the connection goes on; a
// shorter one makes the server close the connection (the client sees a short body, not a
// hang, and no later response is read as the missing bytes).
func TestHTTPAppContentLengthMismatch(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	for _, mode := range []string{"list", "gen"} {
		t.Run(mode+" longer than declared", func(t *testing.T) {
			c := httpDial(t, "tcp", s.Addr)
			c.send(httpGET("/cl?declared=5&actual=10&mode=" + mode))
			resp, body := c.response("GET")
			if resp.StatusCode != 200 || body != "aaaaa" || resp.ContentLength != 5 {
				t.Fatalf("got %d %q (Content-Length %d); want the 5 declared bytes", resp.StatusCode, body, resp.ContentLength)
			}
			httpCheckNext(t, c)
		})
		t.Run(mode+" shorter than declared", func(t *testing.T) {
			c := httpDial(t, "tcp", s.Addr)
			c.send(httpGET("/cl?declared=20&actual=10&mode=" + mode))
			status, h := c.head()
			if status != "HTTP/1.1 200 OK" || h.Get("Content-Length") != "20" {
				t.Fatalf("status %q headers %v", status, h)
			}
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			body, err := io.ReadAll(c.br)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server neither sent the 20 declared bytes nor closed (got %q)", body)
			}
			if string(body) != "aaaaaaaaaa" {
				t.Fatalf("body %q, want the 10 bytes the app had", body)
			}
		})
	}
}
