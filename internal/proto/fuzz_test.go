package proto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var fuzzRequests = []string{
	"GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
	"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
	"POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
	"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
	"GET /a%20b/%2F?q HTTP/1.0\r\nConnection: keep-alive\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
	"GET http://u.example:81/p?q HTTP/1.1\r\nHost: h\r\nX_Spoof: 1\r\nProxy: x\r\n\r\n",
	"\r\nOPTIONS * HTTP/1.1\nHost: [::1]:80\n\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
}

// FuzzReadRequest checks that no input panics, that every error is one the
// server knows how to handle, that a parsed request always encodes to a
// well-formed vars block with no raw control bytes in it, and that the
// result does not depend on how the bytes are split across reads.
func FuzzReadRequest(f *testing.F) {
	for _, s := range fuzzRequests {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := fuzzParseAll(t, bufio.NewReader(bytes.NewReader(data)))
		split := fuzzParseAll(t, bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16))
		if whole != split {
			t.Fatalf("outcome depends on read sizes:\n%q\n%q", whole, split)
		}
	})
}

// fuzzParseAll reads requests (and their bodies) until an error and
// returns a transcript of the vars blocks and the final error.
func fuzzParseAll(t *testing.T, r *bufio.Reader) string {
	var out strings.Builder
	req := new(Request)
	ci := &ConnInfo{Scheme: "http", ServerName: "s", RemoteAddr: "1.2.3.4", RemotePort: "5"}
	lim := Limits{MaxHeadBytes: 1024}
	for i := 0; ; i++ {
		err := ReadRequest(r, lim, req)
		if err != nil {
			var e *Error
			switch {
			case err == io.EOF, err == io.ErrUnexpectedEOF:
			case errors.As(err, &e):
				switch e.Status {
				case 400, 414, 417, 431, 501, 505:
				default:
					t.Fatalf("unexpected status %d", e.Status)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			out.WriteString(err.Error())
			return out.String()
		}
		checkRequest(t, req)

		bodyLen := int64(-1)
		switch {
		case req.Chunked:
			n, err := io.Copy(io.Discard, newChunkedReader(r, lim))
			if err != nil {
				out.WriteString("body: " + err.Error())
				return out.String()
			}
			bodyLen = n
		case req.ContentLength >= 0:
			n, _ := io.CopyN(io.Discard, r, req.ContentLength)
			if n != req.ContentLength {
				out.WriteString("short body")
				return out.String()
			}
			bodyLen = n
		}
		block := req.AppendVars(nil, ci, bodyLen)
		checkVars(t, block)
		out.Write(block)
		out.WriteString("\n--\n")
	}
}

func checkRequest(t *testing.T, req *Request) {
	if !isToken(req.Method) || len(req.Target) == 0 || len(req.Path) == 0 {
		t.Fatalf("bad request line accepted: %q %q", req.Method, req.Target)
	}
	if req.ProtoMajor != 1 || req.ProtoMinor > 1 {
		t.Fatalf("version %d.%d", req.ProtoMajor, req.ProtoMinor)
	}
	if req.Chunked && req.ContentLength >= 0 {
		t.Fatal("both chunked and Content-Length")
	}
	if req.Close && req.KeepAlive10 {
		t.Fatal("Close and KeepAlive10")
	}
	for _, h := range req.Headers {
		if !isToken(h.Name) || bytes.ContainsAny(h.Value, "\r\n\x00") {
			t.Fatalf("bad field accepted: %q: %q", h.Name, h.Value)
		}
	}
}

func checkVars(t *testing.T, block []byte) {
	seen := map[string]bool{}
	err := EachVar(block, func(k, v []byte) bool {
		key := string(k)
		if seen[key] {
			t.Fatalf("duplicate var %s", key)
		}
		seen[key] = true
		switch key {
		case "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_PROXY", "HTTP_TRANSFER_ENCODING":
			t.Fatalf("%s emitted", key)
		case "PATH_INFO":
			return true
		}
		if bytes.ContainsAny(k, "-abcdefghijklmnopqrstuvwxyz\x00\r\n ") {
			t.Fatalf("bad key %q", k)
		}
		if bytes.ContainsAny(v, "\r\n\x00") {
			t.Fatalf("%s has a raw control byte: %q", key, v)
		}
		return true
	})
	if err != nil {
		t.Fatalf("AppendVars produced a block EachVar rejects: %v", err)
	}
	for _, k := range []string{"REQUEST_METHOD", "REQUEST_URI", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME",
		"SERVER_PROTOCOL", "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT"} {
		if !seen[k] {
			t.Fatalf("%s missing", k)
		}
	}
}

// FuzzChunked checks that the decoder never panics, returns only framing
// errors or io.ErrUnexpectedEOF, never yields more than it was given, never
// reads past the end of the body, and behaves the same whatever the read
// sizes.
func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"0\r\n\r\n",
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"5;a=b\r\nhello\r\n0\r\nX: y\r\n\r\nGET / HTTP/1.1\r\n",
		"A\r\n0123456789\r\n0 ; x\r\n\r\n",
		"5\nhello\n0\n\n",
		"ffffffffffffffff\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxHeadBytes: 1024}
		run := func(r *bufio.Reader, oneByte bool) (string, string) {
			var cr io.Reader = newChunkedReader(r, lim)
			if oneByte {
				cr = iotest.OneByteReader(cr)
			}
			body, err := io.ReadAll(cr)
			if err != nil {
				var e *Error
				if err != io.ErrUnexpectedEOF && !(errors.As(err, &e) && e.Status == 400) {
					t.Fatalf("unexpected error %v", err)
				}
				return string(body), err.Error()
			}
			if len(body) > len(data) {
				t.Fatal("decoded more than the input")
			}
			rest, _ := io.ReadAll(r)
			if !bytes.HasSuffix(data, rest) || len(rest) > len(data)-len(body)-5 {
				t.Fatalf("consumed %d of %d bytes for a %d-byte body", len(data)-len(rest), len(data), len(body))
			}
			return string(body), "rest:" + string(rest)
		}
		b1, e1 := run(bufio.NewReader(bytes.NewReader(data)), false)
		b2, e2 := run(bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16), true)
		if b1 != b2 || e1 != e2 {
			t.Fatalf("outcome depends on read sizes: %q %q / %q %q", b1, e1, b2, e2)
		}
	})
}

// FuzzEachVar checks that EachVar never panics and that whatever it accepts
// re-encodes to exactly the same bytes.
func FuzzEachVar(f *testing.F) {
	b := AppendVar(nil, "REQUEST_METHOD", "GET")
	b = AppendVar(b, "PATH_INFO", "/")
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 'a', 0xff, 0xff})
	f.Add((&Request{Method: []byte("GET"), Path: []byte("/")}).AppendVars(nil, nil, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		var again []byte
		err := EachVar(data, func(k, v []byte) bool {
			again = AppendVarBytes(again, string(k), v)
			return true
		})
		if err != nil {
			if err != ErrBadVars || again != nil {
				t.Fatalf("err %v after %d bytes of callbacks", err, len(again))
			}
			return
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("round trip changed the block")
		}
	})
}
