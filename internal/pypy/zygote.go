package pypy

// Pre-fork, uWSGI's default process model: PyPy and the app are loaded once, and the
// workers are forked from that loaded image, so that a worker costs only the pages it
// writes to and a new one serves within milliseconds, without importing the app again.
//
// Go cannot fork a running runtime (the child would keep one thread of many), so the
// loaded image is made by a process whose Go runtime never starts: the loader. The master
// starts it as it starts a worker (the same binary, the same inherited sockets, scoreboard
// and shared state) with LoaderEnv set; a C constructor in zygote.c sees that before
// Go's runtime starts and turns the process into a server for the master's requests on
// its control socket (Loader here is the master's end):
//
//   - 'T' gives it the table of what to do with each uwsgi operation (loaderOps, below);
//   - 'L' and 'B' load libpypy-c and start it with the setup module, as Load and Start do;
//   - 'S' runs one start-up step (the master runs worker.LoadApp through it, so the
//     order, the hooks and --need-app are decided in one place);
//   - 'W' runs warm-up requests (--warmup) through the Python half of the request path:
//     the setup module's handle, with the vars block Go's HTTP decoder makes of a GET;
//   - 'F' forks a worker: with os.fork() from Python, so that Python's and PyPy's at-fork
//     handling runs, and twice, so that the worker's parent becomes the master (a child
//     subreaper) as soon as the middle process exits: the master waits for a forked
//     worker like for any other. The worker's control socket travels with the request
//     (SCM_RIGHTS) and takes fd 3 in the worker.
//
// The forked worker returns from the constructor and its Go runtime starts as in any new
// process, on the thread that is PyPy's main thread. Worker code then calls Adopt. The
// fork itself is Python source run as a --pypy-eval step, so a replacement setup module
// (--pypy-setup) needs nothing more for it.
//
// With no Go in the loader, Python's calls into Go meet stand-ins there: log lines go to
// the log (stderr) stamped as the master's logger stamps its own, what Python reports
// (version, app) and the signal dispositions the app asks for are kept for the workers,
// and warm-up responses are dropped (the first status that is not 2xx is kept for the
// master to log). The uwsgi module's operations
// that need the running instance are handled by what they do: registering uWSGI signals
// and timers is done again by every worker (the master keeps one timer per signal);
// writing to a cache, a shared area or a mule is done once per loaded image, by the first
// worker forked from it; asking (cache_get, lock, workers...) raises an error that names
// the call and says to move it after the fork or to use --lazy-apps.
//
// Limits. Only the loader's main thread runs Python there: it attaches no other thread to
// PyPy (PyPy cannot fork after that), and threads the app starts at import are not in the
// workers, nor are connections it opens there theirs alone (as in uWSGI without
// --lazy-apps). Library mode (a pypy3 that loaded libuwsgo.so) has no process whose Go
// runtime has not started: there each worker loads the app itself, as with --lazy-apps.
// Mules and spoolers load it themselves too.

/*
#include <stdlib.h>
#include "boundary.h"
#include "zygote.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// LoaderEnv, set in a process's environment, makes it a loader (zygote.c).
const LoaderEnv = "UWSGO_LOADER"

// Forked says whether this process is a worker forked from a loader, and which.
func Forked() (id, record int, ok bool) {
	if C.uwsgo_forked_id < 0 {
		return 0, 0, false
	}
	return int(C.uwsgo_forked_id), int(C.uwsgo_forked_record), true
}

// Adopt takes over the PyPy of a forked worker, with h serving Python's calls from now
// on (as Runtime.Start's host does), and does here what the app asked for in the loader
// that needs Go: its signal dispositions and its uwsgi operations (beforeFork). The
// operations that fail are logged: the app's import is over and cannot see them. An ASGI
// app's loop gets descriptors and threads of its own (renewASGI).
func Adopt(h Host) (*Runtime, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	host = h
	C.uwsgo_save_signals()
	C.uwsgo_loader_adopt()
	for _, what := range []C.int{reportVersion, reportApp} {
		var n C.long
		if p := C.uwsgo_loader_report(what, &n); p != nil {
			uwsgoReport(what, p, n)
		}
	}
	for sig := C.int(1); sig < 65; sig++ {
		if d := C.uwsgo_loader_signal(sig); d >= 0 && uwsgoSignal(sig, d) != 0 {
			h.Log([]byte(fmt.Sprintf("signal.signal(%d) in the loaded app: uwsgo keeps that signal for itself\n", sig)))
		}
	}
	var i C.int
	for {
		var op C.int
		var args *C.char
		var n C.long
		if i = C.uwsgo_loader_deferred(i, &op, &args, &n); i == 0 {
			break
		}
		if _, _, err := call(int(op), args, n); err != nil {
			h.Log([]byte(fmt.Sprintf("the app's uwsgi call at import, carried out after the fork: %v\n", err)))
		}
	}
	RestoreSignals()
	if err := renewASGI(); err != nil {
		return nil, err
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	return &Runtime{Version: version}, nil
}

// beforeFork is what the loader, where no Go runs, does with an operation of the uwsgi
// module that the app calls while it loads (zygote.c's stub_call).
type beforeFork byte

const (
	refuse         beforeFork = iota // it needs the running instance: an error naming the call
	everyWorker                      // every worker forked from the image does it again
	onceAfterFork                    // the first worker forked from the image does it
	registerSignal                   // everyWorker, and the loader remembers the signal
	askRegistered                    // answered from the signals registered in the image
)

// loaderOps are the operations the loader does not refuse; zygote.c learns them (and the
// refusals' text) from the 'T' request, so Ops stays the one table of operations.
var loaderOps = map[Op]beforeFork{
	OpRegister: registerSignal, OpRegistered: askRegistered, OpAddSource: everyWorker,
	OpCacheSet: onceAfterFork, OpCacheUpdate: onceAfterFork, OpCacheDel: onceAfterFork, OpCacheClear: onceAfterFork,
	OpAreaWrite: onceAfterFork, OpAreaWriteLong: onceAfterFork, OpMuleMsg: onceAfterFork,
}

// loaderTable is the 'T' request's payload: op, class, the refusal's text and a NUL, each.
func loaderTable() []byte {
	var b []byte
	for _, spec := range Ops {
		class := loaderOps[spec.Op]
		refusal := ""
		if class == refuse {
			call, _, _ := strings.Cut(spec.Uwsgi, ",")
			refusal = fmt.Sprintf("uwsgi.%s() needs a running worker, and the app is being loaded before the workers are forked "+
				"(pre-fork, uWSGI's default): call it after the fork (uwsgi.post_fork_hook, --pypy-eval-post-fork) or give --lazy-apps", call)
		}
		b = append(append(append(b, byte(spec.Op), byte(class)), refusal...), 0)
	}
	return b
}

// Loader is the master's end of a loader's control socket. Its calls block until the
// loader answers; they must not be made from two goroutines at once. Closing the socket
// (the loader then exits) is safe at any time: a call in progress fails.
type Loader struct {
	ctl    *os.File // non-blocking, so that a deadline and a Close reach a waiting call
	app    string
	broken error // the first failure to talk to it: every later call fails with it
}

// NewLoader talks to a loader over ctl, a connected non-blocking stream socket.
func NewLoader(ctl *os.File) *Loader { return &Loader{ctl: ctl} }

// ErrLoaderGone is a loader that closed its socket: it exited (its status says why).
var ErrLoaderGone = errors.New("the loader exited")

// Err is the failure that ended the conversation with the loader, if any.
func (l *Loader) Err() error { return l.broken }

// call sends one request (with fd, a descriptor for it to receive, if >= 0) and reads the
// reply: a status and a payload. timeout bounds the wait (0: none).
func (l *Loader) call(cmd byte, payload []byte, fd int, timeout time.Duration) (int32, []byte, error) {
	if l.broken != nil {
		return 0, nil, l.broken
	}
	status, out, err := l.exchange(cmd, payload, fd, timeout)
	if err != nil {
		l.broken = err
	}
	return status, out, err
}

func (l *Loader) exchange(cmd byte, payload []byte, fd int, timeout time.Duration) (int32, []byte, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	l.ctl.SetReadDeadline(deadline)
	msg := binary.LittleEndian.AppendUint32([]byte{cmd}, uint32(len(payload)))
	var oob []byte
	if fd >= 0 {
		oob = syscall.UnixRights(fd)
	}
	raw, err := l.ctl.SyscallConn()
	if err != nil {
		return 0, nil, err
	}
	var sendErr error
	if err := raw.Write(func(s uintptr) bool {
		sendErr = syscall.Sendmsg(int(s), msg, oob, nil, 0)
		return sendErr != syscall.EAGAIN
	}); err != nil || sendErr != nil {
		return 0, nil, fmt.Errorf("to the loader: %w", errors.Join(err, sendErr))
	}
	if _, err := l.ctl.Write(payload); err != nil {
		return 0, nil, fmt.Errorf("to the loader: %w", err)
	}
	var head [8]byte
	if err := l.read(head[:]); err != nil {
		return 0, nil, err
	}
	out := make([]byte, binary.LittleEndian.Uint32(head[4:]))
	if err := l.read(out); err != nil {
		return 0, nil, err
	}
	return int32(binary.LittleEndian.Uint32(head[:4])), out, nil
}

func (l *Loader) read(b []byte) error {
	_, err := io.ReadFull(l.ctl, b)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrLoaderGone
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("the loader did not answer in time")
	}
	return err
}

// Start loads and starts PyPy in the loader, as Load and Start do in a process of its
// own; keepStdin is --honour-stdin (otherwise the loader's stdin is /dev/null), and unset
// the environment's names the app must not see (the master's to its children).
func (l *Loader) Start(in *Install, setup, name string, keepStdin bool, unset []string) (*Runtime, error) {
	if status, msg, err := l.call('T', loaderTable(), -1, 0); err != nil || status != 0 {
		return nil, fmt.Errorf("the loader took no table of operations: %s%v", msg, err)
	}
	rt, err := loadFirst(in, &Runtime{Home: in.Home, HomeSource: in.HomeSource}, func(lib string) (int, string) {
		status, msg, err := l.call('L', append([]byte(lib), 0), -1, 0)
		if err != nil {
			return -1, err.Error()
		}
		return int(status), string(msg)
	})
	if err != nil {
		return nil, err
	}
	nursery := nurseryDefault
	if _, set := os.LookupEnv("PYPY_GC_NURSERY"); set {
		nursery = ""
	}
	stdin := "0"
	if keepStdin {
		stdin = "1"
	}
	payload := strings.Join([]string{rt.Home, nursery, stdin, strings.Join(unset, ","), bootstrap(setup, name)}, "\x00")
	status, msg, err := l.call('B', []byte(payload), -1, 0)
	if err != nil {
		return nil, err
	}
	if status != 0 {
		return nil, fmt.Errorf("starting PyPy in the loader (home %s, library %s): %s", rt.Home, rt.Lib, msg)
	}
	rt.Version = string(msg)
	return rt, nil
}

// Do runs one start-up step in the loader; its errors are Do's.
func (l *Loader) Do(s Step, arg string) error {
	status, msg, err := l.call('S', append(binary.LittleEndian.AppendUint32(nil, uint32(s)), arg...), -1, 0)
	if err != nil {
		return err
	}
	if status != 0 {
		return &StepError{Step: s, Arg: arg, Traceback: string(msg)}
	}
	l.app = string(msg)
	return nil
}

// App is the app as loaded so far ("" for none).
func (l *Loader) App() string { return l.app }

// Warmup runs n requests with the vars block vars in the loader and drops their
// responses; it returns how many were not 2xx (or failed) and the first such status.
func (l *Loader) Warmup(vars []byte, n int) (bad int, first string, err error) {
	status, msg, err := l.call('W', append(binary.LittleEndian.AppendUint32(nil, uint32(n)), vars...), -1, 0)
	return int(status), string(msg), err
}

// Fork makes worker id (on scoreboard record record) from the loaded image, with ctl as
// its control socket, and returns its pid: the caller's child by then.
func (l *Loader) Fork(id, record, ctl int) (int, error) {
	payload := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(id)), uint32(record))
	status, msg, err := l.call('F', payload, ctl, 10*time.Second)
	if err != nil {
		return 0, err
	}
	if status <= 0 {
		return 0, fmt.Errorf("the loader could not fork: %s", msg)
	}
	return int(status), nil
}
