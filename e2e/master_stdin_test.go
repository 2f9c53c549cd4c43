package e2e

// --honour-stdin and the seed's "IPython trick": a --pypy-eval that opens an interactive
// shell on the terminal the server was started from. The terminal is a real pseudo-
// terminal made here with golang.org/x/sys/unix (already a dependency of the module).

import (
	"fmt"
	"io"
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

// masterOnTTY is Run's option that gives uwsgo a new terminal (stdin, stdout and
// stderr, and its controlling terminal); everything written there collects in the
// Server's log. It returns the file that types to the terminal, and the terminal's end,
// which the test closes once the process started (so that the process alone holds it).
func masterOnTTY(t *testing.T) (opt Option, ptm, tty *os.File) {
	t.Helper()
	ptm, tty = masterOpenPTY(t)
	t.Cleanup(func() { ptm.Close() }) // after the Server's Stop: cleanups run last first
	return Setup(func(cmd *exec.Cmd, out io.Writer) {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		go io.Copy(out, ptm)
	}), ptm, tty
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
	onTTY, term, tty := masterOnTTY(t)
	s := Run(t, []string{"--http-socket", addr, "--pypy-wsgi-file", masterApp(),
		"--pypy-eval", "import code; code.interact()", "--honour-stdin"}, onTTY, NoWait())
	tty.Close()
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
	onTTY, _, tty := masterOnTTY(t)
	s := Run(t, []string{"--http-socket", addr, "--pypy-wsgi-file", masterApp(),
		"--pypy-eval", "import code; code.interact()"}, onTTY, NoWait())
	tty.Close()
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
