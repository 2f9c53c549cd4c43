package server

import (
	"net"
	"os"
	"sync"
	"time"
)

// streamBudget is how many bytes of a streamed response wait in memory for a slow client;
// beyond it, or past the worker's --response-memory-budget, they wait in an unlinked
// temporary file, like a large request body. The app does not wait for the client: a slow
// reader costs disk, not a Python thread, until the worker's --response-disk-budget is
// spent. Then the app waits until clients have read enough to make room.
const streamBudget = 4 << 20

// stream writes a response while the app is still producing it. Python's thread only
// queues bytes; this goroutine does the socket writes.
type stream struct {
	nc        net.Conn
	timeout   time.Duration
	mem, disk *budget // the worker's, for responses

	mu      sync.Mutex
	cond    sync.Cond
	queue   [][]byte // in memory, before anything was spilled
	pending int
	spill   *os.File // while it has bytes not sent, everything after goes here too, in order
	written int64    // bytes in spill, taken from disk
	read    int64    // bytes of spill sent
	closed  bool
	err     error
	done    chan struct{}

	// onDrain runs once the backlog is down to drainLow, or the stream failed or ended:
	// an ASGI app waits for it before it sends more (whenDrained). It runs on a goroutine
	// of its own: it takes the app's loop, whose holder may be waiting in push for room
	// that only this writer makes.
	onDrain  func()
	drainLow int64
}

// newStream starts writing c's pending output (this response's head included) and takes
// over c's output until finish.
func newStream(c *conn) *stream {
	st := &stream{nc: c.nc, timeout: c.s.cfg.SocketTimeout, mem: &c.s.responseMemory, disk: &c.s.responseDisk, done: make(chan struct{})}
	st.cond.L = &st.mu
	if len(c.out) > 0 {
		st.push(c.out)
		c.out = nil
	}
	go st.run()
	return st
}

// push queues the parts: in memory, else in the spill file, else, with both budgets spent,
// once there is room again.
func (st *stream) push(parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n == 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.err == nil {
		if st.read == st.written && st.pending+n <= streamBudget && st.mem.take(int64(n)) {
			st.toMemory(parts, n)
			return
		}
		if st.disk.take(int64(n)) {
			st.toSpill(parts, n)
			return
		}
		if st.disk.limit > 0 && int64(n) > st.disk.limit && st.pending == 0 && st.read == st.written {
			// A piece larger than the whole budget would never fit: it goes out alone.
			st.mem.used.Add(int64(n))
			st.toMemory(parts, n)
			return
		}
		// Room comes as clients read, this one's or others': a rare state, polled.
		st.mu.Unlock()
		time.Sleep(budgetPoll)
		st.mu.Lock()
	}
}

const budgetPoll = 5 * time.Millisecond

func (st *stream) toMemory(parts [][]byte, n int) {
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	st.queue = append(st.queue, b)
	st.pending += n
	st.cond.Broadcast()
}

// toSpill appends the parts, taken from the disk budget, to the spill file.
func (st *stream) toSpill(parts [][]byte, n int) {
	if st.spill == nil {
		f, err := os.CreateTemp("", "uwsgo-response-")
		if err != nil {
			st.disk.give(int64(n))
			st.err = err
			return
		}
		os.Remove(f.Name())
		st.spill = f
	}
	off := st.written
	for _, p := range parts {
		if _, err := st.spill.WriteAt(p, off); err != nil {
			st.disk.give(int64(n))
			st.err = err
			return
		}
		off += int64(len(p))
	}
	st.written = off
	st.cond.Broadcast()
}

func (st *stream) failed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err != nil
}

// whenDrained arranges for f to run once the stream's backlog, in memory and on disk,
// is down to low, if it is above high now; false (and f is dropped) when it is not.
func (st *stream) whenDrained(high, low int64, f func()) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil || st.backlog() <= high {
		return false
	}
	st.onDrain, st.drainLow = f, low
	return true
}

func (st *stream) backlog() int64 { return int64(st.pending) + st.written - st.read }

// drained takes onDrain when it is due (called with mu held; end: the writer stops).
func (st *stream) drained(end bool) func() {
	f := st.onDrain
	if f == nil || !end && st.err == nil && st.backlog() > st.drainLow {
		return nil
	}
	st.onDrain = nil
	return f
}

func (st *stream) run() {
	defer close(st.done)
	defer func() {
		st.mu.Lock()
		f := st.drained(true)
		st.mu.Unlock()
		if f != nil {
			go f()
		}
	}()
	var batch [][]byte
	buf := make([]byte, writeChunk)
	for {
		st.mu.Lock()
		for len(st.queue) == 0 && st.read == st.written && !st.closed && st.err == nil {
			st.cond.Wait()
		}
		var err error
		switch {
		case st.err != nil:
			st.mu.Unlock()
			return
		case len(st.queue) > 0:
			batch = append(batch[:0], st.queue...)
			n := st.pending
			st.queue = st.queue[:0]
			st.mu.Unlock()
			for _, b := range batch {
				if err = writeAll(st.nc, b, st.timeout); err != nil {
					break
				}
			}
			st.mu.Lock()
			st.pending -= n
			st.mem.give(int64(n))
		case st.read < st.written:
			f, from, to := st.spill, st.read, st.written
			st.mu.Unlock()
			var m int
			m, err = f.ReadAt(buf[:min(int64(len(buf)), to-from)], from)
			if err == nil {
				err = writeAll(st.nc, buf[:m], st.timeout)
			}
			st.mu.Lock()
			st.read += int64(m)
			if st.read == st.written && err == nil {
				// All sent: the file starts over, and its disk is the budget's again.
				err = st.spill.Truncate(0)
				st.disk.give(st.written)
				st.read, st.written = 0, 0
			}
		default: // closed and everything written
			st.mu.Unlock()
			return
		}
		if err != nil {
			st.err = err
			st.queue = nil
		}
		f := st.drained(false)
		st.mu.Unlock()
		if f != nil {
			go f()
		}
	}
}

// finish waits until everything queued is written and reports a write error.
func (st *stream) finish() error {
	st.mu.Lock()
	st.closed = true
	st.cond.Broadcast()
	st.mu.Unlock()
	<-st.done
	if st.spill != nil {
		st.spill.Close()
	}
	// What a failed writer left unsent.
	st.mem.give(int64(st.pending))
	st.disk.give(st.written)
	return st.err
}
