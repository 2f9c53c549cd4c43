package server

import "time"

// Holding the start of a body.
//
// Every framework returns an iterable, not a list (werkzeug's ClosingIterator, Django's
// HttpResponse), and almost always of one piece. Streaming such a body as it comes (a
// writer goroutine, chunked framing, a write per piece) cost ~60 µs of CPU per request
// where the whole response costs ~15 (bench/results/). So the first piece is held: if the
// body ends soon after, the response goes out as a list's does, in one write with a
// Content-Length. A body that grows past holdMax, or whose next piece is slow to come
// (server-sent events, a long poll), is streamed from then on, so each piece still reaches
// the client within holdDelay of being produced.
const (
	holdDelay = time.Millisecond // Server.holdDelay, which tests may change
	holdMax   = 64 << 10
)

// hold keeps the first piece of a body whose head was accepted. The lock covers the
// timer's creation too: a short timer can fire before AfterFunc has returned.
func (x *exchange) hold(body []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.holding = true
	x.held = append(x.held[:0], body...)
	if x.holdTimer == nil {
		x.holdTimer = time.AfterFunc(x.c.s.holdDelay, x.holdExpired)
	} else {
		x.holdTimer.Reset(x.c.s.holdDelay)
	}
}

// holdExpired runs on the timer's goroutine while Python is still producing the body.
// A timer that fires after its request ended (the Stop in finish came too late) finds
// nothing held, or holds of a later request, which are only streamed early.
func (x *exchange) holdExpired() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.holding && !x.upgraded && !x.disconnected && !x.panicked {
		x.startStream(x.held)
		x.trimHeld()
	}
}

// releaseHeld ends a held body with its last piece: the response is whole, and goes out
// with a Content-Length. It answers like send: a response too large for the memory
// budget goes through a stream, which may find the client gone. Called with x.mu held.
func (x *exchange) releaseHeld(last []byte) int {
	x.holding = false
	x.holdTimer.Stop()
	x.frameHead(true, int64(len(x.held)+len(last)))
	rc := x.whole(x.held, last)
	x.trimHeld()
	return rc
}

// startStream gives the head the streamed framing and starts a writer goroutine with the
// body's first bytes. Called with x.mu held.
func (x *exchange) startStream(first []byte) {
	if x.holding {
		x.holding = false
		x.holdTimer.Stop()
	}
	x.frameHead(false, 0)
	x.stream = newStream(x.c)
	x.push(first)
}

func (x *exchange) trimHeld() {
	x.held = x.held[:0]
	if cap(x.held) > holdMax {
		x.held = nil
	}
}
