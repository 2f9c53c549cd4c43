package server

import (
	"net"
	"sync"
	"time"
)

// streamBudget is how many bytes a streamed response may queue ahead of a slow client
// before the app's next yield waits: enough that a reasonable client never makes Python
// wait, bounded so that one client cannot make the process buffer without end.
const streamBudget = 4 << 20

// stream writes a response while the app is still producing it. Python's thread only
// queues bytes; this goroutine does the socket writes.
type stream struct {
	nc      net.Conn
	timeout time.Duration

	mu      sync.Mutex
	cond    sync.Cond
	queue   [][]byte
	pending int
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

// push queues a copy of the parts, waiting while the queue is over budget.
func (st *stream) push(parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n == 0 {
		return
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	st.mu.Lock()
	for st.pending > streamBudget && st.err == nil {
		st.cond.Wait()
	}
	if st.err == nil {
		st.queue = append(st.queue, b)
		st.pending += n
		st.cond.Broadcast()
	}
	st.mu.Unlock()
}

func (st *stream) failed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err != nil
}

func (st *stream) run() {
	defer close(st.done)
	bufs := make(net.Buffers, 0, 16)
	for {
		st.mu.Lock()
		for len(st.queue) == 0 && !st.closed {
			st.cond.Wait()
		}
		if len(st.queue) == 0 {
			st.mu.Unlock()
			return
		}
		bufs = append(bufs[:0], st.queue...)
		n := st.pending
		st.queue = st.queue[:0]
		st.mu.Unlock()

		st.nc.SetWriteDeadline(time.Now().Add(st.timeout))
		_, err := bufs.WriteTo(st.nc)

		st.mu.Lock()
		st.pending -= n
		if err != nil {
			st.err = err
			st.queue = nil
		}
		st.cond.Broadcast()
		st.mu.Unlock()
		if err != nil {
			return
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
	return st.err
}
