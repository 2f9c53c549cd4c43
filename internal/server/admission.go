package server

import (
	"sync"
	"time"
)

// Admission: a worker takes a connection only while it can serve it soon.
//
// Workers share their listening sockets, so a connection left unaccepted goes to another
// worker, and a connection accepted by a worker whose threads are all busy waits for them
// however idle the others are (uWSGI's sync workers accept only when free). So the accept
// loops wait while Threads requests are ready (read whole, waiting for a thread or in
// Python), or while Threads accepted connections have not sent their first bytes yet.
//
// That last count is what keeps the slow-client protection: a connection holds a place
// only until its first bytes come or firstBytesWait passes, never while its request
// trickles in. Silent connections slow accepting down (Threads of them per firstBytesWait)
// but never stop it.
//
// An accept loop that passed the gate may then wait in accept(2) while the worker becomes
// busy; onFull, called whenever the gate closes, has it taken out of there (Server.kick).
type gate struct {
	mu      sync.Mutex
	cond    sync.Cond
	limit   int
	ready   int
	pending int
	open    bool // the server stops: nobody waits any more
	onFull  func()
}

const firstBytesWait = 10 * time.Millisecond

func newGate(limit int, onFull func()) *gate {
	g := &gate{limit: limit, onFull: onFull}
	g.cond.L = &g.mu
	return g
}

func (g *gate) full() bool { return !g.open && (g.ready >= g.limit || g.pending >= g.limit) }

// waitRoom blocks an accept loop until the worker has room for a connection, or it stops.
func (g *gate) waitRoom() {
	g.mu.Lock()
	for g.full() {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

// isFull says whether an accept loop that passed waitRoom should wait again.
func (g *gate) isFull() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.full()
}

func (g *gate) add(ready, pending int) {
	g.mu.Lock()
	was := g.full()
	g.ready += ready
	g.pending += pending
	closed := !was && g.full()
	g.mu.Unlock()
	if ready < 0 || pending < 0 {
		g.cond.Broadcast()
	}
	if closed {
		g.onFull()
	}
}

func (g *gate) accepted()    { g.add(0, 1) }
func (g *gate) firstBytes()  { g.add(0, -1) }
func (g *gate) requestIn()   { g.add(1, 0) }
func (g *gate) requestDone() { g.add(-1, 0) }

// release lets every accept loop go, for good: the server stops accepting.
func (g *gate) release() {
	g.mu.Lock()
	g.open = true
	g.mu.Unlock()
	g.cond.Broadcast()
}
