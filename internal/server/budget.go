package server

import (
	"net/http"
	"os"
	"sync/atomic"

	"uwsgo/internal/proto"
)

// Budgets bound what one worker spends on data that waits: request bodies read for Python
// (--body-memory-budget, --body-disk-budget) and responses waiting for slow readers
// (--response-memory-budget, --response-disk-budget). Without them, many clients at once,
// each within every per-request limit, could take all the memory or fill the disk.
//
// Past a memory budget the bytes go to an unlinked temporary file instead. Past the body
// disk budget a request is refused (413 when it could never fit, 503 while others fill
// it); past the response disk budget the app waits for its client (stream.go).

// Budgets are the limits, in bytes; 0 means no limit.
type Budgets struct {
	BodyMemory, BodyDisk         int64
	ResponseMemory, ResponseDisk int64
}

// budget counts the bytes of one kind in use across the worker's connections.
type budget struct {
	used  atomic.Int64
	limit int64
}

// take reserves n bytes, or nothing when they do not fit.
func (b *budget) take(n int64) bool {
	if b.used.Add(n) > b.limit && b.limit > 0 {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) {
	if n != 0 {
		b.used.Add(-n)
	}
}

var (
	errBodyOverBudget = &proto.Error{Status: http.StatusRequestEntityTooLarge, Reason: "request body larger than the worker's --body-disk-budget"}
	errBodyBudgetFull = &proto.Error{Status: http.StatusServiceUnavailable, Reason: "the worker's --body-disk-budget is in use by other requests; try again"}
	errBodyDisk       = &proto.Error{Status: http.StatusServiceUnavailable, Reason: "the request body could not be stored"}
)

// bodyFile is the temporary file of a request body; every byte written is taken from
// the disk budget, and given back when the request ends (exchange.releaseBody).
type bodyFile struct {
	f     *os.File
	b     *budget
	taken *int64
}

func (w bodyFile) Write(p []byte) (int, error) {
	if !w.b.take(int64(len(p))) {
		return 0, errBodyBudgetFull
	}
	*w.taken += int64(len(p))
	n, err := w.f.Write(p)
	if err != nil {
		return n, errBodyDisk // ENOSPC and the like: the client is told, not cut off
	}
	return n, nil
}
