package worker

import (
	"log"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"uwsgo/internal/pypy"
)

// reserved are the signals uwsgo (or Go's runtime) acts on itself: an app cannot take
// them, it would break stopping or scheduling.
var reserved = map[syscall.Signal]string{
	syscall.SIGINT:  "uwsgo stops gracefully on it",
	syscall.SIGTERM: "uwsgo stops gracefully on it",
	syscall.SIGQUIT: "uwsgo stops at once on it",
	syscall.SIGUSR2: "uwsgo reopens its log file on it",
	syscall.SIGURG:  "Go's scheduler preempts goroutines with it",
	syscall.SIGPROF: "Go's profiler uses it",
	syscall.SIGCHLD: "uwsgo reaps its children with it",
	syscall.SIGPIPE: "uwsgo handles broken connections itself",
	syscall.SIGSEGV: "a crash must stay a crash",
	syscall.SIGBUS:  "a crash must stay a crash",
	syscall.SIGFPE:  "a crash must stay a crash",
	syscall.SIGILL:  "a crash must stay a crash",
}

// unixSignals carries out what Python code asks with signal.signal() (Unix signals; the
// uWSGI signals of uwsgi.signal() are package uwsgisignal): Go watches the signal and,
// when it comes, calls the app's handler in Python, holding a slot like any request
// (inPython). Signals that come before serving starts wait in the channel.
type unixSignals struct {
	log     *log.Logger
	arrived chan os.Signal
}

func newUnixSignals(logger *log.Logger) *unixSignals {
	return &unixSignals{log: logger, arrived: make(chan os.Signal, 16)}
}

// route is the pypy package's signal router.
func (a *unixSignals) route(sig syscall.Signal, disposition int) bool {
	if why, ok := reserved[sig]; ok {
		a.log.Printf("signal.signal(%s) from Python ignored: %s", unix.SignalName(sig), why)
		return false
	}
	switch disposition {
	case pypy.SignalHandle:
		signal.Notify(a.arrived, sig)
	case pypy.SignalIgnore:
		signal.Ignore(sig)
	default:
		signal.Reset(sig)
	}
	return true
}

// deliver runs handlers as their signals arrive, once Python may be called.
func (a *unixSignals) deliver(inPython func(func())) {
	for sig := range a.arrived {
		inPython(func() { pypy.DeliverSignal(sig.(syscall.Signal)) })
	}
}
