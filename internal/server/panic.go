package server

import (
	"runtime/debug"

	"uwsgo/internal/pypy"
)

// What a Go panic does in the server.
//
// A panic is a bug in uwsgo, never the app's doing (the app's exceptions stay in Python).
// It must neither go unnoticed nor take down more than it touched:
//
//   - In a call from Python (Send, SendFile, RPCReply) it must not unwind through
//     PyPy's frames, which would leave the interpreter in a state nobody can trust. It
//     is recovered there: the stack is logged, the request counts as an exception, Python
//     is told the client is gone (so the app stops and returns normally), and the request
//     ends as a failed one: a 500 when nothing left the server, else a cut connection.
//     The connection closes either way. Only that exchange's state was being changed.
//   - In a connection's goroutine outside Python (reading, static files, writing) it is
//     recovered too: the stack is logged and the connection closed and not reused.
//   - A panic that comes back out of a call into Python (one of the boundary's own, or
//     one in these goroutines while a request held a slot) has crossed PyPy's frames and
//     may hold its lock: it is logged and raised again, so the worker exits and the
//     master starts another. So does a panic anywhere else (the stream writers, the hold
//     timers, the accept loops): Go's default, which prints the stack to the log.

// containPanic, deferred in a call from Python, recovers a panic there. rc, when not nil,
// becomes the Send result that stops the app.
func (x *exchange) containPanic(rc *int) {
	v := recover()
	if v == nil {
		return
	}
	s := x.c.s
	s.cfg.Log.Printf("panic answering %s %s (a bug in uwsgo; the request fails and its connection closes): %v\n%s", x.req.Method, x.req.Target, v, debug.Stack())
	s.stats.Exceptions.Add(1)
	// The deferred unlocks of the frames above have run: the lock is free.
	x.mu.Lock()
	x.panicked, x.close = true, true
	x.mu.Unlock()
	if rc != nil {
		*rc = pypy.SendClientGone
	}
}

// containPanic, deferred in a connection's goroutine before release, recovers a panic
// outside Python, or raises again one that crossed it.
func (c *conn) containPanic() {
	v := recover()
	if v == nil {
		return
	}
	s := c.s
	for i := range s.inPython {
		if s.inPython[i].Load() == &c.x {
			s.cfg.Log.Printf("panic out of a call into Python for %s %s (a bug in uwsgo): the worker cannot be trusted any more and exits", c.x.req.Method, c.x.req.Target)
			panic(v)
		}
	}
	s.cfg.Log.Printf("panic serving %s (a bug in uwsgo; its connection closes): %v\n%s", c.nc.RemoteAddr(), v, debug.Stack())
	s.stats.Exceptions.Add(1)
	c.panicked = true // its exchange may hold its lock: never reused
}
