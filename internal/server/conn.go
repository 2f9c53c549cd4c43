package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"uwsgo/internal/proto"
)

// conn is one client connection; its goroutine runs serve (HTTP) or serveUwsgi.
type conn struct {
	s      *Server
	nc     net.Conn
	packet []byte // a uwsgi packet's vars or items
	br     *bufio.Reader
	ci     proto.ConnInfo
	x      exchange
	out    []byte // the response being made, written whole once complete
	outMem int64  // of out, taken from the worker's response memory budget
	cr     proto.ChunkedReader
	rd     connReader

	logLine []byte // the access log line, reused
	proxied bool   // the peer is a trusted proxy: X-Forwarded-* are believed
	// panicked: a panic was recovered in its goroutine (panic.go); it is not reused
	panicked bool

	mu sync.Mutex // guards the wait's fields against Shutdown's wake-up
	// waiting: the connection waits for a request (its first, or the next on a
	// keep-alive connection) from idleSince until waitUntil; when a drain starts, at most
	// drainGrace from idleSince.
	waiting              bool
	idleSince, waitUntil time.Time
}

// connPool keeps finished connections for reuse: their buffers (the request head's,
// which is --buffer-size long, the response's, the body's) cost more to allocate and
// collect than a whole request when every request comes on a new connection.
var connPool = sync.Pool{New: func() any {
	c := &conn{}
	c.br = bufio.NewReaderSize(&c.rd, 8192)
	c.x.c = c
	return c
}}

func newConn(s *Server, nc net.Conn) *conn {
	c := connPool.Get().(*conn)
	c.s, c.nc, c.ci = s, nc, connInfo(nc)
	c.rd = connReader{nc: nc, timeout: s.cfg.SocketTimeout}
	c.br.Reset(&c.rd)
	c.proxied = s.cfg.Trusted.TrustsPeer(nc)
	return c
}

// release closes the connection and gives its buffers back.
func (c *conn) release() {
	c.nc.Close()
	c.s.responseMemory.give(c.outMem) // a response never flushed
	c.outMem = 0
	c.s.untrack(c)
	c.s, c.nc, c.rd.nc = nil, nil, nil
	c.out, c.packet = c.out[:0], c.packet[:0]
	c.waiting = false
	if !c.panicked {
		connPool.Put(c)
	}
}

func connInfo(nc net.Conn) proto.ConnInfo {
	ci := proto.ConnInfo{Scheme: "http", ServerName: "localhost"}
	if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		ci.ServerName, ci.ServerPort = a.IP.String(), strconv.Itoa(a.Port)
	}
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		ci.RemoteAddr, ci.RemotePort = a.IP.String(), strconv.Itoa(a.Port)
	}
	return ci
}

func (c *conn) serve() {
	defer c.release()
	defer c.containPanic()
	c.x.closeDelimited = false
	for first := true; c.awaitRequest(first); first = false {
		ok := c.handle()
		// A response goes out as soon as it is complete, whatever was read behind it: the
		// next request may be partial (a pipelined request, the CRLF some clients send
		// after a body), or slow in Python.
		if !c.flush() || !ok {
			return
		}
	}
}

// awaitRequest waits for the first byte of the next request: up to the keep-alive time
// between requests, the socket timeout for the first. It is the only place a connection
// is idle, and so the only place Shutdown wakes it.
func (c *conn) awaitRequest(first bool) bool {
	if c.br.Buffered() > 0 {
		return true // a pipelined request was already received: it is answered, even when draining
	}
	wait := c.s.cfg.KeepAlive
	if first {
		wait = c.s.cfg.SocketTimeout
	}
	c.mu.Lock()
	if c.s.draining.Load() {
		wait = min(wait, drainGrace)
	}
	c.waiting, c.idleSince = true, time.Now()
	c.waitUntil = c.idleSince.Add(wait)
	if first {
		c.nc.SetReadDeadline(c.idleSince.Add(firstBytesWait))
	} else {
		c.nc.SetReadDeadline(c.waitUntil)
	}
	c.mu.Unlock()
	_, err := c.br.Peek(1)
	if first {
		// Its place at the gate goes, whether bytes came or not: a silent client must not
		// hold the accept loop (admission.go).
		c.s.gate.firstBytes()
		if isTimeout(err) && time.Now().Before(c.waitUntil) {
			c.mu.Lock()
			c.nc.SetReadDeadline(c.waitUntil) // wakeIfIdle may have moved it closer
			c.mu.Unlock()
			_, err = c.br.Peek(1)
		}
	}
	c.mu.Lock()
	c.waiting = false
	c.mu.Unlock()
	return err == nil
}

// wakeIfIdle shortens the wait of a connection waiting for a request to drainGrace from
// the start of its wait. Closing it at once would race a request its client has just sent
// (for a keep-alive connection, as soon as it read the previous response): the
// connection would be closed with that request unanswered. A request that arrives within
// the grace is answered with Connection: close. A client that was idle longer than the
// grace is closed at once, as its keep-alive timeout would have.
func (c *conn) wakeIfIdle() {
	c.mu.Lock()
	if d := c.idleSince.Add(drainGrace); c.waiting && d.Before(c.waitUntil) {
		c.waitUntil = d
		c.nc.SetReadDeadline(d)
	}
	c.mu.Unlock()
}

// bigBody is the size from which a body in out counts against the response memory budget:
// below it, the budget's bookkeeping would cost more than the memory.
const bigBody = 64 << 10

// reserveOut takes n bytes of body for out from the response memory budget.
func (c *conn) reserveOut(n int) bool {
	if n < bigBody {
		return true
	}
	if !c.s.responseMemory.take(int64(n)) {
		return false
	}
	c.outMem += int64(n)
	return true
}

// flush writes the pending responses.
func (c *conn) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	err := writeAll(c.nc, c.out, c.s.cfg.SocketTimeout)
	c.s.responseMemory.give(c.outMem)
	c.outMem = 0
	c.out = c.out[:0]
	if cap(c.out) > 1<<20 {
		c.out = nil // one large response must not pin its memory to an idle connection
	}
	return err == nil
}

// drainGrace is how long a draining server waits for a request on a connection that has
// none yet: the first of a connection accepted just before it stopped accepting, or the
// next on a keep-alive connection.
const drainGrace = 2 * time.Second

var errTruncated = &proto.Error{Status: http.StatusBadRequest, Reason: "the request body ended before its announced length"}

// truncated answers a body cut short with 400: a client that only half-closed still reads it.
func truncated(err error) error {
	if err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}

var errTooLarge = &proto.Error{Status: http.StatusRequestEntityTooLarge, Reason: "request body larger than --limit-post"}

// handle reads, runs and answers one request; false means close the connection.
func (c *conn) handle() bool {
	x := &c.x
	start := time.Now()
	c.nc.SetReadDeadline(start.Add(c.s.cfg.SocketTimeout))
	if err := proto.ReadRequest(c.br, proto.Limits{MaxHeadBytes: c.s.cfg.MaxHeadBytes}, &x.req); err != nil {
		c.refuse(err)
		return false
	}
	defer x.releaseBody()
	if err := c.readBody(x); err != nil {
		x.releaseBody() // its budget is not held while the refusal goes out
		c.refuse(err)
		return false
	}
	if c.s.healthPath != nil && c.isHealthCheck(x) {
		return c.answerHealth(x)
	}
	if c.proxied {
		ci := c.s.cfg.Trusted.Forwarded(&x.req, c.ci)
		x.vars = x.req.AppendVars(x.vars[:0], &ci, x.bodyLen)
	} else {
		x.vars = x.req.AppendVars(x.vars[:0], &c.ci, x.bodyLen)
	}
	return c.dispatch(x, start, !x.req.Close && c.s.cfg.KeepAlive > 0 && !c.s.draining.Load())
}

// dispatch runs a request whose vars and body are read, and queues its response.
func (c *conn) dispatch(x *exchange, start time.Time, keepAlive bool) bool {
	x.begin(keepAlive)
	if c.s.cfg.Static != nil {
		if served, ok := c.serveStatic(x, start); served {
			return ok
		}
	}
	rc := c.s.run(x)
	status := x.finish(rc)
	c.s.stats.TxBytes.Add(uint64(x.sent))
	if c.logs(x, status, start) {
		c.logRequest(x, status, start)
	}
	if x.file != nil && !c.sendFile(x) {
		return false
	}
	return !x.close
}

// refuse answers a request that never reaches Python, then closes: after a malformed
// head nothing that follows on the connection can be trusted.
func (c *conn) refuse(err error) {
	var pe *proto.Error
	if !errors.As(err, &pe) {
		return // the client went away or stalled: nobody to answer
	}
	body := pe.Reason + "\n"
	c.out = append(c.out, "HTTP/1.1 "...)
	c.out = strconv.AppendInt(c.out, int64(pe.Status), 10)
	c.out = append(c.out, ' ')
	c.out = append(c.out, http.StatusText(pe.Status)...)
	c.out = append(c.out, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	c.out = strconv.AppendInt(c.out, int64(len(body)), 10)
	c.out = append(c.out, "\r\n"...)
	c.out = append(c.out, *dateHeader.Load()...)
	c.out = append(c.out, "\r\n"...)
	c.out = append(c.out, body...)
	c.s.logRefusal("%s: refused with %d: %s", c.nc.RemoteAddr(), pe.Status, pe.Reason)
	if !c.flush() {
		return
	}
	// Closing with unread input makes the kernel send RST, which can destroy the answer
	// before the client reads it: half-close, then drain a little.
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		io.Copy(io.Discard, io.LimitReader(c.br, 256<<10))
	}
}

// readBody reads the whole body before Python sees the request: in memory up to
// PostBuffering while the worker's body memory budget allows, the rest in an unlinked
// temporary file within its body disk budget (budget.go).
func (c *conn) readBody(x *exchange) error {
	req := &x.req
	x.bodyLen = -1
	if !req.Chunked && req.ContentLength < 0 {
		return nil
	}
	limit := c.s.cfg.LimitPost
	if limit > 0 && req.ContentLength > limit {
		return errTooLarge
	}
	disk := &c.s.bodyDisk
	if disk.limit > 0 && req.ContentLength > c.s.cfg.PostBuffering && req.ContentLength > disk.limit {
		return errBodyOverBudget
	}
	if req.ExpectContinue && (req.Chunked || req.ContentLength > 0) {
		c.out = append(c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
		if !c.flush() {
			return io.ErrUnexpectedEOF
		}
	}
	var r io.Reader
	if req.Chunked {
		c.cr.Reset(c.br, proto.Limits{MaxHeadBytes: c.s.cfg.MaxHeadBytes})
		r = &c.cr
	} else {
		r = io.LimitReader(c.br, req.ContentLength)
	}
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	c.rd.perRead = true
	defer func() { c.rd.perRead = false }()
	inMemory := c.s.cfg.PostBuffering + 1 // one more: a body that reaches it goes to a file
	if !req.Chunked {
		inMemory = min(inMemory, req.ContentLength)
	}
	spill := false // the memory budget is spent: straight to a file
	if inMemory > 0 && !c.s.bodyMemory.take(inMemory) {
		inMemory, spill = 0, true
	}
	x.bodyMemory = inMemory
	n, err := readInto(&x.bodyBuf, r, inMemory)
	if err != nil {
		return truncated(err)
	}
	if n > c.s.cfg.PostBuffering || spill {
		f, err := os.CreateTemp("", "uwsgo-body-")
		if err != nil {
			return errBodyDisk
		}
		os.Remove(f.Name())
		x.bodyFile = f
		w := bodyFile{f: f, b: disk, taken: &x.bodyDisk}
		if _, err := w.Write(x.bodyBuf); err != nil {
			return err
		}
		c.s.bodyMemory.give(x.bodyMemory)
		x.bodyMemory = 0
		m, err := io.Copy(w, r)
		if err != nil {
			return truncated(err)
		}
		n += m
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return errBodyDisk
		}
		x.bodyBuf = x.bodyBuf[:0]
	} else {
		x.body = x.bodyBuf
	}
	if limit > 0 && n > limit {
		return errTooLarge
	}
	if !req.Chunked && n < req.ContentLength {
		return errTruncated
	}
	x.bodyLen = n
	return nil
}

// readInto reads r into *buf until EOF or max bytes.
func readInto(buf *[]byte, r io.Reader, max int64) (int64, error) {
	b := (*buf)[:0]
	for int64(len(b)) < max {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):min(int64(cap(b)), max)]
		n, err := r.Read(room)
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			return int64(len(b)), err
		}
	}
	*buf = b
	return int64(len(b)), nil
}

// sendFile writes a wsgi.file_wrapper body after its head; the kernel copies it
// (sendfile) when the connection is TCP.
func (c *conn) sendFile(x *exchange) bool {
	defer func() { x.file.Close(); x.file = nil }()
	if !c.flush() {
		return false
	}
	if _, err := x.file.Seek(x.fileOffset, io.SeekStart); err != nil {
		return false
	}
	return copyFile(c.nc, x.file, x.fileLength, c.s.cfg.SocketTimeout) == nil
}
