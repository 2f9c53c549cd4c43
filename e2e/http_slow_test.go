package e2e

// End-to-end tests of the HTTP timeouts and of the rule that a slow client never holds
// Python. "Does not block" is proven by the order of events, never by how long something
// took: time limits here are only deadlines that keep a broken server from hanging a test.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ---------------------------------------------------------------- timeouts

// With --http-keepalive 2 a kept connection is closed by the server once idle, silently.
func TestHTTPKeepAliveTimeout(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t, "--http-keepalive", "2")
	c := httpDial(t, "tcp", s.Addr)
	for i := 0; i < 2; i++ {
		c.send(httpGET("/echo?ka"))
		resp, body := c.response("GET")
		if resp.StatusCode != 200 || resp.Close || body != "GET /echo?ka|" {
			t.Fatalf("request %d: %d %q Connection %q; want 200 on a kept connection", i, resp.StatusCode, body, httpConnHeader(resp))
		}
	}
	// The default is 60 s: only the option makes this close within 10 s.
	c.expectClosed(10 * time.Second)
}

// With --http-keepalive 0 every response says Connection: close and the server closes.
func TestHTTPKeepAliveZero(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--http-keepalive", "0")
	for _, req := range []string{
		httpGET("/echo?one"),
		"GET /echo?one HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
		"GET /echo?one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		httpGET("/gen?n=2"),
	} {
		before := len(httpSeen(t, seen))
		c := httpDial(t, "tcp", s.Addr)
		c.send(req + httpGET("/echo?two"))
		resp, _ := c.response("GET")
		if resp.StatusCode != 200 || httpConnHeader(resp) != "close" {
			t.Errorf("%q: %d Connection %q; want 200 and close", req, resp.StatusCode, httpConnHeader(resp))
		}
		c.expectClosed(5 * time.Second)
		if got := httpSeen(t, seen)[before:]; len(got) != 1 {
			t.Errorf("%q: the app saw %q; want only the first request", req, got)
		}
	}
}

// With --socket-timeout 1 a client that stalls in the middle of a request is disconnected
// (at most with a 408), and the app never sees its request.
func TestHTTPSocketTimeoutStalledClient(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--socket-timeout", "1")
	cases := []struct{ name, partial string }{
		{"nothing sent", ""},
		{"half a request line", "GET /env?stalled"},
		{"half a head", "GET /env?stalled HTTP/1.1\r\nHost: a\r\n"},
		{"half a body", "POST /env?stalled HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"},
		{"half a chunked body", "POST /env?stalled HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := httpDial(t, "tcp", s.Addr)
			c.send(tc.partial)
			c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			out, err := io.ReadAll(c.br)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("still connected after 10 s with --socket-timeout 1 (received %q)", out)
			}
			if len(out) > 0 && !strings.HasPrefix(string(out), "HTTP/1.1 408 ") {
				t.Errorf("the server answered %q; want nothing or a 408", httpShort(string(out)))
			}
		})
	}
	t.Cleanup(func() {
		for _, l := range httpSeen(t, seen) {
			if strings.Contains(l, "stalled") {
				t.Errorf("the app saw the stalled request %q", l)
			}
		}
	})
	// A client that does not stall is served as usual.
	if resp, body := s.Get("/echo?prompt"); resp.StatusCode != 200 || body != "GET /echo?prompt|" {
		t.Fatalf("a prompt client: %d %q", resp.StatusCode, body)
	}
}

// With --socket-timeout 1 a client that does not read its response is cut off: the server
// does not keep a stalled write forever.
func TestHTTPSocketTimeoutUnreadResponse(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t, "--socket-timeout", "1")
	n := httpBigSize(t)
	lazy := httpDialSmallBuffer(t, s.Addr)
	if _, err := fmt.Fprintf(lazy, "GET /big?n=%d HTTP/1.1\r\nHost: a\r\n\r\n", n); err != nil {
		t.Fatal(err)
	}
	// Stall well past the timeout, then read what there is.
	time.Sleep(3 * time.Second)
	lazy.SetDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(lazy), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("no response head: %v", err)
	}
	got, err := io.Copy(io.Discard, resp.Body)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection stayed open (%d of %d bytes read)", got, n)
	}
	if got >= int64(n) {
		t.Fatalf("the whole %d-byte response arrived although the client stalled for 3 s with --socket-timeout 1", got)
	}
}

// httpDialSmallBuffer connects with a tiny receive buffer, so that a response the client
// does not read stays in the server.
func httpDialSmallBuffer(t *testing.T, addr string) net.Conn {
	t.Helper()
	return httpDialRcvbuf(t, addr, 4096)
}

// httpDialRcvbuf connects with SO_RCVBUF set before the handshake, which caps the window.
func httpDialRcvbuf(t *testing.T, addr string, size int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// httpTrickle writes data in pieces, one every interval.
func httpTrickle(t *testing.T, c net.Conn, data string, pieces int, interval time.Duration) {
	t.Helper()
	size := (len(data) + pieces - 1) / pieces
	start := time.Now()
	for i := 0; i < len(data); i += size {
		if i > 0 {
			time.Sleep(interval)
		}
		if _, err := io.WriteString(c, data[i:min(i+size, len(data))]); err != nil {
			t.Fatalf("the server dropped the connection after %v of steady sending, a piece every %v (at byte %d of %d): %v", time.Since(start).Round(time.Millisecond), interval, i, len(data), err)
		}
	}
}

// --socket-timeout is the time a read or write may stall (its help says so, and so it is in
// uWSGI), not a deadline for a whole request body or response: a client that is slow but
// steady, taking longer in all than the timeout, is served. (The request head is left out:
// a total deadline for it is a fair defence against slowloris clients.)
func TestHTTPSocketTimeoutIsPerStall(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("p", 350)
	t.Run("steady request body", func(t *testing.T) {
		t.Parallel()
		s, _ := httpStart(t, "--socket-timeout", "2")
		c := httpDial(t, "tcp", s.Addr)
		c.nc.SetDeadline(time.Now().Add(20 * time.Second))
		c.send(fmt.Sprintf("POST /echo?steady HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", len(pad)))
		// 350 bytes over 3.5 s, a piece every 100 ms: never a stall near 2 s.
		httpTrickle(t, c.nc, pad, 35, 100*time.Millisecond)
		if resp, body := c.response("POST"); resp.StatusCode != 200 || body != "POST /echo?steady|"+pad {
			t.Fatalf("got %d %q", resp.StatusCode, httpShort(body))
		}
	})
	t.Run("steady reader of a large response", func(t *testing.T) {
		t.Parallel()
		s, _ := httpStart(t, "--socket-timeout", "2")
		// More than the kernel can buffer by 12 MiB, read at most 32 KiB per 10 ms (3.2 MB/s):
		// the server's write of it lasts more than 3 s, with progress every few ms.
		n := httpBigSize(t)/2 + 12<<20
		c := httpDialRcvbuf(t, s.Addr, 64<<10)
		c.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := fmt.Fprintf(c, "GET /big?n=%d HTTP/1.1\r\nHost: a\r\n\r\n", n); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 32<<10), &http.Request{Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 32<<10)
		var got int64
		for {
			m, err := resp.Body.Read(buf)
			got += int64(m)
			if err != nil {
				if err != io.EOF {
					t.Fatalf("after %d of %d bytes: %v", got, n, err)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got != int64(n) {
			t.Fatalf("read %d of %d bytes", got, n)
		}
	})
}

// With --socket-timeout 1 a client that does not read a wsgi.file_wrapper response is cut
// off too: the kernel's copy of a file is a write like any other.
func TestHTTPSocketTimeoutUnreadFile(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t, "--socket-timeout", "1")
	n := httpBigSize(t)
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, []byte(strings.Repeat("f", n)), 0o644); err != nil {
		t.Fatal(err)
	}
	lazy := httpDialSmallBuffer(t, s.Addr)
	if _, err := fmt.Fprintf(lazy, "GET /file?path=%s HTTP/1.1\r\nHost: a\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	lazy.SetDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(lazy), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("no response head: %v", err)
	}
	got, err := io.Copy(io.Discard, resp.Body)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection stayed open (%d of %d bytes read)", got, n)
	}
	if got >= int64(n) {
		t.Fatalf("the whole %d-byte file arrived although the client stalled for 3 s with --socket-timeout 1: a stalled sendfile is never timed out", got)
	}
}

// Neither timeout applies to the time the app takes: with --socket-timeout 1 and
// --http-keepalive 1, a request that spends longer than both in Python, before its
// response or in the middle of a streamed one, is answered in full on a connection that
// then carries the next request.
func TestHTTPTimeoutsDoNotCutSlowApps(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t, "--socket-timeout", "1", "--http-keepalive", "1")
	c := httpDial(t, "tcp", s.Addr)
	c.nc.SetDeadline(time.Now().Add(20 * time.Second))
	c.send(httpGET("/sleep?secs=2.5"))
	if resp, body := c.response("GET"); resp.StatusCode != 200 || httpJSON(t, body)["end"] == nil {
		t.Fatalf("after a 2.5 s app: %d %q", resp.StatusCode, body)
	}
	c.send(httpGET("/slowgen?pause=2.5"))
	if resp, body := c.response("GET"); resp.StatusCode != 200 || body != "before;after;" {
		t.Fatalf("a streamed response with a 2.5 s pause: %d %q", resp.StatusCode, body)
	}
	httpCheckNext(t, c)
}

// ---------------------------------------------------------------- slow clients

// With --threads 1, while one client trickles a request body, another client's request is
// answered: the trickling request is not in Python while its body arrives.
func TestHTTPSlowBodyDoesNotHoldPython(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--threads", "1")
	const size = 200 // 4 bytes every 100 ms: at most ~5 s if nothing else stops it
	body := strings.Repeat("0123456789", size/10)
	a := httpDial(t, "tcp", s.Addr)
	a.send(fmt.Sprintf("POST /env?client=a HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size))

	var bDone, aDone atomic.Bool
	trickling := make(chan struct{})
	trickled := make(chan error, 1)
	go func() {
		sent := 0
		var err error
		for sent < size-4 && !bDone.Load() && err == nil {
			_, err = io.WriteString(a.nc, body[sent:sent+4])
			sent += 4
			if sent == 12 {
				close(trickling)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err == nil {
			_, err = io.WriteString(a.nc, body[sent:])
		}
		aDone.Store(true)
		trickled <- err
	}()
	<-trickling

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(s.URL("/env?client=b"))
	aFinished := aDone.Load()
	bDone.Store(true)
	if err != nil {
		t.Fatalf("client B, while A trickles its body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("client B: status %d", resp.StatusCode)
	}
	if aFinished {
		t.Errorf("client B was answered only after client A had sent its whole body")
	}
	if err := <-trickled; err != nil {
		t.Fatalf("client A's body: %v", err)
	}
	a.nc.SetDeadline(time.Now().Add(10 * time.Second))
	respA, out := a.response("POST")
	if env := httpJSON(t, out); respA.StatusCode != 200 || env["body"] != body {
		t.Fatalf("client A: %d, the app read %q", respA.StatusCode, env["body"])
	}
	want := []string{"GET /env?client=b", "POST /env?client=a"}
	if got := httpSeen(t, seen); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the app saw %q, want %q (B while A was still sending)", got, want)
	}
}

// httpBigSize is the size of a response that cannot fit in the kernel's buffers of a
// client that does not read (its own receive buffer is made tiny): 8 MiB, or more than
// twice the largest send buffer TCP may grow to here.
func httpBigSize(t *testing.T) int {
	n := 8 << 20
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		t.Logf("tcp_wmem: %v; using %d bytes", err, n)
		return n
	}
	f := strings.Fields(string(b))
	if len(f) == 3 {
		if w, err := strconv.Atoi(f[2]); err == nil {
			n = max(n, 2*w+1<<20)
		}
	}
	return n
}

// With --threads 1, a client that asks for a large response and does not read it does not
// stop another client's request from being answered: the unread response is written after
// Python has moved on.
func TestHTTPUnreadResponseDoesNotHoldPython(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--threads", "1", "--socket-timeout", "60")
	n := httpBigSize(t)
	lazy := httpDialSmallBuffer(t, s.Addr)
	if _, err := fmt.Fprintf(lazy, "GET /big?n=%d HTTP/1.1\r\nHost: a\r\n\r\n", n); err != nil {
		t.Fatal(err)
	}
	httpWaitSeen(t, seen, "/big")

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(s.URL("/echo?while-unread"))
	if err != nil {
		t.Fatalf("while a %d-byte response is unread: %v", n, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "GET /echo?while-unread|" {
		t.Fatalf("while a %d-byte response is unread: %d %q", n, resp.StatusCode, b)
	}

	// The lazy client's response was still held by the server (it cannot fit in the
	// kernel's buffers), and it is intact.
	lazy.SetDeadline(time.Now().Add(60 * time.Second))
	big, err := http.ReadResponse(bufio.NewReader(lazy), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("the large response: %v", err)
	}
	got, err := io.Copy(io.Discard, big.Body)
	if err != nil || got != int64(n) || big.ContentLength != int64(n) {
		t.Fatalf("the large response: %d of %d bytes (Content-Length %d), %v", got, n, big.ContentLength, err)
	}
}

// With --threads 1, a client that does not read a large streamed response (a generator)
// does not stop another client's request from being answered either.
func TestHTTPUnreadStreamedResponseDoesNotHoldPython(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--threads", "1", "--socket-timeout", "60")
	n := 2*httpBigSize(t) + 8<<20
	lazy := httpDialSmallBuffer(t, s.Addr)
	if _, err := fmt.Fprintf(lazy, "GET /genbig?n=%d HTTP/1.1\r\nHost: a\r\n\r\n", n); err != nil {
		t.Fatal(err)
	}
	httpWaitSeen(t, seen, "/genbig")

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(s.URL("/echo?while-unread"))
	if err != nil {
		t.Errorf("while a %d-byte streamed response is unread: %v", n, err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "GET /echo?while-unread|" {
			t.Errorf("while a %d-byte streamed response is unread: %d %q", n, resp.StatusCode, b)
		}
	}

	lazy.SetDeadline(time.Now().Add(60 * time.Second))
	big, err := http.ReadResponse(bufio.NewReader(lazy), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("the large response: %v", err)
	}
	got, err := io.Copy(io.Discard, big.Body)
	if err != nil || got != int64(n) {
		t.Fatalf("the large response: %d of %d bytes, %v", got, n, err)
	}
}

// With --threads 2, a request that stays in Python does not stop another from being
// answered: the other is answered while the first is still in Python, which the first
// proves by leaving Python only when the test opens its gate afterwards.
func TestHTTPThreadsServeWhileOneIsBusy(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--threads", "2")
	gate := filepath.Join(t.TempDir(), "gate")
	held := make(chan string, 1)
	go func() {
		c := &http.Client{Timeout: 20 * time.Second}
		resp, err := c.Get(s.URL("/hold?max=10&gate=" + gate))
		if err != nil {
			held <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		held <- string(b)
	}()
	httpWaitSeen(t, seen, "/hold")

	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Get(s.URL("/echo?meanwhile"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "GET /echo?meanwhile|" {
		t.Fatalf("meanwhile: %d %q", resp.StatusCode, b)
	}
	select {
	case out := <-held:
		t.Fatalf("the request in Python returned (%q) before the other was answered", out)
	default:
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-held:
		if httpJSON(t, out)["gated"] != true {
			t.Fatalf("the held request left Python before its gate opened: %q", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the held request did not return")
	}
}

// With --threads 1, two requests are never in Python together: the second starts (by the
// app's own clock) only after the first returned.
func TestHTTPOneThreadSerialises(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--threads", "1")
	gate := filepath.Join(t.TempDir(), "gate")
	first := make(chan string, 1)
	second := make(chan string, 1)
	wrote := make(chan struct{}, 4)
	get := func(path string, out chan<- string) {
		c := &http.Client{Timeout: 20 * time.Second}
		req, _ := http.NewRequest("GET", s.URL(path), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { wrote <- struct{}{} },
		}))
		resp, err := c.Do(req)
		if err != nil {
			out <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out <- string(b)
	}
	go get("/hold?max=10&gate="+gate, first)
	<-wrote
	httpWaitSeen(t, seen, "/hold")
	go get("/sleep?secs=0.2&id=second", second)
	// The second request is sent before the first may end; the app's clocks below tell
	// whether it started only after.
	<-wrote
	for _, l := range httpSeen(t, seen) {
		if strings.Contains(l, "id=second") {
			t.Errorf("the second request started while the first was in Python: %q", httpSeen(t, seen))
		}
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r1, r2 := httpJSON(t, <-first), httpJSON(t, <-second)
	end1, ok1 := r1["end"].(float64)
	start2, ok2 := r2["start"].(float64)
	if !ok1 || !ok2 {
		t.Fatalf("answers %v and %v", r1, r2)
	}
	if r1["gated"] != true {
		t.Errorf("the first request left Python before its gate opened: %v", r1)
	}
	if start2 < end1 {
		t.Fatalf("the second request started at %.6f, before the first returned at %.6f", start2, end1)
	}
}
