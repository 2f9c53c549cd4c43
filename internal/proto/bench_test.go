package proto

import (
	"bufio"
	"io"
	"testing"
)

// loopReader serves the same bytes forever, so a benchmark can parse
// request after request through one bufio.Reader, as a keep-alive
// connection does.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// A wrk-style GET with the handful of headers a typical client sends.
const benchGET = "GET /plaintext?id=42 HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: wrk/4.2.0\r\n" +
	"Accept: text/plain,text/html;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Encoding: gzip, deflate\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

const benchPOST = "POST /api/items HTTP/1.1\r\n" +
	"Host: api.example.com\r\n" +
	"User-Agent: python-requests/2.31.0\r\n" +
	"Accept: application/json\r\n" +
	"Content-Type: application/json\r\n" +
	"Content-Length: 2\r\n" +
	"Cookie: session=abcdef0123456789\r\n" +
	"Cookie: theme=dark\r\n" +
	"X-Forwarded-For: 203.0.113.9\r\n" +
	"\r\n{}"

var benchConn = &ConnInfo{Scheme: "http", ServerName: "localhost", ServerPort: "8080", RemoteAddr: "127.0.0.1", RemotePort: "50000"}

func benchmarkParse(b *testing.B, raw string, appendVars bool) {
	r := bufio.NewReader(&loopReader{data: []byte(raw)})
	req := new(Request)
	vars := make([]byte, 0, 4096)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ReadRequest(r, Limits{}, req); err != nil {
			b.Fatal(err)
		}
		bodyLen := int64(-1)
		if req.ContentLength > 0 {
			if _, err := r.Discard(int(req.ContentLength)); err != nil {
				b.Fatal(err)
			}
			bodyLen = req.ContentLength
		}
		if appendVars {
			vars = req.AppendVars(vars[:0], benchConn, bodyLen)
		}
	}
}

func BenchmarkReadRequestAppendVars(b *testing.B)     { benchmarkParse(b, benchGET, true) }
func BenchmarkReadRequestAppendVarsPOST(b *testing.B) { benchmarkParse(b, benchPOST, true) }
func BenchmarkReadRequest(b *testing.B)               { benchmarkParse(b, benchGET, false) }

func BenchmarkAppendVars(b *testing.B) {
	req := new(Request)
	if err := ReadRequest(bufio.NewReader(&loopReader{data: []byte(benchGET)}), Limits{}, req); err != nil {
		b.Fatal(err)
	}
	vars := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		vars = req.AppendVars(vars[:0], benchConn, -1)
	}
}

func BenchmarkEachVar(b *testing.B) {
	req := new(Request)
	if err := ReadRequest(bufio.NewReader(&loopReader{data: []byte(benchGET)}), Limits{}, req); err != nil {
		b.Fatal(err)
	}
	block := req.AppendVars(nil, benchConn, -1)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		_ = EachVar(block, func(k, v []byte) bool { n += len(v); return true })
	}
}

func BenchmarkChunked(b *testing.B) {
	raw := []byte("400\r\n" + string(make([]byte, 1024)) + "\r\n400;x=y\r\n" + string(make([]byte, 1024)) + "\r\n0\r\n\r\n")
	r := bufio.NewReader(&loopReader{data: raw})
	var cr ChunkedReader
	buf := make([]byte, 4096)
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		cr.Reset(r, Limits{})
		for {
			_, err := cr.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
