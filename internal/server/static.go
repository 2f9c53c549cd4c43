package server

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"uwsgo/internal/proto"
)

// Static files (--static-map and its family, internal/static) are answered here, on the
// connection's goroutine and before any Python: internal/static decides and calls
// http.ServeContent, and staticResponse writes what it produces onto the connection. A
// small file joins the connection's output buffer like any response (pipelined ones go
// out in one write); a larger one is sent with sendfile(2) after its head.

// staticInline is the largest body copied into the output buffer rather than sent
// with sendfile: below it, one write costs less than a write and a sendfile.
const staticInline = 64 << 10

// staticResponse is the http.ResponseWriter internal/static answers through, and the
// http.Request it reads; both are reused.
type staticResponse struct {
	c         *conn
	x         *exchange
	keepAlive bool
	header    http.Header
	code      int
	headDone  bool
	held      []byte // a body written before its length is known (an error's text)
	sent      int64
	failed    bool // a write to the client failed: close

	req       http.Request
	url       url.URL
	reqHeader http.Header
}

var staticPool = sync.Pool{New: func() any {
	return &staticResponse{header: http.Header{}, reqHeader: http.Header{}}
}}

// staticHeaders are the request headers internal/static and ServeContent read, by the
// uwsgi var that carries them.
var staticHeaders = map[string]string{
	"HTTP_ACCEPT_ENCODING":     "Accept-Encoding",
	"HTTP_IF_NONE_MATCH":       "If-None-Match",
	"HTTP_IF_MODIFIED_SINCE":   "If-Modified-Since",
	"HTTP_IF_MATCH":            "If-Match",
	"HTTP_IF_UNMODIFIED_SINCE": "If-Unmodified-Since",
	"HTTP_RANGE":               "Range",
	"HTTP_IF_RANGE":            "If-Range",
}

// serveStatic answers x from disk when its path maps to a file. served reports whether it
// did; ok, whether the connection may go on.
func (c *conn) serveStatic(x *exchange, start time.Time) (served, ok bool) {
	var method string
	switch string(x.req.Method) {
	case http.MethodGet:
		method = http.MethodGet
	case http.MethodHead:
		method = http.MethodHead
	default:
		return false, true
	}
	w := staticPool.Get().(*staticResponse)
	defer func() {
		w.c, w.x = nil, nil // a pooled writer keeps no connection alive
		staticPool.Put(w)
	}()
	w.c, w.x, w.keepAlive = c, x, x.keepAlive
	w.code, w.headDone, w.held, w.sent, w.failed = http.StatusOK, false, w.held[:0], 0, false
	clear(w.header)
	clear(w.reqHeader)
	w.url = url.URL{}
	// An HTTP request's path is still encoded: internal/static decodes it, refusing an
	// encoded "/". nginx's PATH_INFO (the uwsgi protocol, whose bodies end with the
	// connection) is decoded already.
	if x.closeDelimited {
		w.url.Path = string(x.req.Path)
	} else {
		w.url.RawPath = string(x.req.Path)
	}
	proto.EachVar(x.vars, func(k, v []byte) bool {
		if name, ok := staticHeaders[string(k)]; ok {
			w.reqHeader[name] = []string{string(v)}
		}
		return true
	})
	w.req = http.Request{Method: method, URL: &w.url, Header: w.reqHeader, RequestURI: string(x.req.Target),
		ProtoMajor: 1, ProtoMinor: x.req.ProtoMinor}
	if !c.s.cfg.Static.Serve(w, &w.req) {
		return false, true
	}
	w.finish()
	x.status, x.sent = w.code, w.sent
	c.s.stats.Requests.Add(1)
	c.s.stats.TxBytes.Add(uint64(w.sent))
	if c.logs(x, w.code, start) {
		c.logRequest(x, w.code, start)
	}
	return true, !w.failed && w.keepAlive
}

func (w *staticResponse) Header() http.Header { return w.header }

func (w *staticResponse) WriteHeader(code int) {
	if !w.headDone {
		w.code = code
	}
}

// Write takes a body ServeContent writes itself: a multipart/byteranges one (its length
// announced) or an error's text (its length known only at the end).
func (w *staticResponse) Write(p []byte) (int, error) {
	if !w.headDone {
		if _, ok := w.header["Content-Length"]; !ok {
			w.held = append(w.held, p...)
			return len(p), nil
		}
		w.writeHead(-1)
	}
	return w.body(p)
}

func (w *staticResponse) body(p []byte) (int, error) {
	if w.x.isHEAD() {
		return len(p), nil
	}
	w.c.out = append(w.c.out, p...)
	w.sent += int64(len(p))
	if len(w.c.out) >= staticInline && !w.c.flush() {
		w.failed = true
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

// section is a static file as internal/static hands it to ServeContent.
type section interface {
	io.Reader
	Section() (*os.File, int64)
}

// ReadFrom is how ServeContent sends a file's bytes (io.CopyN): a section of the file
// behind an io.LimitedReader. A small one is read into the output buffer; a larger one
// goes out with sendfile(2) once the head is written.
func (w *staticResponse) ReadFrom(r io.Reader) (int64, error) {
	lr, _ := r.(*io.LimitedReader)
	var file section
	if lr != nil {
		file, _ = lr.R.(section)
	}
	if !w.headDone {
		n := int64(-1)
		if file != nil {
			n = lr.N
		}
		w.writeHead(n)
	}
	if file == nil || lr.N <= staticInline {
		return w.copyInline(r)
	}
	if !w.c.flush() {
		w.failed = true
		return 0, io.ErrClosedPipe
	}
	f, off := file.Section()
	n := lr.N
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		w.failed = true
		return 0, err
	}
	if err := copyFile(w.c.nc, f, n, w.c.s.cfg.SocketTimeout); err != nil {
		w.failed = true
		return 0, err
	}
	lr.N = 0
	w.sent += n
	return n, nil
}

func (w *staticResponse) copyInline(r io.Reader) (int64, error) {
	var total int64
	for {
		out := w.c.out
		if cap(out)-len(out) < 4096 {
			out = append(out, make([]byte, 16<<10)...)[:len(out)]
		}
		n, err := r.Read(out[len(out):cap(out)])
		w.c.out = out[:len(out)+n]
		total += int64(n)
		w.sent += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if len(w.c.out) >= staticInline && !w.c.flush() {
			w.failed = true
			return total, io.ErrClosedPipe
		}
	}
}

// finish writes what is not written yet: a head without a body (HEAD, 304) or with the
// body held back for its length.
func (w *staticResponse) finish() {
	if w.headDone {
		return
	}
	if _, ok := w.header["Content-Length"]; ok && w.x.isHEAD() && (w.code == http.StatusOK || w.code == http.StatusPartialContent) {
		w.writeHead(-1) // the length of the body a GET would get
	} else {
		w.writeHead(int64(len(w.held)))
	}
	w.body(w.held)
}

// writeHead writes the status line and headers. length is the body's when the header
// map does not say it (-1: it does).
func (w *staticResponse) writeHead(length int64) {
	w.headDone = true
	c := w.c
	mark := len(c.out)
	out := append(c.out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(w.code), 10)
	out = append(out, ' ')
	out = append(out, http.StatusText(w.code)...)
	out = append(out, "\r\n"...)
	for k, vs := range w.header {
		if k == "Content-Length" && length >= 0 {
			continue
		}
		for _, v := range vs {
			out = append(out, k...)
			out = append(out, ": "...)
			out = append(out, v...)
			out = append(out, "\r\n"...)
		}
	}
	bodiless := w.code < 200 || w.code == http.StatusNoContent || w.code == http.StatusNotModified
	if length >= 0 && !bodiless {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, length, 10)
		out = append(out, "\r\n"...)
	}
	if !w.keepAlive {
		out = append(out, "Connection: close\r\n"...)
	} else if w.x.req.KeepAlive10 {
		out = append(out, "Connection: keep-alive\r\n"...)
	}
	out = append(out, *dateHeader.Load()...)
	c.out = append(out, "\r\n"...)
	w.x.headBytes = int64(len(c.out) - mark)
}
