// Package server is uwsgo's network side: listeners, the HTTP/1.1 connection loop, the
// dispatcher that runs requests in Python, and the response writer.
//
// The rule that shapes it: a slow client never holds Python. A connection's goroutine reads
// the whole request first (head, then body: in memory up to Config.PostBuffering, else in
// an unlinked temporary file), and only then takes one of the Config.Threads slots and
// calls Python on its own goroutine. Python hands the response back through the Sink
// methods, which copy it into the connection's output buffer; the slot is released before a
// single byte is written to the client. A body the app yields piece by piece is first held
// (hold.go): most such bodies (every framework's) end at once and go out like a list. Only
// a body that goes on is streamed while Python runs, through a writer goroutine with a
// bounded queue, so a slow reader costs memory or disk, never the app's thread.
//
// Calling Python on the request's own goroutine, rather than handing requests to a pool of
// dedicated Python threads, is measured: a hand-off costs ~2.7 context switches per request
// and halves throughput (ARCHITECTURE.md, "The hand-off is the hot spot").
//
// The app is reached through Config.App and answers through the Server's Send, SendFile
// and RPCReply (internal/pypy's Sink): the worker plugs PyPy in; the unit tests plug a Go
// app in, so that the response framing is tested without an interpreter.
//
// A Go panic (panic.go) is contained where one request or connection is all it touched:
// in a call from Python, and in a connection's goroutine outside Python. Anywhere else it
// takes the worker down, loudly, and the master starts another.
package server

import (
	"context"
	"errors"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"uwsgo/internal/accesslog"
	"uwsgo/internal/pypy"
	"uwsgo/internal/shm/scoreboard"
	"uwsgo/internal/static"
	"uwsgo/internal/trustedproxy"
)

// Config is what the server needs from the options.
type Config struct {
	Threads       int           // requests in Python at once
	SharesSockets bool          // sibling workers accept on the same sockets (admission.go)
	MaxHeadBytes  int           // request line + headers
	LimitPost     int64         // largest body accepted; 0: no limit
	PostBuffering int64         // bodies above this go to a temporary file
	Budgets       Budgets       // what waiting bodies and responses may take (budget.go)
	SocketTimeout time.Duration // a stalled read or write closes the connection
	KeepAlive     time.Duration // idle time allowed between requests; 0: one request per connection
	AccessLog     bool          // a line per request
	LogAlso       LogFilter     // without AccessLog, the requests still logged
	// MemoryReport, when set, gives the process's resident and virtual memory for the end
	// of each request line (--memory-report).
	MemoryReport func() (rss, vsz int64)
	ReqLog       *log.Logger // where request lines go when not to Log (--req-logger)
	Log          *log.Logger
	Board        *scoreboard.Board // where the counters and running requests are published
	Record       int               // this process's record on Board

	// --log-format (nil: uwsgo's own line) and --log-x-forwarded-for; WorkerID is %(wid).
	HealthPath string            // answered without Python (health.go); "" for none
	Trusted    *trustedproxy.Set // --trusted-proxy; nil: none

	Static *static.Handler // --static-map and its family (static.go); nil: none

	AddHeaders [][2]string // --add-header: on every app response (static files add their own)

	LogFormat        *accesslog.Format
	LogXForwardedFor bool
	WorkerID         int

	App App // where requests run (app.go)
}

// Server serves requests to the app loaded in this process's PyPy.
type Server struct {
	cfg      Config
	slots    chan int
	inPython []atomic.Pointer[exchange] // by slot: the request in Python there, if any
	gens     []atomic.Uint32            // by slot: bumped for every request (see handleOf)

	mu        sync.Mutex
	conns     map[*conn]struct{}
	listeners []net.Listener
	draining  atomic.Bool
	gate      *gate       // admission.go
	kick      *time.Timer // kickAccept, once the gate stays closed for kickDelay
	active    sync.WaitGroup
	accepting sync.WaitGroup // the Serve loops
	closed    bool           // Close was called: no connection is taken any more
	// lastListener: the instance stops, this process may hold the sockets' last copies
	lastListener bool

	bodyMemory, bodyDisk         budget // budget.go
	responseMemory, responseDisk budget

	stats *scoreboard.Worker
	pid   int // for the access log

	holdDelay time.Duration // hold.go
	refusals  refusals      // logging.go

	healthPath []byte      // nil: no health check
	addedHead  []byte      // Config.AddHeaders as header lines, rendered once
	unhealthy  atomic.Bool // the instance is stopping: the health check answers 503
}

// New makes a server. The app's answers must reach its Send, SendFile and RPCReply
// before it serves (in uwsgo, the worker's pypy.Host.Sink forwards them).
func New(cfg Config) *Server {
	s := &Server{
		cfg:      cfg,
		slots:    make(chan int, cfg.Threads),
		inPython: make([]atomic.Pointer[exchange], cfg.Threads),
		gens:     make([]atomic.Uint32, cfg.Threads),
		conns:    make(map[*conn]struct{}),
		stats:    cfg.Board.Worker(cfg.Record),
		pid:      os.Getpid(),

		holdDelay: holdDelay,
	}
	for _, nv := range cfg.AddHeaders {
		s.addedHead = append(s.addedHead, nv[0]+": "+nv[1]+"\r\n"...)
	}
	// Most requests end within kickDelay: only a gate closed longer takes the accept loops
	// out of accept(2), which costs them a wake-up each.
	s.kick = time.AfterFunc(time.Hour, func() {
		if s.gate.isFull() {
			s.kickAccept()
		}
	})
	s.kick.Stop()
	s.gate = newGate(cfg.Threads, func() { s.kick.Reset(kickDelay) })
	// Alone on its sockets, a worker that stopped accepting would leave connections in
	// the kernel's queue with nobody else to take them, static files and health checks
	// included, which need no thread.
	s.gate.open = !cfg.SharesSockets
	s.bodyMemory.limit, s.bodyDisk.limit = cfg.Budgets.BodyMemory, cfg.Budgets.BodyDisk
	s.responseMemory.limit, s.responseDisk.limit = cfg.Budgets.ResponseMemory, cfg.Budgets.ResponseDisk
	if cfg.HealthPath != "" {
		s.healthPath = []byte(cfg.HealthPath)
	}
	for i := 0; i < cfg.Threads; i++ {
		s.slots <- i
	}
	return s
}

// Serve accepts connections on ln, speaking p, until Shutdown or Close.
func (s *Server) Serve(ln net.Listener, p Protocol) error {
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.accepting.Add(1)
	s.mu.Unlock()
	defer s.accepting.Done()
	var backoff time.Duration
	for {
		s.gate.waitRoom()
		s.armAccept(ln)
		if s.gate.isFull() {
			continue // closed after waitRoom, maybe before kickAccept's deadline was cleared
		}
		nc, err := ln.Accept()
		if err != nil {
			if s.draining.Load() || errors.Is(err, net.ErrClosed) {
				s.takeQueued(ln, p) // what came as Shutdown's deadline passed
				ln.Close()
				return nil
			}
			if isTimeout(err) {
				continue // kickAccept: the worker became busy
			}
			// Out of file descriptors and the like: wait and retry rather than die.
			var ne net.Error
			if errors.As(err, &ne) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Log.Printf("accept on %s: %v; retrying in %v", ln.Addr(), err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.start(nc, p)
	}
}

// deadliner is what listeners have to stop an Accept.
type deadliner interface{ SetDeadline(time.Time) error }

// armAccept clears what kickAccept set on ln, unless Shutdown set its own deadline.
func (s *Server) armAccept(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := ln.(deadliner); ok && !s.draining.Load() {
		d.SetDeadline(time.Time{})
	}
}

const kickDelay = 5 * time.Millisecond

// kickAccept takes the accept loops out of accept(2) when the gate is closed.
func (s *Server) kickAccept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return
	}
	for _, ln := range s.listeners {
		if d, ok := ln.(deadliner); ok {
			d.SetDeadline(time.Unix(1, 0))
		}
	}
}

func (s *Server) start(nc net.Conn, p Protocol) {
	c := newConn(s, nc)
	if !s.track(c) {
		nc.Close()
		return
	}
	s.gate.accepted() // until its first bytes come (awaitRequest)
	if p == Uwsgi {
		go c.serveUwsgi()
	} else {
		go c.serve()
	}
}

// takeQueued accepts, without waiting, the connections still queued on ln: the last
// moment before it is closed.
func (s *Server) takeQueued(ln net.Listener, p Protocol) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	for {
		nfd := -1
		// The descriptor is non-blocking (Go's): accept4 answers EAGAIN when none is left.
		rc.Control(func(fd uintptr) { nfd, _, _ = syscall.Accept4(int(fd), syscall.SOCK_CLOEXEC) })
		if nfd < 0 {
			return
		}
		f := os.NewFile(uintptr(nfd), "accepted")
		nc, err := net.FileConn(f)
		f.Close()
		if err == nil {
			s.start(nc, p)
		}
	}
}

// track registers a connection. One accepted while Shutdown closes the listeners is
// served all the same: its client's handshake completed and its request is on its way,
// so closing it unanswered would be a failed request (Shutdown waits for the accept
// loops before it waits for the connections). Only Close refuses it.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.active.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.active.Done()
}

// Shutdown stops accepting, lets every request already received finish and be answered,
// closes idle connections, and returns when all are done or ctx ends (then it cuts them).
//
// When the instance stops (StopsInstance), the listeners are not closed at once: the
// kernel completes connections before they are accepted, and closing the last copy of a
// listening socket resets those in its queue, whose clients have sent their requests. So
// the accept loops go on for acceptDrain, which takes them, and close the listeners when
// it ends. Otherwise (a reload) other processes go on accepting from the same queue.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	for _, ln := range s.listeners {
		if d, ok := ln.(deadliner); ok && s.lastListener && d.SetDeadline(time.Now().Add(acceptDrain)) == nil {
			continue
		}
		ln.Close()
	}
	s.mu.Unlock()
	s.gate.release()
	// Once no loop accepts, the set of connections only shrinks.
	s.accepting.Wait()
	s.mu.Lock()
	for c := range s.conns {
		c.wakeIfIdle()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// acceptDrain is how long a stopping server goes on taking the connections already queued
// on its listeners.
const acceptDrain = 100 * time.Millisecond

// StopsInstance says that the Shutdown to come stops the whole instance (on a reload the
// sockets go on, with the new workers), so this process may hold the last copies of the
// listening sockets. It sets their backlog to its minimum, so that the kernel completes at
// most one more connection, which Shutdown takes. A new client's SYN is dropped instead;
// it retries a second later, when the socket is closed, and is refused. Without it, the
// connections the kernel completed in the meantime would be reset, their requests lost.
func (s *Server) StopsInstance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastListener = true
	for _, ln := range s.listeners {
		if sc, ok := ln.(syscall.Conn); ok {
			if rc, err := sc.SyscallConn(); err == nil {
				rc.Control(func(fd uintptr) { syscall.Listen(int(fd), 0) })
			}
		}
	}
}

// Close cuts every connection at once.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining.Store(true)
	s.closed = true
	s.gate.release()
	for _, ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
}

// A request handle is what Python knows a request by: its slot and the slot's generation.
// A handle kept beyond its request (a write() callable an app thread calls later, a
// signal handler running on a thread where a request ran) then reaches nothing, never
// the slot's next request.
const slotBits = 16

// enter puts x in a free slot and returns the slot and x's handle.
func (s *Server) enter(x *exchange) (slot, handle int) {
	slot = <-s.slots
	gen := s.gens[slot].Add(1)
	s.inPython[slot].Store(x)
	return slot, slot | int(gen)<<slotBits
}

func (s *Server) leave(slot int) {
	s.inPython[slot].Store(nil)
	s.slots <- slot
}

// exchangeOf is the request a handle names, if it is still running.
func (s *Server) exchangeOf(handle int) (*exchange, error) {
	slot := handle & (1<<slotBits - 1)
	if slot < len(s.inPython) && uint32(handle>>slotBits) == s.gens[slot].Load() {
		if x := s.inPython[slot].Load(); x != nil {
			return x, nil
		}
	}
	return nil, errors.New("not called from a running request")
}

// Slot is the slot of a running request's handle.
func (s *Server) Slot(handle int) (int, error) {
	if _, err := s.exchangeOf(handle); err != nil {
		return 0, err
	}
	return handle & (1<<slotBits - 1), nil
}

// run calls the app for x holding one slot: at most Threads requests are in Python. The
// slot's core on the scoreboard shows the request while it runs (harakiri reads it).
func (s *Server) run(x *exchange) int {
	s.gate.requestIn()
	defer s.gate.requestDone()
	slot, handle := s.enter(x)
	core := s.cfg.Board.Core(s.cfg.Record, slot)
	core.Begin(x.req.Method, x.req.Target)
	rc := s.cfg.App.Handle(handle, x.vars, x.body, x.bodyFD())
	micros := core.End()
	s.leave(slot)
	s.stats.Requests.Add(1)
	s.stats.RunMicros.Add(uint64(micros))
	if rc == pypy.FailedBeforeHeaders || rc == pypy.FailedAfterHeaders {
		s.stats.Exceptions.Add(1)
	}
	return rc
}

// Send implements pypy.Sink.
func (s *Server) Send(handle int, head, body []byte, final bool) (rc int) {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return pypy.SendClientGone
	}
	defer x.containPanic(&rc)
	return x.send(head, body, final)
}

// SendFile implements pypy.Sink.
func (s *Server) SendFile(handle int, head []byte, fd int, offset, length int64) (rc int) {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return pypy.SendClientGone
	}
	defer x.containPanic(&rc)
	return x.sendFile(head, fd, offset, length)
}

// InPython runs f holding a slot, as every call into Python must.
func (s *Server) InPython(f func()) {
	slot := <-s.slots
	defer func() { s.slots <- slot }()
	f()
}
