package pypy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// This file is the contract's one table. Every number that crosses the boundary is
// defined here, once: Go uses the constants, and the setup module receives the same
// values as globals (OP_LOCK, STEP_PATH, HANDLED ...) put into its namespace before it
// runs, so it defines none of its own. The cffi declaration of struct uwsgo_api comes
// from boundary.h the same way (UWSGO_API_CDEF). contract_test.go fails when the setup
// module uses a name the table lacks, or the table has one the module never uses.

// Op is an operation of the uwsgi module that Go carries out for Python (api.call).
type Op int

// The uwsgi module's operations; Ops says what each takes and gives.
const (
	OpLock          Op = 1
	OpUnlock        Op = 2
	OpIsLocked      Op = 3
	OpCacheGet      Op = 10
	OpCacheSet      Op = 11
	OpCacheUpdate   Op = 12
	OpCacheDel      Op = 13
	OpCacheExists   Op = 14
	OpCacheClear    Op = 15
	OpCacheKeys     Op = 16
	OpCacheMath     Op = 17
	OpAreaRead      Op = 20
	OpAreaWrite     Op = 21
	OpAreaAddLong   Op = 22
	OpAreaWriteLong Op = 23
	OpMetric        Op = 30
	OpRaise         Op = 40
	OpRegister      Op = 41
	OpAddSource     Op = 42
	OpRegistered    Op = 43
	OpWait          Op = 44
	OpReload        Op = 50
	OpStop          Op = 51
	OpWorkers       Op = 52
	OpHarakiri      Op = 53
	OpListenQueue   Op = 54
	OpMuleMsg       Op = 60
	OpMuleGet       Op = 61
	OpInFarm        Op = 62
	OpSpool         Op = 70
	OpSpoolNext     Op = 71
	OpSpoolDone     Op = 72
	OpSpoolerPID    Op = 73
	OpWSHandshake   Op = 80
	OpWSRecv        Op = 81
	OpWSSend        Op = 82
	OpDisconnect    Op = 83
	OpConnectionFD  Op = 84
	OpSetLogvar     Op = 85
	OpGetLogvar     Op = 86
)

// OpSpec describes one operation: Python calls _go(OP_NAME, args...); Go's Host.Call
// (worker.uwsgiAPI.call) takes it and hands it to the function named by Go.
//
// Args names the arguments in order, space-separated: "#name" is a decimal integer,
// "name" any bytes, a last "name..." any number more. The boundary checks a call
// against it before Host.Call sees it, so Host.Call may index the arguments freely.
// Result is what status and bytes come back (status 0 is true, 1 is false or None; an
// error becomes a ValueError in Python).
type OpSpec struct {
	Op     Op
	Name   string // Python's name
	Args   string
	Result string
	Uwsgi  string // the uwsgi module's functions that use it
	Go     string // what carries it out, behind worker.uwsgiAPI.call

	args     []string // Args split
	variadic bool
}

// Ops is each Python operation in one list.
var Ops = []OpSpec{
	{Op: OpLock, Name: "OP_LOCK", Args: "#lock", Result: "-", Uwsgi: "lock", Go: "shm.Lock.Lock"},
	{Op: OpUnlock, Name: "OP_UNLOCK", Args: "#lock", Result: "-", Uwsgi: "unlock", Go: "shm.Lock.Unlock"},
	{Op: OpIsLocked, Name: "OP_IS_LOCKED", Args: "#lock", Result: "status", Uwsgi: "is_locked", Go: "shm.Lock.Locked"},
	{Op: OpCacheGet, Name: "OP_CACHE_GET", Args: "cache key", Result: "status, the value", Uwsgi: "cache_get", Go: "cache.Cache.Get"},
	{Op: OpCacheSet, Name: "OP_CACHE_SET", Args: "cache key value #expires", Result: "status", Uwsgi: "cache_set", Go: "cache.Cache.Set"},
	{Op: OpCacheUpdate, Name: "OP_CACHE_UPDATE", Args: "cache key value #expires", Result: "status", Uwsgi: "cache_update", Go: "cache.Cache.Set"},
	{Op: OpCacheDel, Name: "OP_CACHE_DEL", Args: "cache key", Result: "status", Uwsgi: "cache_del", Go: "cache.Cache.Del"},
	{Op: OpCacheExists, Name: "OP_CACHE_EXISTS", Args: "cache key", Result: "status", Uwsgi: "cache_exists", Go: "cache.Cache.Exists"},
	{Op: OpCacheClear, Name: "OP_CACHE_CLEAR", Args: "cache", Result: "status", Uwsgi: "cache_clear", Go: "cache.Cache.Clear"},
	{Op: OpCacheKeys, Name: "OP_CACHE_KEYS", Args: "cache", Result: "the keys, each u32-LE length-prefixed", Uwsgi: "cache_keys", Go: "cache.Cache.Keys"},
	{Op: OpCacheMath, Name: "OP_CACHE_MATH", Args: "cache key operator #value #expires", Result: "status, the new value in decimal", Uwsgi: "cache_inc, cache_dec, cache_mul, cache_div", Go: "cache.Cache.Math"},
	{Op: OpAreaRead, Name: "OP_AREA_READ", Args: "#area #pos #length", Result: "the bytes", Uwsgi: "sharedarea_read*", Go: "sharedarea.Area.Read"},
	{Op: OpAreaWrite, Name: "OP_AREA_WRITE", Args: "#area #pos data", Result: "-", Uwsgi: "sharedarea_write*", Go: "sharedarea.Area.Write"},
	{Op: OpAreaAddLong, Name: "OP_AREA_ADDLONG", Args: "#area #pos #amount", Result: "the new value in decimal", Uwsgi: "sharedarea_inclong, sharedarea_readlong", Go: "sharedarea.Area.AddLong"},
	{Op: OpAreaWriteLong, Name: "OP_AREA_WRITELONG", Args: "#area #pos #value", Result: "-", Uwsgi: "sharedarea_writelong", Go: "sharedarea.Area.WriteLong"},
	{Op: OpMetric, Name: "OP_METRIC", Args: "name operator #value", Result: "status, the value in decimal", Uwsgi: "metric_*", Go: "metrics.Set.Get, metrics.Set.Apply"},
	{Op: OpRaise, Name: "OP_RAISE", Args: "#signal", Result: "-", Uwsgi: "signal", Go: "master.Raise (the control socket, or uwsgisignal.Router.Raise alone)"},
	{Op: OpRegister, Name: "OP_REGISTER", Args: "#signal target", Result: "status", Uwsgi: "register_signal", Go: "shared.SignalTable.Register"},
	{Op: OpAddSource, Name: "OP_ADD_SOURCE", Args: "source", Result: "-", Uwsgi: "add_timer, add_rb_timer, add_file_monitor, add_cron", Go: "master.AddSource"},
	{Op: OpRegistered, Name: "OP_REGISTERED", Args: "#signal", Result: "status", Uwsgi: "signal_registered", Go: "shared.SignalTable.Target"},
	{Op: OpWait, Name: "OP_WAIT", Args: "#signal", Result: "the signal that came, in decimal", Uwsgi: "signal_wait", Go: "uwsgiAPI.wait"},
	{Op: OpReload, Name: "OP_RELOAD", Args: "", Result: "-", Uwsgi: "reload", Go: "master.Reload"},
	{Op: OpStop, Name: "OP_STOP", Args: "", Result: "-", Uwsgi: "stop", Go: "master.Stop"},
	{Op: OpWorkers, Name: "OP_WORKERS", Args: "", Result: "the workers as JSON", Uwsgi: "workers", Go: "stats.Document"},
	{Op: OpHarakiri, Name: "OP_HARAKIRI", Args: "#seconds #handle", Result: "status", Uwsgi: "set_user_harakiri", Go: "scoreboard core UserHarakiri"},
	{Op: OpListenQueue, Name: "OP_LISTEN_QUEUE", Args: "", Result: "the backlog in decimal", Uwsgi: "listen_queue", Go: "stats.Document"},
	{Op: OpMuleMsg, Name: "OP_MULE_MSG", Args: "message target", Result: "-", Uwsgi: "mule_msg", Go: "master.MuleMsg"},
	{Op: OpMuleGet, Name: "OP_MULE_GET", Args: "kind #timeout", Result: "status, the message", Uwsgi: "mule_get_msg, farm_get_msg", Go: "uwsgiAPI.muleGet"},
	{Op: OpInFarm, Name: "OP_IN_FARM", Args: "farm", Result: "status", Uwsgi: "in_farm", Go: "uwsgiAPI.inFarm"},
	{Op: OpSpool, Name: "OP_SPOOL", Args: "directory pairs...", Result: "the job's file name", Uwsgi: "spool, send_to_spooler", Go: "uwsgiAPI.spool"},
	{Op: OpSpoolNext, Name: "OP_SPOOL_NEXT", Args: "", Result: "the next job's file and contents", Uwsgi: "the spooler loop", Go: "uwsgiAPI.spoolNext"},
	{Op: OpSpoolDone, Name: "OP_SPOOL_DONE", Args: "path #result", Result: "-", Uwsgi: "the spooler loop", Go: "os.Remove"},
	{Op: OpSpoolerPID, Name: "OP_SPOOLER_PID", Args: "", Result: "the pid in decimal", Uwsgi: "spooler_pid", Go: "shared.State.SpoolerPID"},
	{Op: OpWSHandshake, Name: "OP_WS_HANDSHAKE", Args: "#handle key protocol", Result: "-", Uwsgi: "websocket_handshake", Go: "server.Server.WebSocketHandshake"},
	{Op: OpWSRecv, Name: "OP_WS_RECV", Args: "#handle block", Result: "status, the message", Uwsgi: "websocket_recv, websocket_recv_nb", Go: "server.Server.WebSocketRecv"},
	{Op: OpWSSend, Name: "OP_WS_SEND", Args: "#handle message binary", Result: "-", Uwsgi: "websocket_send, websocket_send_binary", Go: "server.Server.WebSocketSend"},
	{Op: OpDisconnect, Name: "OP_DISCONNECT", Args: "#handle", Result: "-", Uwsgi: "disconnect", Go: "server.Server.Disconnect"},
	{Op: OpConnectionFD, Name: "OP_CONNECTION_FD", Args: "#handle", Result: "the descriptor in decimal", Uwsgi: "connection_fd", Go: "server.Server.ConnectionFD"},
	{Op: OpSetLogvar, Name: "OP_SET_LOGVAR", Args: "#handle name value", Result: "-", Uwsgi: "set_logvar", Go: "server.Server.SetLogvar"},
	{Op: OpGetLogvar, Name: "OP_GET_LOGVAR", Args: "#handle name", Result: "status, the value", Uwsgi: "get_logvar", Go: "server.Server.Logvar"},
}

// opTable finds an operation's spec by number without a map look-up.
var opTable [100]*OpSpec

func init() {
	for i := range Ops {
		s := &Ops[i]
		s.args = strings.Fields(s.Args)
		if n := len(s.args); n > 0 && strings.HasSuffix(s.args[n-1], "...") {
			s.variadic = true
		}
		if s.Op <= 0 || int(s.Op) >= len(opTable) || opTable[s.Op] != nil {
			panic(fmt.Sprintf("pypy: operation %s has a bad or repeated number %d", s.Name, s.Op))
		}
		opTable[s.Op] = s
	}
}

// OpByNumber is the spec of operation op, or nil.
func OpByNumber(op int) *OpSpec {
	if op <= 0 || op >= len(opTable) {
		return nil
	}
	return opTable[op]
}

func (s *OpSpec) String() string { return fmt.Sprintf("%s (operation %d)", s.Name, s.Op) }

// check says what is wrong with a call's arguments, naming the operation.
func (s *OpSpec) check(args [][]byte) error {
	want := len(s.args)
	if s.variadic {
		want--
	}
	if len(args) < want || (!s.variadic && len(args) > want) {
		return fmt.Errorf("%s takes %d arguments (%s), not %d", s, want, s.Args, len(args))
	}
	for i, name := range s.args[:want] {
		if name[0] != '#' {
			continue
		}
		if _, err := strconv.ParseInt(string(args[i]), 10, 64); err != nil {
			return fmt.Errorf("%s: argument %d (%s) must be a decimal integer, not %q", s, i+1, name[1:], args[i])
		}
	}
	return nil
}

// Constant is a number other than an operation that both sides use.
type Constant struct {
	Name  string // Python's name
	Value int
}

// Constants are the rest of the contract's numbers, by the call that uses them.
var Constants = []Constant{
	// step(what, ...): the start-up steps (Step).
	{"STEP_PATH", int(StepPath)}, {"STEP_EVAL", int(StepEval)}, {"STEP_EXEC", int(StepExec)},
	{"STEP_WSGI_MODULE", int(StepWSGIModule)}, {"STEP_WSGI_FILE", int(StepWSGIFile)},
	{"STEP_POST_FORK", int(StepPostFork)}, {"STEP_CONFIG", int(StepConfig)}, {"STEP_PASTE", int(StepPaste)},
	{"STEP_VIRTUALENV", int(StepVirtualenv)}, {"STEP_MOUNT", int(StepMount)},
	{"STEP_MULE_LOOP", int(StepMuleLoop)}, {"STEP_SPOOLER_LOOP", int(StepSpoolerLoop)},
	// handle(...)'s result.
	{"HANDLED", Handled}, {"FAILED_BEFORE_HEADERS", FailedBeforeHeaders},
	{"FAILED_AFTER_HEADERS", FailedAfterHeaders}, {"NO_APP", NoApp},
	// send(...) and sendfile(...)'s results.
	{"SEND_OK", SendOK}, {"SEND_NOT_REGULAR", SendNotRegular}, {"SEND_CLIENT_GONE", SendClientGone},
	{"SEND_BAD_STATUS", SendBadStatus}, {"SEND_BAD_HEADER", SendBadHeader}, {"SEND_BAD_CALL", SendBadCall},
	// signal(signum, disposition).
	{"SIGNAL_DEFAULT", SignalDefault}, {"SIGNAL_IGNORE", SignalIgnore}, {"SIGNAL_HANDLE", SignalHandle},
	// rpc(...)'s result.
	{"RPC_DONE", RPCDone}, {"RPC_UNKNOWN", RPCUnknown}, {"RPC_FAILED", RPCFailed},
	// report(what, ...).
	{"REPORT_VERSION", reportVersion}, {"REPORT_APP", reportApp},
	// step(STEP_PART, ...) runs asgi.py, the ASGI part; its steps, asgi(op, ...)'s ops, flags
	// and results, and asgi_event(what, ...) (asgi.go).
	{"STEP_PART", int(StepPart)}, {"STEP_ASGI_MODULE", int(StepASGIModule)}, {"STEP_ASGI_FILE", int(StepASGIFile)},
	{"STEP_ASGI_STARTUP", int(StepASGIStartup)}, {"STEP_ASGI_SHUTDOWN", int(StepASGIShutdown)},
	{"STEP_ASGI_FORKED", int(StepASGIForked)},
	{"ASGI_HTTP", int(ASGIHTTP)}, {"ASGI_BODY", int(ASGIBody)}, {"ASGI_DISCONNECT", int(ASGIDisconnect)},
	{"ASGI_RUN", int(ASGIRun)}, {"ASGI_WEBSOCKET", int(ASGIWebSocket)}, {"ASGI_WS_MESSAGE", int(ASGIWSMessage)},
	{"ASGI_WS_CLOSED", int(ASGIWSClosed)}, {"ASGI_DRAINED", int(ASGIDrained)},
	{"ASGI_MORE", ASGIMore}, {"ASGI_POLL", ASGIPoll}, {"ASGI_BINARY", ASGIBinary}, {"ASGI_VARS", ASGIVars},
	{"ASGI_PENDING", ASGIPending}, {"ASGI_SEND_WAIT", ASGISendWait},
	{"ASGI_EVENT_LOOP", asgiEventLoop}, {"ASGI_EVENT_DONE", ASGIEventDone}, {"ASGI_EVENT_WANT", ASGIEventWant},
	{"ASGI_EVENT_WS_ACCEPT", ASGIEventWSAccept}, {"ASGI_EVENT_WS_SEND", ASGIEventWSSend}, {"ASGI_EVENT_WS_CLOSE", ASGIEventWSClose},
}

// pythonNames is the setup module's prelude: every constant and operation as a Python
// dict literal, and the cffi declaration of struct uwsgo_api taken from boundary.h.
func pythonNames() string {
	var b strings.Builder
	b.WriteString("{")
	for _, c := range Constants {
		fmt.Fprintf(&b, "%q: %d, ", c.Name, c.Value)
	}
	for _, s := range Ops {
		fmt.Fprintf(&b, "%q: %d, ", s.Name, s.Op)
	}
	fmt.Fprintf(&b, "%q: %q}", "UWSGO_API_CDEF", apiCdef())
	return b.String()
}

var structRE = regexp.MustCompile(`(?s)struct uwsgo_api \{.*?\n\};`)

// apiCdef is boundary.h's struct uwsgo_api, which cffi's cdef reads as it is.
func apiCdef() string { return structRE.FindString(boundaryHeader) }
