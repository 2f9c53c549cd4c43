// Package pypy is uwsgo's boundary with PyPy and the only package that uses cgo.
//
// It loads libpypy-c at run time (dlopen: no link-time dependency, so one uwsgo binary runs
// any PyPy), starts it through PyPy's embedding API, and runs the setup module
// (pypy_setup.py: the boundary's Python half and the WSGI request path), which builds the
// uwsgi module from its own file (uwsgi_module.py, whose public top-level names are the
// module's API), with the address of one C struct, struct uwsgo_api in boundary.h. That
// struct is the whole contract: Go fills in the functions Python may call (send a response,
// log, report, carry out an operation of the uwsgi module), the setup module fills in the
// ones Go calls (handle a request, run a start-up step). The setup module reads it with
// cffi in ABI mode, so nothing is compiled at run time.
//
// The numbers the two sides share are written once, in contract.go: Ops (each operation of
// the uwsgi module, with its arguments and result) and Constants (steps, result codes).
// Go puts them, with boundary.h's struct as cffi's cdef, into the setup module's namespace
// before it runs, so the setup module defines none of them and a --pypy-setup replacement
// gets them the same way. What Python may ask of Go is one Host, handed to Runtime.Start.
//
// Python is not trusted to call correctly (a --pypy-setup file is a public interface):
// every argument it hands Go is checked before use. An operation is checked against its
// row of Ops and refused with an error naming it, which Python raises; send and sendfile
// with a negative length or descriptor answer SendBadCall. A request is named by its
// handle on both sides, a number the Sink checks when it comes back.
//
// Threads: Go calls Python from whatever OS thread a goroutine happens to run on. Every call
// goes through a C trampoline that attaches that thread to PyPy on first use; the caller
// (the dispatcher) bounds how many goroutines are inside Python at once. Requests are named
// by handles (integers the dispatcher makes of a slot and its generation), never by Go
// pointers.
//
// Pre-fork (zygote.go, zygote.c): a master's loader loads PyPy and the app in a C
// constructor, before its Go runtime starts, and forks the workers from that image; a
// forked worker takes its PyPy over with Adopt instead of Load and Start.
//
// Signals belong to Go. Python's signal.signal() would install libpypy's handler and take
// the signal away from Go silently, so the setup module replaces it with a shim that asks
// Go (Host.Signal) to watch the signal and to call the handler back (DeliverSignal);
// and, for code that reaches the C level anyway, the handlers Go installed are saved
// before Python runs and put back after each start-up step.
package pypy

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "boundary.h"
*/
import "C"

import (
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// SetupSource is the embedded setup module; --print-sym uwsgi_pypy_setup prints it.
//
//go:embed pypy_setup.py
var SetupSource string

// ModuleSource is the body of the uwsgi module, which the setup module runs: it reaches
// every setup module, the embedded one or a --pypy-setup file, as UWSGI_MODULE_SOURCE.
//
//go:embed uwsgi_module.py
var ModuleSource string

// boundaryHeader is boundary.h, whose struct uwsgo_api the setup module declares to cffi.
//
//go:embed boundary.h
var boundaryHeader string

// Step is a start-up action the setup module performs (STEP_* in Python).
type Step int

const (
	StepPath       Step = 1  // put a directory first on sys.path
	StepEval       Step = 2  // run Python source
	StepExec       Step = 3  // run a Python file
	StepWSGIModule Step = 4  // load MODULE[:CALLABLE] as the app
	StepWSGIFile   Step = 5  // load a mod_wsgi-style file's "application"
	StepPostFork   Step = 6  // call uwsgi.post_fork_hook if the app set one
	StepConfig     Step = 7  // a vars block of settings (threads, processes, options)
	StepPaste      Step = 8  // load the app of a PasteDeploy ini file ([config:]FILE)
	StepVirtualenv Step = 9  // put a PyPy virtualenv's site-packages on sys.path
	StepMount      Step = 10 // load one more app at a prefix (PREFIX=APP)
	// The loops of the processes that serve no requests: they run until the process ends.
	StepMuleLoop    Step = 20 // arg: the mule's script, or "" to run uwsgi.mule_msg_hook per message
	StepSpoolerLoop Step = 21 // arg: the spooler's directory
)

var stepNames = map[Step]string{
	StepPath: "--pypy-pp", StepEval: "--pypy-eval", StepExec: "--pypy-exec",
	StepWSGIModule: "--pypy-wsgi", StepWSGIFile: "--pypy-wsgi-file", StepPostFork: "post-fork hook",
	StepConfig: "configuration", StepPaste: "--pypy-paste", StepVirtualenv: "--virtualenv", StepMount: "--mount", StepMuleLoop: "the mule", StepSpoolerLoop: "the spooler",
}

// Outcomes of Handle (HANDLED ... NO_APP in Python).
const (
	Handled             = 0 // the response was handed over with Send/SendFile, final included
	FailedBeforeHeaders = 1 // the app failed and nothing was sent: answer 500
	FailedAfterHeaders  = 2 // the app failed mid-response: cut the connection
	NoApp               = 3 // no app is loaded: answer 500
)

// Results of Sink.Send and Sink.SendFile as Python sees them (SEND_*).
const (
	SendOK         = 0
	SendNotRegular = 1  // SendFile only: not a regular file, so Python iterates it instead
	SendClientGone = -1 // stop producing: nobody is listening
	SendBadStatus  = -2
	SendBadHeader  = -3
	SendBadCall    = -4 // the boundary refused the call's arguments (a negative length or fd)
)

// Outcomes of RPC (RPC_* in Python).
const (
	RPCDone    = 0  // the result was handed over with Sink.RPCReply
	RPCUnknown = -1 // no function of that name is registered
	RPCFailed  = -2 // the function raised (its traceback is logged)
)

// Sink receives what Python hands back for a request, named by the handle Handle or RPC
// was given (Python may pass any number: the sink checks it). Slices alias Python's memory
// and are valid only during the call: copy what you keep. Calls for one request come on
// the goroutine that called Handle for it.
type Sink interface {
	Send(handle int, head, body []byte, final bool) int
	SendFile(handle int, head []byte, fd int, offset, length int64) int
	RPCReply(handle int, result []byte)
}

// What the app asked signal.signal() to do with a signal (SIGNAL_* in pypy_setup.py).
const (
	SignalDefault = 0 // SIG_DFL
	SignalIgnore  = 1 // SIG_IGN
	SignalHandle  = 2 // a Python callable: call DeliverSignal when it arrives
)

// What report() carries (REPORT_*): facts Python tells Go once, not answers to a call.
const (
	reportVersion = 2
	reportApp     = 3
)

// Host is everything Python may ask of Go, handed to the boundary once, by Start: the
// setup module runs (and may call any of it) inside Start, so all of it must be ready.
type Host struct {
	// Sink takes the responses of Handle and RPC.
	Sink Sink
	// Log takes Python's log messages (tracebacks, uwsgi.log).
	Log func(msg []byte)
	// Signal takes a disposition Python code asks for with signal.signal(); it answers
	// false for a signal uwsgo keeps for itself.
	Signal func(sig syscall.Signal, disposition int) bool
	// RPC carries uwsgi.rpc() calls to other nodes.
	RPC func(node string, items []byte) ([]byte, error)
	// Call carries out the uwsgi module's operations (Ops), arguments already checked
	// against the table: a status (0 true, 1 false or None), a result, or an error that
	// Python raises.
	Call func(op Op, args [][]byte) (int, []byte, error)
	// ASGI takes an ASGI app's loop events (asgi.go); nil when the worker has none.
	ASGI ASGISink
}

func (h *Host) check() error {
	switch {
	case h.Sink == nil:
		return errors.New("pypy.Host.Sink is nil")
	case h.Log == nil:
		return errors.New("pypy.Host.Log is nil")
	case h.Signal == nil:
		return errors.New("pypy.Host.Signal is nil")
	case h.RPC == nil:
		return errors.New("pypy.Host.RPC is nil")
	case h.Call == nil:
		return errors.New("pypy.Host.Call is nil")
	}
	return nil
}

var (
	host Host // set once by Start, before Python runs; read-only after

	reportMu sync.Mutex
	version  string
	appDesc  string
)

// Runtime is a started PyPy.
type Runtime struct {
	Home, HomeSource string
	Lib              string // the library loaded; "" when PyPy was already in the process
	Version          string // sys.version, one line
}

// LoadError says why no library could be loaded, with every candidate tried.
type LoadError struct{ Tried []string }

func (e *LoadError) Error() string {
	return "cannot load libpypy-c; tried:\n  " + strings.Join(e.Tried, "\n  ") +
		"\ninstall PyPy (Debian: apt-get install pypy3) or name the library with --pypy-lib"
}

// RefuseCPython fails when CPython (libpython) is in this process: PyPy must never join
// it, and neither may uwsgo's library build, loaded by a CPython with ctypes.
func RefuseCPython() error {
	if C.uwsgo_cpython_present() != 0 {
		return errors.New("CPython (libpython) is already loaded in this process: mixing libpython and libpypy-c in one process is forbidden (in library mode, load libuwsgo.so from pypy3, not python3)")
	}
	return nil
}

// InProcess says whether PyPy is already running this process: library mode, where a
// pypy3 loaded uwsgo, rather than uwsgo loading PyPy.
func InProcess() bool { return C.uwsgo_pypy_present() != 0 }

// Load makes libpypy-c's embedding API callable: from the process itself when PyPy is
// already there (library mode), else the first candidate of in that loads.
func Load(in *Install) (*Runtime, error) {
	if err := RefuseCPython(); err != nil {
		return nil, err
	}
	rt := &Runtime{Home: in.Home, HomeSource: in.HomeSource}
	var errbuf [512]C.char
	if C.uwsgo_pypy_present() != 0 {
		if rc := C.uwsgo_load(nil, &errbuf[0], C.int(len(errbuf))); rc != 0 {
			return nil, fmt.Errorf("PyPy is in this process but incomplete: %s", C.GoString(&errbuf[0]))
		}
		return rt, nil
	}
	return loadFirst(in, rt, func(lib string) (int, string) {
		cs := C.CString(lib)
		rc := C.uwsgo_load(cs, &errbuf[0], C.int(len(errbuf)))
		C.free(unsafe.Pointer(cs))
		if rc == 0 {
			return 0, C.GoString(C.uwsgo_loaded_path())
		}
		return int(rc), C.GoString(&errbuf[0])
	})
}

// loadFirst loads the first candidate of in that load takes (0 and the path it opened, or a
// negative code and why not: -2 for a library without PyPy's embedding API).
func loadFirst(in *Install, rt *Runtime, load func(lib string) (int, string)) (*Runtime, error) {
	var tried []string
	for _, lib := range in.Libs {
		if strings.Contains(lib, "/") {
			if _, err := os.Stat(lib); err != nil {
				tried = append(tried, lib+": no such file")
				continue
			}
		}
		rc, msg := load(lib)
		switch rc {
		case 0:
			rt.Lib = msg
			if rt.Home == "" {
				rt.Home, rt.HomeSource = HomeOfLibrary(resolvedPath(lib)), "the library's name"
				if rt.Home == "" {
					return nil, fmt.Errorf("loaded %s but cannot tell PyPy's home from it: give --pypy-home", lib)
				}
			}
			if err := CheckPair(rt.Home, rt.Lib); err != nil {
				return nil, fmt.Errorf("%s: %w", rt.HomeSource, err)
			}
			return rt, nil
		case -2:
			return nil, fmt.Errorf("%s is not a usable libpypy-c: %s (a PyPy built with --shared exports rpython_startup_code, pypy_setup_home, pypy_execute_source_ptr, pypy_init_threads and pypy_thread_attach)", lib, msg)
		}
		tried = append(tried, lib+": "+msg)
	}
	return nil, &LoadError{Tried: tried}
}

// Start boots PyPy and runs the setup module (name says where it came from, for errors),
// with h serving Python's calls from then on. It must run on the thread that will stay
// PyPy's main thread, with Go's signal handlers already installed.
func (rt *Runtime) Start(setup, name string, h Host) error {
	if err := h.check(); err != nil {
		return err
	}
	host = h
	C.uwsgo_save_signals()
	if rt.Lib != "" {
		withNurseryDefault(func() { C.uwsgo_startup() })
		home := C.CString(rt.Home)
		rc := C.uwsgo_setup_home(home)
		C.free(unsafe.Pointer(home))
		if rc != 0 {
			return fmt.Errorf("pypy_setup_home(%s) failed (%d): not a PyPy home matching %s", rt.Home, int(rc), rt.Lib)
		}
	}
	src := C.CString(bootstrap(setup, name))
	rc := C.uwsgo_execute_setup(src)
	C.free(unsafe.Pointer(src))
	if rc != 0 {
		return fmt.Errorf("the setup module %s raised an exception (its traceback is above)", name)
	}
	if C.uwsgo_hooks_installed() == 0 {
		return fmt.Errorf("the setup module %s did not set the handle and step hooks of struct uwsgo_api", name)
	}
	// In library mode the running PyPy has set up its GIL already (ctypes released it to
	// call uwsgi_init); pypy_init_threads sets it up only once, so calling it is harmless
	// there and needed when uwsgo booted PyPy itself.
	C.uwsgo_init_threads()
	RestoreSignals()
	reportMu.Lock()
	rt.Version = version
	reportMu.Unlock()
	return nil
}

// bootstrap wraps the setup module so that it runs under its own file name and module name,
// with the contract's names (contract.go) already in its namespace, and an exception shows
// its traceback: pypy_execute_source_ptr itself prints only PyPy's internal "debug:
// OperationError" lines (which still follow the traceback). The source travels
// base64-encoded, so no quoting can break.
func bootstrap(setup, name string) string {
	enc := base64.StdEncoding.EncodeToString
	return `def _uwsgo_bootstrap(c_argument):
    import base64, traceback
    name = base64.b64decode("` + enc([]byte(name)) + `").decode("utf-8", "replace")
    source = base64.b64decode("` + enc([]byte(setup)) + `")
    namespace = ` + pythonNames() + `
    namespace.update({"__name__": "uwsgi_pypy_setup", "__file__": name, "c_argument": c_argument})
    namespace["UWSGI_MODULE_SOURCE"] = base64.b64decode("` + enc([]byte(ModuleSource)) + `").decode("utf-8")
    try:
        exec(compile(source, name, "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        raise
_uwsgo_bootstrap(c_argument)
`
}

// StepError is a start-up step that raised, with Python's traceback.
type StepError struct {
	Step      Step
	Arg       string
	Traceback string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s %s failed:\n%s", stepNames[e.Step], e.Arg, strings.TrimRight(e.Traceback, "\n"))
}

// stepErrorCap bounds the traceback a failed step hands back; a longer one is cut.
const stepErrorCap = 256 << 10

// Do runs one start-up step in Python and puts back any signal handler it changed. A step
// that fails writes its traceback into a buffer of this call's, and returns its length.
func Do(s Step, arg string) error {
	var p *C.char
	if len(arg) > 0 {
		p = (*C.char)(unsafe.Pointer(unsafe.StringData(arg)))
	}
	errbuf := (*C.char)(C.malloc(stepErrorCap))
	defer C.free(unsafe.Pointer(errbuf))
	rc := C.uwsgo_step(C.int(s), p, C.long(len(arg)), errbuf, stepErrorCap)
	RestoreSignals()
	if rc == 0 {
		return nil
	}
	tb := "(the setup module gave no traceback)\n"
	if rc > 0 {
		tb = string(bytesOf(errbuf, min(rc, stepErrorCap)))
		if rc > stepErrorCap {
			tb += "\n(cut at 256 KiB)\n"
		}
	}
	return &StepError{Step: s, Arg: arg, Traceback: tb}
}

// App describes the loaded app as the setup module reported it ("" if none).
func App() string {
	reportMu.Lock()
	defer reportMu.Unlock()
	return appDesc
}

// Handle runs one request in Python. handle names the request in the Sink's calls; vars is
// its vars block; the body is either in memory (body) or in a file (bodyFD >= 0,
// positioned at its start).
func Handle(handle int, vars, body []byte, bodyFD int) int {
	var bp *C.char
	if len(body) > 0 {
		bp = (*C.char)(unsafe.Pointer(unsafe.SliceData(body)))
	}
	return int(C.uwsgo_handle(C.long(handle), (*C.char)(unsafe.Pointer(unsafe.SliceData(vars))), C.long(len(vars)), bp, C.long(len(body)), C.int(bodyFD)))
}

// DeliverSignal runs the handler the app registered for sig. Like every call into
// Python, the caller must hold a slot.
func DeliverSignal(sig syscall.Signal) { C.uwsgo_deliver_signal(C.int(sig)) }

// RPC runs a registered RPC function: items is the call's item list (name, then
// arguments). The caller must hold the slot of handle, which names the request in
// Sink.RPCReply.
func RPC(handle int, items []byte) int {
	return int(C.uwsgo_rpc(C.long(handle), (*C.char)(unsafe.Pointer(unsafe.SliceData(items))), C.long(len(items))))
}

// DeliverUwsgiSignal runs the handler of uWSGI signal num. The caller must hold a slot.
func DeliverUwsgiSignal(num int) { C.uwsgo_uwsgi_signal(C.int(num)) }

// RestoreSignals puts back Go's handlers for any signal Python took; it returns how many.
func RestoreSignals() int { return int(C.uwsgo_restore_signals()) }

// AttachedThreads is how many OS threads have run Python so far.
func AttachedThreads() int { return int(C.uwsgo_attached_threads()) }

func bytesOf(p *C.char, n C.long) []byte {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// validBytes says whether (p, n) is a byte string Python may hand Go: no negative length,
// no length without memory.
func validBytes(p *C.char, n C.long) bool { return n == 0 || (n > 0 && p != nil) }

//export uwsgoSend
func uwsgoSend(handle C.long, head *C.char, headlen C.long, body *C.char, bodylen C.long, final C.int) C.long {
	if !validBytes(head, headlen) || !validBytes(body, bodylen) {
		return SendBadCall
	}
	return C.long(host.Sink.Send(int(handle), bytesOf(head, headlen), bytesOf(body, bodylen), final != 0))
}

//export uwsgoSendfile
func uwsgoSendfile(handle C.long, head *C.char, headlen C.long, fd C.int, offset, length C.int64_t) C.long {
	if !validBytes(head, headlen) || fd < 0 || offset < 0 || length < -1 {
		return SendBadCall
	}
	return C.long(host.Sink.SendFile(int(handle), bytesOf(head, headlen), int(fd), int64(offset), int64(length)))
}

//export uwsgoLog
func uwsgoLog(msg *C.char, n C.long) {
	if validBytes(msg, n) {
		host.Log(bytesOf(msg, n))
	}
}

//export uwsgoRPCReply
func uwsgoRPCReply(handle C.long, result *C.char, n C.long) C.long {
	if !validBytes(result, n) {
		return -1
	}
	host.Sink.RPCReply(int(handle), bytesOf(result, n))
	return 0
}

// uwsgoRPCCall carries uwsgi.rpc(node, ...) to node. The result is copied into C memory
// that Python frees (api.free) once it has made its bytes.
//
//export uwsgoRPCCall
func uwsgoRPCCall(node *C.char, nodelen C.long, items *C.char, itemslen C.long, result **C.char, resultlen *C.long) C.long {
	if !validBytes(node, nodelen) || !validBytes(items, itemslen) || result == nil || resultlen == nil {
		return -1
	}
	n := string(bytesOf(node, nodelen))
	res, err := host.RPC(n, bytesOf(items, itemslen))
	if err != nil {
		host.Log([]byte("uwsgi.rpc to " + n + ": " + err.Error() + "\n"))
		return -1
	}
	*result = (*C.char)(C.CBytes(res))
	*resultlen = C.long(len(res))
	return 0
}

// uwsgoCall carries out one operation of the uwsgi module. The arguments come as u32
// length-prefixed strings. The result (or the error's text, with status -1) is copied
// into C memory that Python frees. Without somewhere to put a result, the call is refused
// with -2 and nothing else.
//
//export uwsgoCall
func uwsgoCall(op C.int, args *C.char, n C.long, result **C.char, resultlen *C.long) C.long {
	if result == nil || resultlen == nil {
		return -2
	}
	status, out, err := call(int(op), args, n)
	if err != nil {
		status, out = -1, []byte(err.Error())
	}
	*resultlen = -1
	if out != nil {
		*result = (*C.char)(C.CBytes(out))
		*resultlen = C.long(len(out))
	}
	return C.long(status)
}

// call checks an operation against the table and hands it to the host.
func call(op int, args *C.char, n C.long) (int, []byte, error) {
	spec := OpByNumber(op)
	if spec == nil {
		return 0, nil, fmt.Errorf("no uwsgi operation %d (the operations are listed in internal/pypy/contract.go)", op)
	}
	if !validBytes(args, n) {
		return 0, nil, fmt.Errorf("%s: the arguments' length is %d", spec, n)
	}
	in := bytesOf(args, n)
	var list [][]byte
	for len(in) > 0 {
		if len(in) < 4 {
			return 0, nil, fmt.Errorf("%s: the arguments end in %d stray bytes (each is a u32-LE length, then that many bytes)", spec, len(in))
		}
		size := uint64(binary.LittleEndian.Uint32(in))
		if size > uint64(len(in)-4) {
			return 0, nil, fmt.Errorf("%s: argument %d says %d bytes, but %d are left", spec, len(list)+1, size, len(in)-4)
		}
		list = append(list, in[4:4+size])
		in = in[4+size:]
	}
	if err := spec.check(list); err != nil {
		return 0, nil, err
	}
	return host.Call(spec.Op, list)
}

//export uwsgoSignal
func uwsgoSignal(signum, disposition C.int) C.long {
	if signum <= 0 || signum >= 65 || disposition < SignalDefault || disposition > SignalHandle {
		return -1
	}
	if !host.Signal(syscall.Signal(signum), int(disposition)) {
		return -1
	}
	// Restoring after the step must not undo what Go just did at the app's request: in
	// library mode signal.Notify installs Go's handler only now, and signal.Ignore sets
	// SIG_IGN in either mode.
	C.uwsgo_save_signal(signum)
	return 0
}

//export uwsgoReport
func uwsgoReport(what C.int, text *C.char, n C.long) {
	if !validBytes(text, n) {
		return
	}
	s := string(bytesOf(text, n))
	reportMu.Lock()
	defer reportMu.Unlock()
	switch what {
	case reportVersion:
		version = s
	case reportApp:
		appDesc = s
	}
}
