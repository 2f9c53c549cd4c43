package server

import (
	"net"
	"os"
	"sync"
	"time"
)

// streamBudget is how many bytes of a streamed response wait in memory for a slow client;
// beyond it they wait in an unlinked temporary file, like a large request body. The app
// never waits for the client: a slow reader costs disk, not a Python thread.
const streamBudget = 4 << 20

// stream writes a response while the app is still producing it. Python's thread only
// queues bytes; this goroutine does the socket writes.
type stream struct {
	nc      net.Conn
	timeout time.Duration

	mu      sync.Mutex
	cond    sync.Cond
	queue   [][]byte // in memory, before anything was spilled
	pending int
	spill   *os.File // once the budget is exceeded, everything after goes here, in order
	written int64    // bytes in spill
	read    int64    // bytes of spill sent
	closed  bool
	err     error
	done    chan struct{}
}

// newStream starts writing c's pending output (this response's head included) and takes
// over c's output until finish.
func newStream(c *conn) *stream {
	st := &stream{nc: c.nc, timeout: c.s.cfg.SocketTimeout, done: make(chan struct{})}
	st.cond.L = &st.mu
	if len(c.out) > 0 {
		st.push(c.out)
		c.out = nil
	}
	go st.run()
	return st
}

// push queues the parts, in memory or, past the budget, in the spill file.
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
	if st.err != nil {
		return
	}
	if st.spill == nil && st.pending+n <= streamBudget {
		b := make([]byte, 0, n)
		for _, p := range parts {
			b = append(b, p...)
		}
		st.queue = append(st.queue, b)
		st.pending += n
		st.cond.Broadcast()
		return
	}
	if st.spill == nil {
		f, err := os.CreateTemp("", "uwsgo-response-")
		if err != nil {
			st.err = err
			return
		}
		os.Remove(f.Name())
		st.spill = f
	}
	for _, p := range parts {
		if _, err := st.spill.WriteAt(p, st.written); err != nil {
			st.err = err
			return
		}
		st.written += int64(len(p))
	}
	st.cond.Broadcast()
}

func (st *stream) failed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err != nil
}

func (st *stream) run() {
	defer close(st.done)
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
		default: // closed and everything written
			st.mu.Unlock()
			return
		}
		if err != nil {
			st.err = err
			st.queue = nil
		}
		st.mu.Unlock()
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
	return st.err
}
