package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A SIGINT during start-up stops it, even when the process inherited SIGINT ignored, as
// "cmd &" in a script leaves it: uwsgo takes the signal before PyPy loads, and stops
// gracefully once the app is loaded instead of serving. Before, the signal was lost and
// the instance went on to serve.
func TestRelSignalDuringStartUp(t *testing.T) {
	t.Parallel()
	for _, extra := range [][]string{nil, {"--master"}} {
		args := append([]string{"--http-socket", freeAddr(t), "--pypy-wsgi-file", testdata("rel_app.py"),
			"--pypy-eval", "print('rel_app loading', flush=True); import time; time.sleep(2)"}, extra...)
		// A non-interactive shell starts a background command with SIGINT and SIGQUIT ignored.
		s := Run(t, args, Via("sh", "-c", `"$@" & echo "background pid $!"; wait $!`, "sh", binary), NoWait())
		if !s.WaitLog("rel_app loading", 20*time.Second) {
			t.Fatalf("%v: the start-up did not begin; output:\n%s", extra, s.Log())
		}
		m := regexp.MustCompile(`background pid (\d+)`).FindStringSubmatch(s.Log())
		if m == nil {
			t.Fatalf("no pid in:\n%s", s.Log())
		}
		pid, _ := strconv.Atoi(m[1])
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		syscall.Kill(pid, syscall.SIGINT)
		if code := s.Exited(20 * time.Second); code != 0 {
			t.Fatalf("%v: after a SIGINT during start-up: exit status %d (-1: still running); output:\n%s", extra, code, s.Log())
		}
		if strings.Contains(s.Log(), " ready (") || !strings.Contains(s.Log(), "during start-up") {
			t.Fatalf("%v: the start-up should have been stopped, not served; output:\n%s", extra, s.Log())
		}
	}
}
