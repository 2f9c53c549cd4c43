package server

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"uwsgo/internal/pypy"
)

// holdExchange is an exchange of a GET on HTTP/1.1 whose connection's client end is
// returned; the app is played by the test through send and finish, as Python would.
func holdExchange(t *testing.T, delay time.Duration) (*exchange, net.Conn) {
	t.Helper()
	server, client := net.Pipe()
	t.Cleanup(func() { server.Close(); client.Close() })
	s := &Server{cfg: Config{SocketTimeout: 5 * time.Second, Log: log.New(io.Discard, "", 0)}, holdDelay: delay}
	c := &conn{s: s, nc: server}
	x := &c.x
	x.c = c
	x.req.Method, x.req.ProtoMinor = []byte("GET"), 1
	x.begin(true)
	return x, client
}

const holdHead = "200 OK\r\nContent-Type\x00text/plain\r\n"

func mustSend(t *testing.T, x *exchange, head, body string, final bool) {
	t.Helper()
	if rc := x.send([]byte(head), []byte(body), final); rc != pypy.SendOK {
		t.Fatalf("send(%q, %v): %d", body, final, rc)
	}
}

// readOut parses what the connection would write after the request: c.out.
func readOut(t *testing.T, x *exchange) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(x.c.out))), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("%q: %v", x.c.out, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%q: %v", x.c.out, err)
	}
	return resp, string(b)
}

// An iterable of pieces that ends at once (a framework's response) goes out whole, with a
// Content-Length, like a list.
func TestHoldEndsWhole(t *testing.T) {
	for _, pieces := range [][]string{{"hello"}, {"hel", "", "lo"}} {
		x, _ := holdExchange(t, time.Hour)
		for i, p := range pieces {
			head := ""
			if i == 0 {
				head = holdHead
			}
			mustSend(t, x, head, p, false)
		}
		mustSend(t, x, "", "", true)
		if st := x.finish(pypy.Handled); st != 200 || x.stream != nil || x.close {
			t.Fatalf("%q: status %d, streamed %v, close %v", pieces, st, x.stream != nil, x.close)
		}
		resp, body := readOut(t, x)
		if resp.ContentLength != 5 || len(resp.TransferEncoding) != 0 || body != "hello" {
			t.Errorf("%q: Content-Length %d, Transfer-Encoding %v, body %q", pieces, resp.ContentLength, resp.TransferEncoding, body)
		}
	}
}

// An app that fails after yielding, before anything left the server, gets a clean 500.
func TestHoldFailureIs500(t *testing.T) {
	x, _ := holdExchange(t, time.Hour)
	mustSend(t, x, holdHead, "partial", false)
	if st := x.finish(pypy.FailedAfterHeaders); st != 500 {
		t.Fatalf("status %d, want 500", st)
	}
	resp, body := readOut(t, x)
	if resp.StatusCode != 500 || body != "Internal Server Error\n" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

// A body whose next piece is slow to come is streamed: its first piece reaches the client
// while the app is still working on the next one.
func TestHoldExpiresIntoStream(t *testing.T) {
	x, client := holdExchange(t, time.Millisecond)
	mustSend(t, x, holdHead, "first;", false)
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(client)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("Transfer-Encoding %v, want chunked", resp.TransferEncoding)
	}
	first := make([]byte, len("first;"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first;" {
		t.Fatalf("first piece %q, %v", first, err)
	}
	// Only now does the app go on.
	done := make(chan string)
	go func() { rest, _ := io.ReadAll(resp.Body); done <- string(rest) }()
	mustSend(t, x, "", "second;", false)
	mustSend(t, x, "", "", true)
	if st := x.finish(pypy.Handled); st != 200 || x.close {
		t.Fatalf("status %d, close %v", st, x.close)
	}
	if rest := <-done; rest != "second;" {
		t.Errorf("rest %q", rest)
	}
}

// A first piece larger than what is held, or pieces that outgrow it, stream at once.
func TestHoldOverflowStreams(t *testing.T) {
	big := strings.Repeat("b", holdMax+1)
	for _, pieces := range [][]string{{big}, {"small;", big}} {
		x, client := holdExchange(t, time.Hour)
		got := make(chan *http.Response)
		go func() {
			resp, _ := http.ReadResponse(bufio.NewReader(client), &http.Request{Method: "GET"})
			got <- resp
		}()
		for i, p := range pieces {
			head := ""
			if i == 0 {
				head = holdHead
			}
			mustSend(t, x, head, p, false)
		}
		resp := <-got // before the body ends: it was streamed
		if resp == nil || len(resp.TransferEncoding) != 1 {
			t.Fatalf("%d pieces: no chunked response before the body ended: %+v", len(pieces), resp)
		}
		done := make(chan string)
		go func() { b, _ := io.ReadAll(resp.Body); done <- string(b) }()
		mustSend(t, x, "", "", true)
		x.finish(pypy.Handled)
		if b := <-done; b != strings.Join(pieces, "") {
			t.Errorf("%d pieces: body of %d bytes, want %d", len(pieces), len(b), len(strings.Join(pieces, "")))
		}
	}
}
