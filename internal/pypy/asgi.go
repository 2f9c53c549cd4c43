package pypy

/*
#include "boundary.h"
#include "zygote.h"
*/
import "C"

import (
	_ "embed"
	"errors"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"
)

// ASGI: the boundary's additions for ASGI apps, kept together (asgi.py is their Python
// side). asgi.py runs only when an ASGI app is given (LoadASGI); it keeps one asyncio
// loop that Go drives through ASGI: each call does what Go asks (start a request, hand
// over body bytes, report a client gone, run what is due) and then runs every ready
// callback, and says when the loop's next timer is due.

// ASGISource is the embedded ASGI part of the setup module.
//
//go:embed asgi.py
var ASGISource string

// The steps of an ASGI app; StepPart runs another embedded file of the boundary. Python
// knows them by the names contract.go gives them (STEP_PART, STEP_ASGI_*).
const (
	StepPart         Step = 11 // arg: the file's module name, a newline, its source
	StepASGIModule   Step = 12 // arg: executor threads (0: asyncio's default), a newline, MODULE[:CALLABLE]
	StepASGIFile     Step = 13 // arg: executor threads, a newline, FILE
	StepASGIStartup  Step = 14 // lifespan startup: returns once the app says it is ready
	StepASGIShutdown Step = 15 // lifespan shutdown
	StepASGIForked   Step = 16 // in a worker forked from the loader: the loop's own descriptors and threads
)

func init() {
	stepNames[StepPart] = "the boundary's ASGI part"
	stepNames[StepASGIModule] = "--pypy-asgi"
	stepNames[StepASGIFile] = "--pypy-asgi-file"
	stepNames[StepASGIStartup] = "the ASGI lifespan startup"
	stepNames[StepASGIShutdown] = "the ASGI lifespan shutdown"
	stepNames[StepASGIForked] = "the ASGI loop's renewal after the fork"
}

// ASGIOp is what Go asks of the loop (ASGI_HTTP ... in contract.go's table).
type ASGIOp int

const (
	ASGIHTTP       ASGIOp = 1 // start a request: a = its scope block, b = its body (all of it unless ASGIMore)
	ASGIBody       ASGIOp = 2 // more body: a = the bytes; ASGIMore if more follows. Returns 1: pause until ASGIEventWant
	ASGIDisconnect ASGIOp = 3 // the client went away
	ASGIRun        ASGIOp = 4 // run what is due (ASGIPoll: poll the loop's selector too)
	ASGIWebSocket  ASGIOp = 5 // start a WebSocket session: a = its scope block, b = Sec-WebSocket-Protocol
	ASGIWSMessage  ASGIOp = 6 // a message from the client: a = its payload; ASGIBinary for binary
	ASGIWSClosed   ASGIOp = 7 // the client closed the session; flags = its close code
	ASGIDrained    ASGIOp = 8 // what the request's client had to read is down: send on
)

// Flags of an ASGIOp (ASGI_MORE ...).
const (
	ASGIMore   = 1
	ASGIPoll   = 2
	ASGIBinary = 4
	ASGIVars   = 8 // ASGIHTTP: a is a CGI vars block (the uwsgi protocol's), not a scope block
)

// What the loop tells Go (ASGI_EVENT_*), through Host.ASGI.
const (
	asgiEventLoop     = 1 // arg: the descriptor of the loop's selector (handled here)
	ASGIEventDone     = 2 // the request's task ended; arg: its outcome (Handled ...)
	ASGIEventWant     = 3 // the app took the body queued so far: read on
	ASGIEventWSAccept = 4 // accept the WebSocket; data: extra headers, name NUL value CRLF each
	ASGIEventWSSend   = 5 // send a message; arg 1: binary
	ASGIEventWSClose  = 6 // close the WebSocket; arg: the code, data: the reason
)

// ASGISendWait is Send's answer (and ASGIEventWSSend's) to an app whose client has too
// much still to read: the send waits for ASGIDrained.
const ASGISendWait = 2

// Results of ASGI besides a request's outcome.
const (
	ASGIPending = -1   // the request's task has not ended: ASGIEventDone will say when
	ASGIFailed  = -2   // the loop itself failed (logged)
	asgiAbsent  = -100 // asgi.py never ran
)

// ASGISink receives the loop's events for requests; data aliases Python's memory.
type ASGISink interface {
	ASGIEvent(what, handle int, arg int64, data []byte) int64
}

var asgiLoopFD atomic.Int64

// ASGILoopFD is the descriptor of the loop's selector (an epoll descriptor): readable when
// something the app waits on with asyncio's own I/O is ready. -1 without an ASGI app.
func ASGILoopFD() int {
	if fd := asgiLoopFD.Load(); fd > 0 {
		return int(fd)
	}
	return -1
}

// LoadASGI runs asgi.py, then loads the app: from a module (file false) or a file, with do
// running each step (Do, or a pre-fork loader's Loader.Do). threads is the size of the
// loop's default executor (0: asyncio's default).
func LoadASGI(do func(Step, string) error, spec string, file bool, threads int) error {
	if err := do(StepPart, "uwsgo_asgi\n"+ASGISource); err != nil {
		return named(err, "(STEP_PART: a replacement setup module must run it to serve ASGI apps)")
	}
	step := StepASGIModule
	if file {
		step = StepASGIFile
	}
	return named(do(step, strconv.Itoa(threads)+"\n"+spec), spec)
}

// renewASGI gives a worker forked from the loader a loop of its own, if the loaded image
// has one: the loader's epoll instance, self-pipe and executor threads are not the
// worker's (asgi.py's _forked says why). The loop then tells Go its new descriptor.
func renewASGI() error {
	if C.uwsgo_loader_asgi() == 0 {
		return nil
	}
	return Do(StepASGIForked, "")
}

// named makes a failed step's message show arg, not the text the step was handed.
func named(err error, arg string) error {
	var se *StepError
	if errors.As(err, &se) {
		se.Arg = arg
	}
	return err
}

// ASGI hands the loop one op and runs it until nothing is ready. It returns the started
// request's outcome (ASGIHTTP, ASGIWebSocket: ASGIPending while its task runs), the
// pause answer (ASGIBody), and when the loop's next timer is due (-1: none). The caller
// must hold the loop: one call at a time.
func ASGI(op ASGIOp, handle int, a, b []byte, flags int) (int, time.Duration) {
	var next C.int64_t
	rc := C.uwsgo_asgi(C.int(op), C.long(handle), cbytes(a), C.long(len(a)), cbytes(b), C.long(len(b)), C.int(flags), &next)
	if rc == asgiAbsent {
		return ASGIFailed, -1
	}
	return int(rc), time.Duration(next)
}

func cbytes(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b)))
}

//export uwsgoASGIEvent
func uwsgoASGIEvent(what C.int, handle, arg C.long, data *C.char, n C.long) C.long {
	if what == asgiEventLoop {
		asgiLoopFD.Store(int64(handle))
		return 0
	}
	if host.ASGI == nil {
		return -1
	}
	return C.long(host.ASGI.ASGIEvent(int(what), int(handle), int64(arg), bytesOf(data, n)))
}
