package e2e

// End-to-end tests of request and response bodies on --http-socket: chunked requests and
// responses, Expect: 100-continue, and malformed requests that must never reach Python.

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ---------------------------------------------------------------- chunked requests

// A chunked request body reaches the app decoded, with CONTENT_LENGTH its decoded length
// and no HTTP_TRANSFER_ENCODING; trailers are consumed (and not passed on), and the next
// request on the connection is read from exactly after the body.
func TestHTTPChunkedRequest(t *testing.T) {
	t.Parallel()
	// A small --post-buffering: the large case is spilled to a temporary file.
	s, _ := httpStart(t, "--post-buffering", "4096")
	var big, bigChunks strings.Builder
	for i := 0; i < 300; i++ {
		piece := fmt.Sprintf("%04d:%s|", i, strings.Repeat(string(rune('a'+i%26)), 300))
		big.WriteString(piece)
		fmt.Fprintf(&bigChunks, "%x\r\n%s\r\n", len(piece), piece)
	}
	cases := []struct {
		name, chunks, body string
	}{
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
		{"extensions and upper-case hex", "A;name=value;other\r\n0123456789\r\n1 ; x=\"y\"\r\n!\r\n0\r\n\r\n", "0123456789!"},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
		{"trailers", "3\r\nabc\r\n0\r\nX-Checksum: 900150983cd24fb0\r\nX-Other: 1\r\n\r\n", "abc"},
		{"empty", "0\r\n\r\n", ""},
		{"CRLF inside the data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"},
		{"large, spilled to a file", bigChunks.String() + "0\r\n\r\n", big.String()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := httpDial(t, "tcp", s.Addr)
			c.send("POST /env HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" + tc.chunks)
			resp, body := c.response("POST")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %q", resp.StatusCode, httpShort(body))
			}
			env := httpJSON(t, body)
			if env["body"] != tc.body {
				t.Errorf("the app read %q, want %q", httpShort(fmt.Sprint(env["body"])), httpShort(tc.body))
			}
			if env["CONTENT_LENGTH"] != strconv.Itoa(len(tc.body)) {
				t.Errorf("CONTENT_LENGTH %v, want %d", env["CONTENT_LENGTH"], len(tc.body))
			}
			for _, k := range []string{"HTTP_TRANSFER_ENCODING", "HTTP_X_CHECKSUM", "HTTP_X_OTHER", "HTTP_TRAILER"} {
				if v, ok := env[k]; ok {
					t.Errorf("the app saw %s=%v", k, v)
				}
			}
			if env["CONTENT_TYPE"] != "text/plain" {
				t.Errorf("CONTENT_TYPE %v", env["CONTENT_TYPE"])
			}
			httpCheckNext(t, c)
		})
	}
}

// ---------------------------------------------------------------- chunked responses

// A streamed body (a generator, no Content-Length) goes out chunked on HTTP/1.1, framed
// exactly, ends with the 0-size chunk, and the connection carries the next request.
func TestHTTPChunkedResponse(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	c := httpDial(t, "tcp", s.Addr)
	for round := 0; round < 2; round++ {
		c.send(httpGET("/gen?n=4&pad=" + httpStreamedPad))
		status, h := c.head()
		if status != "HTTP/1.1 200 OK" {
			t.Fatalf("status line %q", status)
		}
		if te := h.Values("Transfer-Encoding"); len(te) != 1 || te[0] != "chunked" {
			t.Fatalf("Transfer-Encoding %q, want chunked; headers %v", te, h)
		}
		if cl := h.Values("Content-Length"); len(cl) != 0 {
			t.Errorf("Content-Length %q with chunked framing", cl)
		}
		if h.Get("Connection") == "close" {
			t.Errorf("Connection: close on a chunked HTTP/1.1 response")
		}
		httpCheckDate(t, "chunked response", h)
		chunks := c.chunked()
		if got := strings.Join(chunks, ""); got != "chunk-0;"+httpPad+"chunk-1;chunk-2;chunk-3;" {
			t.Fatalf("round %d: chunked body %q", round, chunks)
		}
	}
	httpCheckNext(t, c)
}

// On HTTP/1.0 a streamed body has no length to announce and chunked does not exist: the
// server says Connection: close and ends the body by closing, even when keep-alive was
// asked for.
func TestHTTPStreamedResponseHTTP10(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	for _, req := range []string{
		"GET /gen?n=3&pad=" + httpStreamedPad + " HTTP/1.0\r\n\r\n",
		"GET /gen?n=3&pad=" + httpStreamedPad + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	} {
		c := httpDial(t, "tcp", s.Addr)
		c.send(req)
		status, h := c.head()
		if status != "HTTP/1.1 200 OK" || len(h.Values("Transfer-Encoding")) != 0 || len(h.Values("Content-Length")) != 0 {
			t.Fatalf("%q: status %q headers %v; want 200 with neither Transfer-Encoding nor Content-Length", req, status, h)
		}
		if h.Get("Connection") != "close" {
			t.Errorf("%q: Connection %q, want close", req, h.Values("Connection"))
		}
		body, err := io.ReadAll(c.br)
		if err != nil || string(body) != "chunk-0;"+httpPad+"chunk-1;chunk-2;" {
			t.Fatalf("%q: body read to the end of the connection: %q, %v", req, body, err)
		}
	}
}

// A list body without Content-Length gets the exact Content-Length, on HTTP/1.1 and 1.0.
func TestHTTPListBodyContentLength(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t)
	for _, tc := range []struct{ req, body string }{
		{httpGET("/list?n=3"), "part-0;part-1;part-2;"},
		{httpGET("/list?n=2&size=70000"), "part-0;" + strings.Repeat("p", 70000) + "part-1;" + strings.Repeat("p", 70000)},
		{"GET /list?n=1 HTTP/1.0\r\n\r\n", "part-0;"},
		{"GET /list?n=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "part-0;"},
	} {
		c := httpDial(t, "tcp", s.Addr)
		c.send(tc.req)
		status, h := c.head()
		if status != "HTTP/1.1 200 OK" || h.Get("Content-Length") != strconv.Itoa(len(tc.body)) || len(h.Values("Transfer-Encoding")) != 0 {
			t.Fatalf("%q: status %q headers %v; want Content-Length %d", httpShort(tc.req), status, h, len(tc.body))
		}
		body := make([]byte, len(tc.body))
		if _, err := io.ReadFull(c.br, body); err != nil || string(body) != tc.body {
			t.Fatalf("%q: body %q, %v", tc.req, httpShort(string(body)), err)
		}
		if strings.Contains(tc.req, "HTTP/1.0\r\n\r\n") {
			c.expectClosed(5 * time.Second)
		} else {
			httpCheckNext(t, c)
		}
	}
}

// ---------------------------------------------------------------- Expect: 100-continue

// A client that sends only the head with Expect: 100-continue gets "100 Continue" before
// Python sees anything, then sends the body and gets the final response.
func TestHTTPExpectContinue(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--limit-post", "1000")
	for _, tc := range []struct{ name, head, body, want string }{
		{"Content-Length", "Content-Length: 13\r\n", "expected body", "expected body"},
		{"chunked", "Transfer-Encoding: chunked\r\n", "4\r\nchun\r\n3\r\nked\r\n0\r\n\r\n", "chunked"},
		{"mixed case", "Content-Length: 2\r\nExpect: 100-Continue\r\n", "ok", "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(httpSeen(t, seen))
			c := httpDial(t, "tcp", s.Addr)
			expect := "Expect: 100-continue\r\n"
			if strings.Contains(tc.head, "Expect") {
				expect = ""
			}
			c.send("POST /echo?" + strings.ReplaceAll(tc.name, " ", "-") + " HTTP/1.1\r\nHost: a\r\n" + expect + tc.head + "\r\n")
			if l := c.line(); l != "HTTP/1.1 100 Continue" {
				t.Fatalf("first line %q, want HTTP/1.1 100 Continue", l)
			}
			if l := c.line(); l != "" {
				t.Fatalf("the 100 Continue is followed by %q, not an empty line", l)
			}
			if got := len(httpSeen(t, seen)); got != before {
				t.Fatalf("the app ran before the body was sent: %q", httpSeen(t, seen))
			}
			c.send(tc.body)
			resp, body := c.response("POST")
			if want := "POST /echo?" + strings.ReplaceAll(tc.name, " ", "-") + "|" + tc.want; resp.StatusCode != 200 || body != want {
				t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, want)
			}
			httpCheckNext(t, c)
		})
	}
	t.Run("no body", func(t *testing.T) {
		// Nothing to continue: the final response comes at once.
		c := httpDial(t, "tcp", s.Addr)
		c.send("GET /echo?nobody HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")
		resp, body := c.response("GET")
		if resp.StatusCode != 200 || body != "GET /echo?nobody|" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	})
	t.Run("HTTP/1.0 ignores it", func(t *testing.T) {
		c := httpDial(t, "tcp", s.Addr)
		c.send("POST /echo?ten HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")
		resp, body := c.response("POST")
		if resp.StatusCode != 200 || body != "POST /echo?ten|abc" {
			t.Fatalf("got %d %q; want the final 200 and no 100 Continue", resp.StatusCode, body)
		}
	})
	t.Run("too large", func(t *testing.T) {
		// A body over --limit-post is refused at once, without inviting it.
		before := len(httpSeen(t, seen))
		c := httpDial(t, "tcp", s.Addr)
		c.send("POST /echo?toolarge HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
		resp, _ := c.response("POST")
		if resp.StatusCode != 413 || httpConnHeader(resp) != "close" {
			t.Fatalf("got %d Connection %q; want 413 and close", resp.StatusCode, httpConnHeader(resp))
		}
		c.expectClosed(5 * time.Second)
		if got := len(httpSeen(t, seen)); got != before {
			t.Fatalf("the app saw %q", httpSeen(t, seen)[before:])
		}
	})
}

// ---------------------------------------------------------------- malformed requests

// Every malformed or unsupported request gets its 4xx/5xx as a complete response with
// Connection: close, the connection is closed, and Python never sees it, nor a request
// pipelined behind it.
func TestHTTPMalformedNeverReachesPython(t *testing.T) {
	t.Parallel()
	s, seen := httpStart(t, "--buffer-size", "4096", "--limit-post", "1000")

	// The recording works: a good request is seen.
	if resp, _ := s.Get("/control"); resp.StatusCode != 404 {
		t.Fatalf("control request: %d", resp.StatusCode)
	}
	control := httpSeen(t, seen)
	if len(control) != 1 || control[0] != "GET /control" {
		t.Fatalf("the app recorded %q for the control request", control)
	}

	const h = "Host: a\r\n"
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
	longHeaders := ""
	for i := 0; i < 60; i++ {
		longHeaders += fmt.Sprintf("X-Header-%02d: %s\r\n", i, strings.Repeat("v", 64))
	}
	chunks2000 := strings.Repeat("64\r\n"+strings.Repeat("c", 100)+"\r\n", 20) + "0\r\n\r\n"
	cases := []struct {
		name    string
		request string
		status  int
		cut     bool // the client half-closes after the request (it ends early)
	}{
		{"no version", "GET /\r\n" + h + "\r\n", 400, false},
		{"garbage request line", "HELLO\r\n" + h + "\r\n", 400, false},
		{"two spaces", "GET  / HTTP/1.1\r\n" + h + "\r\n", 400, false},
		{"bad method chars", "GE(T / HTTP/1.1\r\n" + h + "\r\n", 400, false},
		{"method with a slash", "G/T / HTTP/1.1\r\n" + h + "\r\n", 400, false},
		{"lower-case version", "GET / http/1.1\r\n" + h + "\r\n", 400, false},
		{"control char in target", "GET /a\x01b HTTP/1.1\r\n" + h + "\r\n", 400, false},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n" + h + "\r\n", 505, false},
		{"HTTP/0.9 style version", "GET / HTTP/0.9\r\n" + h + "\r\n", 505, false},
		{"missing Host on 1.1", "GET /env HTTP/1.1\r\n\r\n", 400, false},
		{"two Hosts", "GET /env HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, false},
		{"two different Content-Length", "POST /env HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, false},
		{"Content-Length list that disagrees", "POST /env HTTP/1.1\r\n" + h + "Content-Length: 3, 4\r\n\r\nabcd", 400, false},
		{"negative Content-Length", "POST /env HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n", 400, false},
		{"Content-Length with Transfer-Encoding", "POST /env HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, false},
		{"Transfer-Encoding with Content-Length", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, false},
		{"Transfer-Encoding gzip", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\nxxxx", 501, false},
		{"Transfer-Encoding gzip, chunked", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, false},
		{"Transfer-Encoding on HTTP/1.0", "POST /env HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, false},
		{"space before colon", "GET /env HTTP/1.1\r\n" + h + "X-Foo : bar\r\n\r\n", 400, false},
		{"space in field name", "GET /env HTTP/1.1\r\n" + h + "X Foo: bar\r\n\r\n", 400, false},
		{"obs-fold", "GET /env HTTP/1.1\r\n" + h + "X-Foo: bar\r\n  baz\r\n\r\n", 400, false},
		{"whitespace before the first field", "GET /env HTTP/1.1\r\n " + h + "\r\n", 400, false},
		{"bare CR in a value", "GET /env HTTP/1.1\r\n" + h + "X-Foo: a\rb\r\n\r\n", 400, false},
		{"bare CR as a line end", "GET /env HTTP/1.1\r\n" + h + "X-Foo: a\rX-Bar: b\r\n\r\n", 400, false},
		{"NUL in a value", "GET /env HTTP/1.1\r\n" + h + "X-Foo: a\x00b\r\n\r\n", 400, false},
		{"NUL in the request line", "GET /env\x00 HTTP/1.1\r\n" + h + "\r\n", 400, false},
		{"no colon", "GET /env HTTP/1.1\r\n" + h + "X-Foo\r\n\r\n", 400, false},
		{"header beyond --buffer-size", "GET /env HTTP/1.1\r\n" + h + "X-Big: " + strings.Repeat("b", 5000) + "\r\n\r\n", 431, false},
		{"headers beyond --buffer-size together", "GET /env HTTP/1.1\r\n" + h + longHeaders + "\r\n", 431, false},
		{"request line beyond --buffer-size", "GET /" + strings.Repeat("l", 5000) + " HTTP/1.1\r\n" + h + "\r\n", 414, false},
		{"body beyond --limit-post", "POST /env HTTP/1.1\r\n" + h + "Content-Length: 2000\r\n\r\n" + strings.Repeat("x", 2000), 413, false},
		{"chunked body beyond --limit-post", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n" + chunks2000, 413, false},
		{"unknown Expect", "POST /env HTTP/1.1\r\n" + h + "Expect: 200-ok\r\nContent-Length: 3\r\n\r\nabc", 417, false},
		{"chunked: bare LF after the size", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: bare LF after the data", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400, false},
		{"chunked: bare LF in the last chunk", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\n", 400, false},
		{"chunked: bad hex", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: 0x prefix", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: negative size", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: size overflows", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: data longer than its size", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: data shorter than its size", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n8\r\nhello\r\n0\r\n\r\n", 400, false},
		{"chunked: malformed trailer", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n", 400, false},
		{"chunked: truncated in the data", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhel", 400, true},
		{"chunked: truncated before the last chunk", "POST /env HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 400, true},
		{"Content-Length: truncated body", "POST /env HTTP/1.1\r\n" + h + "Content-Length: 10\r\n\r\nabc", 400, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(httpSeen(t, seen))
			c := httpDial(t, "tcp", s.Addr)
			if tc.cut {
				c.send(tc.request)
				c.nc.(*net.TCPConn).CloseWrite()
			} else {
				c.send(tc.request + smuggled)
			}
			resp, body := c.response("GET")
			if resp.StatusCode != tc.status {
				t.Errorf("status %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			if got := httpConnHeader(resp); got != "close" {
				t.Errorf("Connection header %q, want close", got)
			}
			if resp.ContentLength != int64(len(body)) || body == "" {
				t.Errorf("Content-Length %d, body %q: want a complete, explained response", resp.ContentLength, body)
			}
			httpCheckDate(t, tc.name, resp.Header)
			c.expectClosed(5 * time.Second)
			if got := httpSeen(t, seen); len(got) != before {
				t.Errorf("the app saw %q", got[before:])
			}
		})
	}
	if got := httpSeen(t, seen); len(got) != 1 {
		t.Fatalf("the app saw %q", got)
	}
}

// The limits are the options' values, not something lower: a head just under
// --buffer-size and bodies of exactly --limit-post are served (the cases above are refused
// because of the options, not by accident).
func TestHTTPLimitsAdmitUpToTheOption(t *testing.T) {
	t.Parallel()
	s, _ := httpStart(t, "--buffer-size", "4096", "--limit-post", "1000")
	head := "GET /env HTTP/1.1\r\nHost: a\r\n\r\n"
	big := "GET /env HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 4096-len(head)-len("X-Big: \r\n")) + "\r\n\r\n"
	if len(big) != 4096 {
		t.Fatalf("test bug: head of %d bytes", len(big))
	}
	longLine := "GET /env?" + strings.Repeat("l", 3900) + " HTTP/1.1\r\nHost: a\r\n\r\n"
	body := strings.Repeat("y", 1000)
	chunked := "3e8\r\n" + body + "\r\n0\r\n\r\n"
	for _, tc := range []struct {
		name, request string
		bodyLen       float64
	}{
		{"head of exactly --buffer-size", big, 0},
		{"long request line", longLine, 0},
		{"body of exactly --limit-post", "POST /env HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" + body, 1000},
		{"chunked body of exactly --limit-post", "POST /env HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, 1000},
	} {
		c := httpDial(t, "tcp", s.Addr)
		c.send(tc.request)
		resp, out := c.response("POST")
		if resp.StatusCode != 200 {
			t.Errorf("%s: got %d %q", tc.name, resp.StatusCode, httpShort(out))
			continue
		}
		if env := httpJSON(t, out); env["body_len"] != tc.bodyLen {
			t.Errorf("%s: the app read %v bytes, want %v", tc.name, env["body_len"], tc.bodyLen)
		}
	}
}
