// Package scoreboard is the memory the master and its workers share: one record per worker
// process, with its counters and, per thread, the request it is running and since when.
//
// The master creates it (a shm.Segment of its own, apart from the shared state because its
// size depends on the processes, not the options) before it starts any worker and hands
// each worker the descriptor and a record number. Workers only ever write their own
// record, with atomic stores; the master reads every record, for harakiri, recycling and
// stats. Nothing is lost when a worker dies: its last counters stay readable until the master
// gives the record to a new worker. In single-process mode the same layout lives in private
// memory, so stats code has one source.
package scoreboard

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"uwsgo/internal/shm"
)

// DescSize bounds the text kept of a running request ("GET /path").
const DescSize = 192

// Worker states.
const (
	Free     = 0 // no process
	Starting = 1 // spawned, loading PyPy and the app
	Ready    = 2 // accepting requests
	Stopping = 3 // draining before exit
)

// Core is one Python thread of a worker.
type Core struct {
	Started      atomic.Int64 // unix µs when the current request started; 0 when idle
	UserHarakiri atomic.Int64 // unix µs after which the master kills the worker (uwsgi.set_user_harakiri); 0: none
	Requests     atomic.Uint64
	desc         [DescSize]byte
}

// Worker is a worker process's record.
type Worker struct {
	PID        atomic.Int64
	ID         atomic.Int64 // uWSGI's worker id, 1..processes
	State      atomic.Int64
	Spawned    atomic.Int64 // unix µs
	Requests   atomic.Uint64
	Exceptions atomic.Uint64
	TxBytes    atomic.Uint64
	RunMicros  atomic.Uint64 // total request time, for the average
	Respawns   atomic.Uint64 // how many processes had this worker id before
	Harakiris  atomic.Uint64 // how many of them harakiri killed
	HasApp     atomic.Int64
	app        [DescSize]byte
}

// Board is a mapped scoreboard.
type Board struct {
	mem     []byte
	seg     *shm.Segment // nil for private memory
	records int
	threads int
	size    int // bytes per record
}

func recordSize(threads int) int {
	n := int(unsafe.Sizeof(Worker{})) + threads*int(unsafe.Sizeof(Core{}))
	return (n + 63) &^ 63 // records on their own cache lines
}

// Create makes a shared board for records worker processes of threads threads each.
func Create(records, threads int) (*Board, error) {
	seg, err := shm.Create("uwsgo-scoreboard", records*recordSize(threads))
	if err != nil {
		return nil, fmt.Errorf("scoreboard: %w", err)
	}
	return onSegment(seg, records, threads), nil
}

// Open maps a board inherited from the master.
func Open(f *os.File, records, threads int) (*Board, error) {
	seg, err := shm.Map(f, records*recordSize(threads))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("scoreboard: %w", err)
	}
	return onSegment(seg, records, threads), nil
}

// Private makes a board in this process's own memory (single-process mode).
func Private(threads int) *Board {
	return &Board{mem: make([]byte, recordSize(threads)), records: 1, threads: threads, size: recordSize(threads)}
}

func onSegment(seg *shm.Segment, records, threads int) *Board {
	size := recordSize(threads)
	return &Board{mem: seg.Bytes(0, records*size), seg: seg, records: records, threads: threads, size: size}
}

// File is the descriptor to hand to a worker.
func (b *Board) File() *os.File { return b.seg.File() }

// Records is how many worker records the board has.
func (b *Board) Records() int { return b.records }

// Threads is how many cores each record has.
func (b *Board) Threads() int { return b.threads }

// Worker is record i.
func (b *Board) Worker(i int) *Worker {
	return (*Worker)(unsafe.Pointer(&b.mem[i*b.size]))
}

// Core is thread t of record i.
func (b *Board) Core(i, t int) *Core {
	off := i*b.size + int(unsafe.Sizeof(Worker{})) + t*int(unsafe.Sizeof(Core{}))
	return (*Core)(unsafe.Pointer(&b.mem[off]))
}

// Reset clears record i for a new process.
func (b *Board) Reset(i int) {
	clear(b.mem[i*b.size : (i+1)*b.size])
}

// Now is the scoreboard's clock, in unix microseconds.
func Now() int64 { return time.Now().UnixMicro() }

// Begin marks a request as running on core c. The description is written before the start
// time is published, so a reader that sees the time sees (at worst) a neighbouring request's
// text, never a torn number.
func (c *Core) Begin(method, uri []byte) {
	n := copy(c.desc[:], method)
	if n < DescSize {
		c.desc[n] = ' '
		n++
	}
	n += copy(c.desc[n:], uri)
	if n < DescSize {
		c.desc[n] = 0
	}
	c.Started.Store(Now())
}

// End marks core c idle and returns how long the request ran, in µs.
func (c *Core) End() int64 {
	d := Now() - c.Started.Load()
	c.Started.Store(0)
	c.UserHarakiri.Store(0)
	c.Requests.Add(1)
	return d
}

// Desc is the request core c runs (or last ran).
func (c *Core) Desc() string { return cString(c.desc[:]) }

// SetApp records what the worker loaded ("" for none).
func (w *Worker) SetApp(app string) {
	n := copy(w.app[:], app)
	if n < DescSize {
		w.app[n] = 0
	}
	if app != "" {
		w.HasApp.Store(1)
	}
}

// App is what the worker loaded.
func (w *Worker) App() string { return cString(w.app[:]) }

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
