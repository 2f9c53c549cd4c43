package server

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"uwsgo/internal/proto"
	"uwsgo/internal/pypy"
	"uwsgo/internal/shm/scoreboard"
)

// ASGI apps: one asyncio event loop per worker, driven from Go.
//
// The loop is Python's (asgi.py) but never waits by itself. Whoever has something for it
// takes asgiLoop.mu and calls into Python on its own goroutine: the connection whose
// request arrived, the reader that got more of a request body or saw the client leave,
// the timer set for the loop's next due callback, the watcher of the loop's selector.
// Each call runs everything ready, then returns. So the common request (a handler that
// answers without waiting on anything) starts, answers and ends within one call on its
// connection's goroutine, as a WSGI request does: no goroutine or thread hands it to
// another. A request that waits (asyncio.sleep, a body still coming, another task) is
// finished by a later call from whichever goroutine drives the loop then; its
// connection's goroutine sleeps on a channel meanwhile and writes the response.
//
// The obvious alternative, a Python thread of its own that runs loop.run_forever() with
// requests handed over through a queue, would cost two wake-ups per request (one each
// way) even when the handler never waits: the hand-off that the WSGI path was built to
// avoid (ARCHITECTURE.md, rule 2).
//
// Python's own threads (the loop's executor, asyncio.to_thread) wake the loop through its
// self-pipe, which is registered with its selector, so the watcher sees them too.

// asgiBit marks an ASGI request's handle, which Python hands back in Send and SendFile.
// WSGI handles (slot and generation, server.go) stay below it.
const asgiBit = 1 << 62

// asgiWholeBody is the largest Content-Length read whole before the app starts; bodies
// above it, and chunked ones, reach the app piece by piece as they arrive.
const asgiWholeBody = 64 << 10

// asgiPiece is the most body handed to the app in one message.
const asgiPiece = 64 << 10

// A response (or WebSocket) whose backlog for its client passes asgiHighWater makes the
// app's send() wait until it is down to asgiLowWater: a slow reader holds its own
// handler, never the loop, and costs the worker this much at most.
const (
	asgiHighWater = 1 << 20
	asgiLowWater  = 256 << 10
)

type asgiLoop struct {
	s    *Server
	core *scoreboard.Core // shows a call in progress: --harakiri bounds a blocked loop

	mu    sync.Mutex // held by the goroutine driving the loop
	timer *time.Timer
	armed bool // the timer is set to fire at due
	due   time.Time

	tab  sync.Mutex // guards the handle table
	reqs []*asgiReq
	gens []uint32
	free []int
}

// asgiReq is where a request stands between its connection's goroutine and the loop.
type asgiReq struct {
	x      *exchange
	handle int
	wake   chan struct{} // cap 1: complete, finished or upgraded changed
	want   chan struct{} // cap 1: the app took the queued body (ASGIEventWant), or stop

	complete atomic.Bool // the response's last byte is with Go: it may be written
	finished atomic.Bool // the app's task ended; rc is its outcome
	rc       atomic.Int32
	stopping atomic.Bool // the reader must stop: the request is over
	bodyDone atomic.Bool // the whole body was read
	tooLarge atomic.Bool // the body went past --limit-post
	bodyErr  error       // why reading the body failed: set by the reader before it ends

	ws atomic.Pointer[wsSession] // an accepted WebSocket (asgi_ws.go)
}

func newASGILoop(s *Server) *asgiLoop {
	l := &asgiLoop{s: s, core: s.cfg.Board.Core(s.cfg.Record, 0)}
	// What a harakiri names: the loop, whichever task blocked it.
	l.core.Begin([]byte("ASGI"), []byte("event loop"))
	l.core.Started.Store(0)
	l.timer = time.AfterFunc(time.Hour, l.fire)
	l.timer.Stop()
	if fd := s.cfg.App.LoopFD; fd > 0 {
		go l.watch(fd)
	}
	return l
}

// drive runs one op in the loop and everything it makes ready.
func (l *asgiLoop) drive(op pypy.ASGIOp, handle int, a, b []byte, flags int) int {
	l.mu.Lock()
	l.core.Started.Store(scoreboard.Now())
	rc, next := l.s.cfg.App.ASGI(op, handle, a, b, flags)
	l.core.Started.Store(0)
	if next >= 0 {
		l.schedule(next)
	}
	l.mu.Unlock()
	return rc
}

// schedule makes sure the timer fires by next from now. Called with mu held. A timer
// left armed for a later time than needed only costs a call that finds nothing due.
func (l *asgiLoop) schedule(next time.Duration) {
	at := time.Now().Add(next)
	if l.armed && !at.Before(l.due) {
		return
	}
	l.armed, l.due = true, at
	l.timer.Reset(next)
}

// fire runs the loop when its timer fires.
func (l *asgiLoop) fire() {
	l.mu.Lock()
	l.armed = false
	l.mu.Unlock()
	l.drive(pypy.ASGIRun, 0, nil, nil, 0)
}

// watch runs the loop whenever its selector (an epoll descriptor) has something ready:
// a socket the app reads with asyncio, or the self-pipe another thread writes to with
// call_soon_threadsafe. It waits in an epoll of its own, level-triggered, so nothing is
// missed however the loop's own polls fall.
func (l *asgiLoop) watch(fd int) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err == nil {
		err = syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)})
	}
	if err != nil {
		l.s.cfg.Log.Printf("ASGI: cannot watch the event loop's selector (%v): asyncio's own I/O and threads will not wake it", err)
		return
	}
	events := make([]syscall.EpollEvent, 1)
	for {
		n, err := syscall.EpollWait(ep, events, -1)
		if err == syscall.EINTR || n == 0 {
			continue
		}
		if err != nil {
			l.s.cfg.Log.Printf("ASGI: watching the event loop's selector: %v", err)
			return
		}
		l.drive(pypy.ASGIRun, 0, nil, nil, pypy.ASGIPoll)
	}
}

func (l *asgiLoop) register(r *asgiReq) int {
	l.tab.Lock()
	defer l.tab.Unlock()
	var i int
	if n := len(l.free); n > 0 {
		i, l.free = l.free[n-1], l.free[:n-1]
	} else {
		i = len(l.reqs)
		l.reqs, l.gens = append(l.reqs, nil), append(l.gens, 0)
	}
	l.gens[i] = (l.gens[i] + 1) & (1<<30 - 1)
	l.reqs[i] = r
	r.handle = asgiBit | int(l.gens[i])<<32 | i
	return r.handle
}

func (l *asgiLoop) unregister(handle int) {
	l.tab.Lock()
	defer l.tab.Unlock()
	i := handle & (1<<32 - 1)
	l.reqs[i] = nil
	l.free = append(l.free, i)
}

// lookup is the request a handle names, if it is still running (none without an ASGI
// app: l is nil then).
func (l *asgiLoop) lookup(handle int) *asgiReq {
	if l == nil || handle&asgiBit == 0 {
		return nil
	}
	i, gen := handle&(1<<32-1), uint32(handle>>32)&(1<<30-1)
	l.tab.Lock()
	defer l.tab.Unlock()
	if i < len(l.reqs) && l.gens[i] == gen {
		return l.reqs[i]
	}
	return nil
}

// ASGIEvent implements pypy.ASGISink: the loop's news about a request. Like Send, it
// runs in a call from Python: a panic is contained here (panic.go).
func (s *Server) ASGIEvent(what, handle int, arg int64, data []byte) (rc int64) {
	r := s.asgi.lookup(handle)
	if r == nil {
		return -1
	}
	failed := 0
	defer func() {
		if failed != 0 {
			rc = -1
		}
	}()
	defer r.x.containPanic(&failed)
	switch what {
	case pypy.ASGIEventDone:
		r.rc.Store(int32(arg))
		r.finished.Store(true)
		signal(r.wake)
	case pypy.ASGIEventWant:
		signal(r.want)
	case pypy.ASGIEventWSAccept:
		return r.accept(data)
	case pypy.ASGIEventWSSend:
		return r.wsSend(data, arg == 1)
	case pypy.ASGIEventWSClose:
		return r.wsClose(int(arg), data)
	default:
		return -1
	}
	return 0
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// backPressure answers a send of more body: pypy.ASGISendWait when the response's
// backlog is too large, then the app waits for ASGIDrained before it sends more.
func (l *asgiLoop) backPressure(x *exchange, handle int) int {
	x.mu.Lock() // the hold timer may start the stream
	st := x.stream
	x.mu.Unlock()
	if st != nil && st.whenDrained(asgiHighWater, asgiLowWater, func() { l.drive(pypy.ASGIDrained, handle, nil, nil, 0) }) {
		return pypy.ASGISendWait
	}
	return pypy.SendOK
}

// sent is told that Python handed over the last of a response (Send or SendFile).
func (l *asgiLoop) sent(handle int) {
	if r := l.lookup(handle); r != nil {
		r.complete.Store(true)
		signal(r.wake)
	}
}

// WithLoop runs f holding the ASGI app's loop (f alone drives it), or just runs f
// without an ASGI app.
func (s *Server) WithLoop(f func()) {
	if s.asgi == nil {
		f()
		return
	}
	s.asgi.mu.Lock()
	defer s.asgi.mu.Unlock()
	f()
}

func (r *asgiReq) reset(x *exchange) {
	if r.wake == nil {
		r.wake, r.want = make(chan struct{}, 1), make(chan struct{}, 1)
	}
	r.x = x
	r.complete.Store(false)
	r.finished.Store(false)
	r.stopping.Store(false)
	r.bodyDone.Store(false)
	r.tooLarge.Store(false)
	r.ws.Store(nil)
	r.bodyErr = nil
	select {
	case <-r.wake:
	default:
	}
	select {
	case <-r.want:
	default:
	}
}

// serveASGI reads, runs and answers one request of an ASGI app; false means close the
// connection. Unlike a WSGI request's, the body is read as the app runs, except a small
// one with a Content-Length, which comes whole with the request.
func (c *conn) serveASGI(x *exchange, start time.Time) bool {
	req := &x.req
	x.bodyLen = -1
	ws := isWebSocketUpgrade(req)
	whole := true
	if !ws && (req.Chunked || req.ContentLength > 0) {
		if limit := c.s.cfg.LimitPost; limit > 0 && req.ContentLength > limit {
			c.refuse(errTooLarge)
			return false
		}
		if req.ExpectContinue {
			c.out = append(c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
			if !c.flush() {
				return false
			}
		}
		whole = !req.Chunked && req.ContentLength <= asgiWholeBody && c.s.bodyMemory.take(req.ContentLength)
		if whole {
			x.bodyMemory = req.ContentLength
			if err := c.readWhole(x, int(req.ContentLength)); err != nil {
				x.releaseBody()
				c.refuse(truncated(err))
				return false
			}
		}
	}
	defer x.releaseBody()
	if c.s.healthPath != nil && c.isHealthCheck(x) {
		return c.answerHealth(x)
	}
	ci := c.ci
	if c.proxied {
		ci = c.s.cfg.Trusted.Forwarded(req, c.ci)
	}
	x.vars = appendScope(x.vars[:0], req, &ci, ws)
	x.begin(!req.Close && c.s.cfg.KeepAlive > 0 && !c.s.draining.Load())
	if whole && !ws && c.s.cfg.Static != nil {
		if served, ok := c.serveStatic(x, start); served {
			return ok
		}
	}
	var rc int
	switch {
	case ws:
		rc = c.runASGI(pypy.ASGIWebSocket, joinedHeader(req, "sec-websocket-protocol"), 0, false, true)
	case whole:
		rc = c.runASGI(pypy.ASGIHTTP, x.body, 0, false, false)
	default:
		rc = c.runASGI(pypy.ASGIHTTP, nil, pypy.ASGIMore, true, false)
	}
	r := &c.asgi
	if r.bodyErr != nil && !x.started {
		// The body was malformed or cut short before the app answered: the client gets
		// what a WSGI request's would (400, 413), not the app's failure.
		c.refuse(r.bodyErr)
		return false
	}
	if (!whole && !r.bodyDone.Load()) || r.tooLarge.Load() {
		x.close = true // the rest of the body is still on the connection
	}
	if sess := r.ws.Load(); sess != nil {
		sess.end()
	} else if ws {
		x.close = true // the client asked for a WebSocket and got an HTTP answer
	}
	return c.endASGI(rc, start, func() {
		// The log reads the CGI variables; the scope block has gone to Python already.
		x.vars = req.AppendVars(x.vars[:0], &ci, x.bodyLen)
	})
}

// runASGI starts the request in x on the loop (x.vars holds its scope block, b what op
// takes beside it) and returns its outcome once its task ended.
func (c *conn) runASGI(op pypy.ASGIOp, b []byte, flags int, bodyLeft, ws bool) int {
	l, r := c.s.asgi, &c.asgi
	r.reset(&c.x)
	handle := l.register(r)
	rc := l.drive(op, handle, c.x.vars, b, flags)
	if rc == pypy.ASGIPending {
		rc = c.awaitASGI(r, bodyLeft, ws)
	}
	l.unregister(handle)
	if rc == pypy.ASGIFailed {
		rc = pypy.FailedBeforeHeaders
	}
	return rc
}

// endASGI settles, counts and logs a request whose task ended with rc; logVars puts the
// CGI variables the log reads in x.vars. It says whether the connection may go on.
func (c *conn) endASGI(rc int, start time.Time, logVars func()) bool {
	x := &c.x
	status := x.finish(rc)
	c.s.asgi.core.Requests.Add(1)
	c.s.stats.Requests.Add(1)
	c.s.stats.RunMicros.Add(uint64(time.Since(start).Microseconds()))
	if rc == pypy.FailedBeforeHeaders || rc == pypy.FailedAfterHeaders {
		c.s.stats.Exceptions.Add(1)
	}
	c.s.stats.TxBytes.Add(uint64(x.sent))
	if c.logs(x, status, start) {
		if logVars != nil {
			logVars()
		}
		c.logRequest(x, status, start)
	}
	if x.file != nil && !c.sendFile(x) {
		return false
	}
	return !x.close
}

// uwsgiASGI runs a request that came on the uwsgi protocol (its vars block in x.vars, its
// body read whole) in the ASGI app: the scope is made from the CGI variables.
func (c *conn) uwsgiASGI(x *exchange, start time.Time) {
	body := x.body
	if x.bodyFile != nil {
		b, err := io.ReadAll(x.bodyFile)
		if err != nil {
			c.s.logRefusal("%s: uwsgi request body: %v", c.nc.RemoteAddr(), err)
			return
		}
		body = b
	}
	x.begin(false)
	c.endASGI(c.runASGI(pypy.ASGIHTTP, body, pypy.ASGIVars, false, false), start, nil)
}

// readWhole reads a body of n bytes into x.body.
func (c *conn) readWhole(x *exchange, n int) error {
	if cap(x.bodyBuf) < n {
		x.bodyBuf = make([]byte, n)
	}
	x.bodyBuf = x.bodyBuf[:n]
	c.rd.perRead = true
	_, err := io.ReadFull(c.br, x.bodyBuf)
	c.rd.perRead = false
	x.body, x.bodyLen = x.bodyBuf, int64(n)
	return err
}

// awaitASGI waits for the app's task to end, writing the response as soon as it is
// complete. Meanwhile a reader goroutine hands the app the rest of the body (bodyLeft),
// then watches for the client leaving; for a WebSocket, it reads the client's messages
// once the app has accepted.
func (c *conn) awaitASGI(r *asgiReq, bodyLeft, ws bool) int {
	x := r.x
	done := make(chan struct{})
	reading := false
	if !ws {
		go c.readForASGI(r, bodyLeft, done)
		reading = true
	}
	flushed := false
	for !r.finished.Load() {
		<-r.wake
		if ws && !reading && r.ws.Load() != nil {
			go c.readWebSocket(r, done)
			reading = true
		}
		if r.complete.Load() && !flushed && x.stream == nil && x.file == nil {
			flushed = true
			if !c.flush() {
				x.close = true
			}
		}
	}
	if reading {
		r.stopping.Store(true)
		c.nc.SetReadDeadline(aLongTimeAgo)
		signal(r.want)
		<-done
	}
	return int(r.rc.Load())
}

var aLongTimeAgo = time.Unix(1, 0)

// readForASGI hands the app the body that did not come with the request, piece by piece,
// pausing while the app has not taken what it has; then it waits for the client's next
// bytes, and tells the app if the client went away instead.
func (c *conn) readForASGI(r *asgiReq, bodyLeft bool, done chan struct{}) {
	defer close(done)
	l := c.s.asgi
	if bodyLeft && !c.streamBody(r) {
		return
	}
	// The deadline goes before the check: awaitASGI sets stopping before its own deadline,
	// so whichever comes last, this read ends.
	c.nc.SetReadDeadline(time.Time{})
	if r.stopping.Load() {
		return
	}
	if _, err := c.br.Peek(1); err != nil && !r.stopping.Load() {
		l.drive(pypy.ASGIDisconnect, r.handle, nil, nil, 0)
	}
}

// streamBody reads the rest of the body into the app; false: the client went away or
// the request is over.
func (c *conn) streamBody(r *asgiReq) bool {
	l := c.s.asgi
	src := c.bodyReader(&r.x.req)
	limit := c.s.cfg.LimitPost
	buf := make([]byte, asgiPiece)
	var total int64
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.SocketTimeout)) // then check stopping: see readForASGI
		if r.stopping.Load() {
			return false
		}
		n, err := src.Read(buf)
		total += int64(n)
		if limit > 0 && total > limit {
			r.tooLarge.Store(true)
			err = errTooLarge
		}
		if err != nil && err != io.EOF {
			if !r.stopping.Load() {
				r.bodyErr = truncated(err)
				l.drive(pypy.ASGIDisconnect, r.handle, nil, nil, 0)
			}
			return false
		}
		more := err == nil
		flags := 0
		if more {
			flags = pypy.ASGIMore
		}
		if n == 0 && more {
			continue
		}
		if l.drive(pypy.ASGIBody, r.handle, buf[:n], nil, flags) == 1 {
			<-r.want
		}
		if !more {
			r.bodyDone.Store(true)
			return true
		}
		if r.stopping.Load() {
			return false
		}
	}
}

// isWebSocketUpgrade says whether req asks for a WebSocket (RFC 6455 §4.2.1).
func isWebSocketUpgrade(req *proto.Request) bool {
	if string(req.Method) != "GET" || req.ProtoMinor < 1 {
		return false
	}
	upgrade, key := false, false
	for _, h := range req.Headers {
		switch {
		case bytes.EqualFold(h.Name, []byte("upgrade")):
			upgrade = upgrade || bytes.EqualFold(bytes.TrimSpace(h.Value), []byte("websocket"))
		case bytes.EqualFold(h.Name, []byte("sec-websocket-key")):
			key = len(h.Value) > 0
		}
	}
	return upgrade && key
}

// joinedHeader is every value of the header name, joined with ", ".
func joinedHeader(req *proto.Request, name string) []byte {
	var b []byte
	for _, h := range req.Headers {
		if bytes.EqualFold(h.Name, []byte(name)) {
			if b != nil {
				b = append(b, ", "...)
			}
			b = append(b, h.Value...)
		}
	}
	return b
}

// appendScope encodes what the scope needs, for asgi.py's _scope: u16-LE length-prefixed
// strings, in this order: method, HTTP version, scheme, raw path, query string, root
// path, client host and port, server host and port, then name and value of every header
// as received, names lower-cased.
func appendScope(b []byte, req *proto.Request, ci *proto.ConnInfo, ws bool) []byte {
	version := "1.1"
	if req.ProtoMinor == 0 {
		version = "1.0"
	}
	scheme := ci.Scheme
	if scheme == "" {
		scheme = "http"
	}
	if ws {
		scheme = map[string]string{"http": "ws", "https": "wss"}[scheme]
	}
	b = appendItem(b, req.Method)
	b = appendItem(b, version)
	b = appendItem(b, scheme)
	b = appendItem(b, req.Path)
	b = appendItem(b, req.Query)
	b = appendItem(b, "")
	b = appendItem(b, ci.RemoteAddr)
	b = appendItem(b, ci.RemotePort)
	b = appendItem(b, ci.ServerName)
	b = appendItem(b, ci.ServerPort)
	for _, h := range req.Headers {
		at := len(b)
		b = appendItem(b, h.Name)
		for i := at + 2; i < len(b); i++ {
			if c := b[i]; 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		b = appendItem(b, h.Value)
	}
	return b
}

// appendItem appends one length-prefixed string; the request head's limit keeps every
// one under 64 KiB.
func appendItem[V string | []byte](b []byte, v V) []byte {
	n := min(len(v), 0xFFFF)
	b = append(b, byte(n), byte(n>>8))
	return append(b, v[:n]...)
}
