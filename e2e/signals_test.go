package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Python's signal.signal() must not take a signal from Go: a handler for a signal uwsgo
// does not use is called when the signal comes, one for a signal uwsgo uses (SIGTERM) is
// refused with a log line, and SIGTERM still stops the server gracefully.
func TestSignalsPythonHandlersGoThroughGo(t *testing.T) {
	s := Start(t, "--pypy-wsgi-file", testdata("signals_app.py"))
	if !strings.Contains(s.Log(), "signal.signal(SIGTERM) from Python ignored") {
		t.Fatalf("registering a SIGTERM handler should be refused with a log line; output:\n%s", s.Log())
	}
	if _, body := s.Get("/"); body != "[]" {
		t.Fatalf("before any signal the app saw %s", body)
	}
	s.Cmd.Process.Signal(syscall.SIGUSR1)
	var body string
	if !eventually(10*time.Second, func() bool { _, body = s.Get("/"); return body == fmt.Sprint("[", int(syscall.SIGUSR1), "]") }) {
		t.Fatalf("the app's SIGUSR1 handler was not called: it saw %s; output:\n%s", body, s.Log())
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(10 * time.Second); code != 0 {
		t.Fatalf("SIGTERM should stop the server with status 0, got %d; output:\n%s", code, s.Log())
	}
}
