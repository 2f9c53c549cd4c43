package e2e

// --honour-stdin and the seed's "IPython trick": a --pypy-eval that opens an interactive
// shell on the terminal the server was started from. The terminal is a real pseudo-
// terminal made here with golang.org/x/sys/unix (already a dependency of the module).

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// masterOpenPTY opens a new pseudo-terminal and returns its controlling side and the
// terminal a process can be given.
func masterOpenPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	ptm = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		t.Fatalf("naming the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		t.Fatalf("opening /dev/pts/%d: %v", n, err)
	}
	return ptm, tty
}

// masterStartOnTTY runs uwsgo with args on a new terminal (stdin, stdout and stderr, and
// its controlling terminal); everything it writes there collects in the returned
// Server's log. The returned file types to the terminal.
func masterStartOnTTY(t *testing.T, args ...string) (*Server, *os.File) {
	t.Helper()
	ptm, tty := masterOpenPTY(t)
	s := &Server{t: t, out: &logBuffer{}, done: make(chan struct{})}
	s.Cmd = exec.Command(binary, args...)
	s.Cmd.Stdin, s.Cmd.Stdout, s.Cmd.Stderr = tty, tty, tty
	s.Cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := rooted(s.Cmd).Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptm.Read(buf)
			s.out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() { s.Cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.Stop(); ptm.Close() })
	return s, ptm
}

// master42RE finds the line "42" on the terminal once its escape sequences are removed
// (PyPy's shell edits the line with them).
var master42RE = regexp.MustCompile(`(?m)^\r?42\r?$`)

var masterEscapeRE = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z@]|[=>])`)

func master42(screen string) bool {
	return master42RE.MatchString(masterEscapeRE.ReplaceAllString(screen, ""))
}

// The IPython trick, with the standard library's shell: --pypy-eval "import code;
// code.interact()" --honour-stdin on a terminal shows the >>> prompt, evaluates what is
// typed (1+41 prints 42), and once the shell gets end-of-file (Ctrl-D) start-up goes on:
// the app loads and the server answers HTTP. Nothing serves before that.
func TestMasterHonourStdinInteractive(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	s, term := masterStartOnTTY(t, "--http-socket", addr, "--pypy-wsgi-file", masterApp(),
		"--pypy-eval", "import code; code.interact()", "--honour-stdin")
	s.Addr = addr
	if !s.WaitLog(">>> ", 20*time.Second) {
		t.Fatalf("no >>> prompt on the terminal; it shows:\n%q", s.Log())
	}
	if _, err := term.WriteString("1+41\r"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !master42(s.Log()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !master42(s.Log()) {
		t.Fatalf("typing 1+41 did not print 42; the terminal shows:\n%q", s.Log())
	}
	if masterReadyInstanceRE.MatchString(s.Log()) || strings.Contains(s.Log(), "app loaded") {
		t.Fatalf("the app loaded while the shell of --pypy-eval was still open:\n%q", s.Log())
	}
	if _, err := term.Write([]byte{4}); err != nil { // Ctrl-D: end of file for the shell
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for !masterReadyInstanceRE.MatchString(s.Log()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !masterReadyInstanceRE.MatchString(s.Log()) {
		t.Fatalf("after Ctrl-D the server did not become ready; the terminal shows:\n%q", s.Log())
	}
	code, body, err := masterFetch(masterNewClient(), s.URL("/pid"))
	if err != nil || code != 200 || body != fmt.Sprint(s.Cmd.Process.Pid) {
		t.Errorf("after the shell, GET /pid: %d %q %v; want 200 from pid %d", code, body, err, s.Cmd.Process.Pid)
	}
}

// Without --honour-stdin the same start-up does not wait for the terminal: stdin is
// /dev/null, so the shell ends at once and the server becomes ready untouched.
func TestMasterStdinIsDevNullByDefault(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	s, _ := masterStartOnTTY(t, "--http-socket", addr, "--pypy-wsgi-file", masterApp(),
		"--pypy-eval", "import code; code.interact()")
	s.Addr = addr
	deadline := time.Now().Add(20 * time.Second)
	for !masterReadyInstanceRE.MatchString(s.Log()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !masterReadyInstanceRE.MatchString(s.Log()) {
		t.Fatalf("without --honour-stdin the shell should get end-of-file from /dev/null and start-up go on; the terminal shows:\n%q", s.Log())
	}
	if code, _, err := masterFetch(masterNewClient(), s.URL("/pid")); err != nil || code != 200 {
		t.Errorf("GET /pid: %d %v", code, err)
	}
}
