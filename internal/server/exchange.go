package server

import (
	"os"
	"strconv"
	"sync"
	"time"

	"uwsgo/internal/accesslog"
	"uwsgo/internal/proto"
	"uwsgo/internal/pypy"
)

// exchange is one request and its response, reused for every request of a connection.
// The Sink methods (send, sendFile) run on the connection's goroutine, inside the call into
// Python: they copy what Python hands over and never write to the client themselves,
// except through a stream.
type exchange struct {
	c    *conn
	req  proto.Request
	vars []byte

	body     []byte   // the body when it fits in memory (aliases bodyBuf)
	bodyBuf  []byte   // reused between requests
	bodyFile *os.File // the body when it did not
	bodyLen  int64    // -1: the request had no body framing

	bodyMemory, bodyDisk int64 // taken from the worker's body budgets (budget.go)

	mark      int  // len(c.out) before this response, to take it back on failure
	keepAlive bool // the connection may serve another request after this one
	close     bool // it must not
	started   bool // the app's head was accepted
	noBody    bool // HEAD, 1xx, 204, 304
	bodiless  bool // 1xx, 204, 304
	hasDate   bool // the app gave its own Date
	chunked   bool // streamed with chunked framing
	remaining int64
	sent      int64 // body bytes the app produced, for the log
	status    int
	stream    *stream

	// A body that did not come whole is held until it ends or grows, or its timer fires
	// (hold.go). mu guards the response's state against that timer, from the first held
	// byte on.
	mu        sync.Mutex
	holding   bool
	held      []byte
	holdTimer *time.Timer

	// closeDelimited: a streamed body ends with the connection, never chunked (the
	// uwsgi protocol, whose proxy passes the body through as it is).
	closeDelimited bool
	upgraded       bool     // uwsgi.websocket_handshake() answered: no HTTP response follows
	disconnected   bool     // uwsgi.disconnect(): nothing more goes to the client
	panicked       bool     // a Go panic was recovered in a call from Python (panic.go)
	items          [][]byte // an RPC call's name and arguments
	rpcResult      []byte

	file       *os.File // a wsgi.file_wrapper body, written after the head
	fileOffset int64
	fileLength int64

	headBytes int64           // the response head's size, for the access log
	logvars   []accesslog.Var // uwsgi.set_logvar's, for the access log
}

func (x *exchange) bodyFD() int {
	if x.bodyFile == nil {
		return -1
	}
	return int(x.bodyFile.Fd())
}

func (x *exchange) releaseBody() {
	x.body = nil
	if x.bodyFile != nil {
		x.bodyFile.Close()
		x.bodyFile = nil
	}
	x.c.s.bodyMemory.give(x.bodyMemory)
	x.c.s.bodyDisk.give(x.bodyDisk)
	x.bodyMemory, x.bodyDisk = 0, 0
	if cap(x.bodyBuf) > 256<<10 {
		x.bodyBuf = nil
	}
}

func (x *exchange) begin(keepAlive bool) {
	x.mark = len(x.c.out)
	x.keepAlive, x.close = keepAlive, !keepAlive
	x.started, x.noBody, x.chunked = false, false, false
	x.remaining, x.sent, x.status = -1, 0, 0
	x.upgraded, x.disconnected, x.panicked = false, false, false
	x.stream = nil
	x.headBytes, x.logvars = 0, x.logvars[:0]
}

func (x *exchange) isHEAD() bool {
	m := x.req.Method
	return len(m) == 4 && m[0] == 'H' && m[1] == 'E' && m[2] == 'A' && m[3] == 'D'
}

// startResponse turns the app's head into the response head, choosing the framing: the
// app's Content-Length, else the exact length when the whole body is already here, else
// chunked (HTTP/1.1) or end-of-connection (HTTP/1.0).
func (x *exchange) startResponse(head []byte, whole bool, length int64) int {
	if rc := x.acceptHead(head); rc != 0 {
		return rc
	}
	x.frameHead(whole, length)
	return 0
}

// acceptHead checks the app's head and writes its status line and headers, leaving the
// head open: the framing is chosen by frameHead, once it is known whether the whole body
// is here.
func (x *exchange) acceptHead(head []byte) int {
	c := x.c
	out, h, err := proto.AppendResponseHead(c.out, head)
	if err != nil {
		c.out = c.out[:x.mark]
		if err == proto.ErrBadStatus {
			return pypy.SendBadStatus
		}
		return pypy.SendBadHeader
	}
	c.out = append(out, c.s.addedHead...)
	x.started, x.status = true, h.Code
	x.close = x.close || h.Close
	x.bodiless = h.Code < 200 || h.Code == 204 || h.Code == 304
	x.noBody = x.bodiless || x.isHEAD()
	x.remaining, x.hasDate = h.ContentLength, h.HasDate
	return 0
}

// frameHead ends the head that acceptHead began with the body's framing.
func (x *exchange) frameHead(whole bool, length int64) {
	out := x.c.out
	switch {
	case x.remaining >= 0: // the app's own Content-Length
	case x.bodiless:
	case whole:
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, length, 10)
		out = append(out, "\r\n"...)
		x.remaining = length
	case x.noBody:
		// HEAD with a streamed body: its length is unknown, and no body follows anyway.
	case x.req.ProtoMinor >= 1 && !x.closeDelimited:
		out = append(out, "Transfer-Encoding: chunked\r\n"...)
		x.chunked = true
	default:
		x.close = true // an HTTP/1.0 client reads to the end of the connection
	}
	if x.close {
		out = append(out, "Connection: close\r\n"...)
	} else if x.req.KeepAlive10 {
		out = append(out, "Connection: keep-alive\r\n"...)
	}
	if !x.hasDate {
		out = append(out, *dateHeader.Load()...)
	}
	x.c.out = append(out, "\r\n"...)
	x.headBytes = int64(len(x.c.out) - x.mark)
}

// send receives the app's head (first call only), then body bytes. The start of a body
// that is not handed over whole is held (hold.go), so that the usual framework response,
// an iterable of one piece, goes out like a list: one write, with a Content-Length.
func (x *exchange) send(head, body []byte, final bool) int {
	if !x.started {
		// Nothing is held yet, so the hold timer is not running: no lock needed.
		if x.upgraded || x.disconnected || x.panicked {
			return pypy.SendClientGone // the connection is not HTTP's any more
		}
		if rc := x.acceptHead(head); rc != 0 {
			return rc
		}
		x.sent += int64(len(body))
		if !final && len(body) <= holdMax {
			x.hold(body)
			return pypy.SendOK
		}
		if !final {
			x.mu.Lock() // the stream's writer runs from here on
			defer x.mu.Unlock()
			x.startStream(body)
			return x.streamStatus()
		}
		x.frameHead(true, int64(len(body)))
		return x.whole(body)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.upgraded || x.disconnected || x.panicked {
		return pypy.SendClientGone
	}
	x.sent += int64(len(body))
	if x.holding {
		if final {
			return x.releaseHeld(body)
		}
		if len(x.held)+len(body) <= holdMax {
			x.held = append(x.held, body...)
			return pypy.SendOK
		}
		x.startStream(x.held)
		x.trimHeld()
	}
	if x.stream == nil {
		x.c.out = append(x.c.out, x.frame(body)...)
		x.endBody(final)
		return pypy.SendOK
	}
	x.push(body)
	if final {
		x.endBody(true)
	}
	return x.streamStatus()
}

// whole queues a complete body after its head: in the connection's output, or, when it is
// large and the worker's --response-memory-budget is spent, through a stream, which keeps
// it on disk until the client reads it.
func (x *exchange) whole(parts ...[]byte) int {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if x.c.reserveOut(n) {
		for _, p := range parts {
			x.c.out = append(x.c.out, x.frame(p)...)
		}
		x.endBody(true)
		return pypy.SendOK
	}
	x.stream = newStream(x.c)
	for _, p := range parts {
		x.push(p)
	}
	x.endBody(true)
	return x.streamStatus()
}

func (x *exchange) streamStatus() int {
	if x.stream.failed() {
		return pypy.SendClientGone
	}
	return pypy.SendOK
}

// push queues body bytes on the stream, in their chunk when the framing is chunked.
func (x *exchange) push(body []byte) {
	body = x.frame(body)
	if x.chunked && len(body) > 0 {
		x.stream.push(strconv.AppendInt(nil, int64(len(body)), 16), crlf, body, crlf)
	} else {
		x.stream.push(body)
	}
}

var crlf = []byte("\r\n")

// frame cuts what the framing allows: nothing after HEAD and the bodiless statuses,
// nothing beyond the app's own Content-Length.
func (x *exchange) frame(body []byte) []byte {
	if x.noBody {
		return nil
	}
	if x.remaining >= 0 {
		if int64(len(body)) > x.remaining {
			body = body[:x.remaining]
		}
		x.remaining -= int64(len(body))
	}
	return body
}

// endBody closes the body's framing. A body shorter than the Content-Length the app
// promised leaves the client waiting for bytes that never come: close instead.
func (x *exchange) endBody(final bool) {
	if !final {
		return
	}
	if x.remaining > 0 && !x.noBody {
		x.c.s.cfg.Log.Printf("%s %s: the app's Content-Length is %d bytes more than its body; closing the connection", x.req.Method, x.req.Target, x.remaining)
		x.close = true
	}
	if x.chunked {
		x.stream.push([]byte("0\r\n\r\n"))
	}
}

// sendFile takes a wsgi.file_wrapper over a real file: the kernel will copy it after the
// slot is released. It answers 1 when the file is not a regular one: the setup module
// then iterates over it instead.
func (x *exchange) sendFile(head []byte, fd int, offset, length int64) int {
	if x.upgraded || x.disconnected || x.panicked {
		return pypy.SendClientGone
	}
	if x.started {
		return 1
	}
	// A description of our own: the app's file object may move its offset or be closed.
	f, err := os.Open("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return 1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return 1
	}
	size := max(st.Size()-offset, 0)
	if length >= 0 {
		size = min(size, length)
	}
	if rc := x.startResponse(head, true, size); rc != 0 {
		f.Close()
		return rc
	}
	if x.remaining >= 0 {
		size = min(size, x.remaining)
		x.remaining -= size
	}
	x.sent = size
	x.endBody(true)
	if x.noBody || size == 0 {
		f.Close()
		return pypy.SendOK
	}
	x.file, x.fileOffset, x.fileLength = f, offset, size
	return pypy.SendOK
}

// finish settles the response after Python returned and the slot is free, and says
// which status the log reports.
func (x *exchange) finish(rc int) int {
	c := x.c
	x.mu.Lock()
	if x.panicked {
		rc = pypy.FailedBeforeHeaders // whatever the app did, the response is not whole
	}
	if x.holding {
		x.holdTimer.Stop() // if it fires anyway, it finds nothing held
		if rc == pypy.Handled && !x.upgraded && !x.disconnected {
			x.releaseHeld(nil)
		} else {
			// Nothing reached the client: the failure can still be a clean 500.
			x.holding, x.started = false, false
			c.out = c.out[:x.mark]
		}
	}
	x.mu.Unlock()
	if x.stream != nil && (x.upgraded || x.disconnected) {
		x.stream.finish() // fails at once: the connection is closed or no longer HTTP
		x.stream = nil
	}
	switch {
	case x.upgraded:
		x.close = true
		c.out = c.out[:0]
		return 101
	case x.disconnected:
		x.close = true
		c.out = c.out[:x.mark]
		return 0
	}
	if x.stream != nil {
		if rc != pypy.Handled {
			x.close = true
		}
		if err := x.stream.finish(); err != nil {
			x.close = true
		}
		x.stream = nil
		return x.status
	}
	switch {
	case rc == pypy.Handled && x.started:
	case rc == pypy.Handled:
		x.close = true
		return 0
	case rc == pypy.FailedAfterHeaders && x.started:
		x.close = true
	default:
		if rc == pypy.NoApp {
			c.s.cfg.Log.Printf("no app loaded (dynamic mode): answering 500 to %s %s", x.req.Method, x.req.Target)
		}
		c.out = c.out[:x.mark]
		x.sent = 0
		x.started = false
		const msg = "Internal Server Error\n"
		x.startResponse([]byte("500 Internal Server Error\r\nContent-Type\x00text/plain\r\n"), true, int64(len(msg)))
		c.out = append(c.out, x.frame([]byte(msg))...)
	}
	return x.status
}
