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
type gate struct {
	mu      sync.Mutex
	cond    sync.Cond
	limit   int
	ready   int
	pending int
	open    bool // the server stops: nobody waits any more
}

const firstBytesWait = 10 * time.Millisecond

func newGate(limit int) *gate {
	g := &gate{limit: limit}
	g.cond.L = &g.mu
	return g
}

// waitRoom blocks an accept loop until the worker has room for a connection, or it stops.
func (g *gate) waitRoom() {
	g.mu.Lock()
	for !g.open && (g.ready >= g.limit || g.pending >= g.limit) {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func (g *gate) add(ready, pending int) {
	g.mu.Lock()
	g.ready += ready
	g.pending += pending
	g.mu.Unlock()
	if ready < 0 || pending < 0 {
		g.cond.Broadcast()
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
