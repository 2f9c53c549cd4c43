// Package e2e runs the real uwsgo binary on the real PyPy with real sockets and clients.
// Nothing here mocks PyPy: a test that needs it and cannot find it fails.
//
// With $UWSGO_E2E_ROOT set to a Debian root (scripts/e2e-root makes one with PyPy 3.11 and
// runs the suite there), every uwsgo and every PyPy the tests start runs chrooted in it,
// in the same directory: the checkout and /tmp are mounted there at the same paths, so
// test data, temporary files and loopback ports are the same on both sides. The peers
// (nginx, uWSGI's CPython nodes, the HTTP clients) stay on the host.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

// root is the Debian root the PyPy under test lives in; "" is the host.
var root = os.Getenv("UWSGO_E2E_ROOT")

// rooted makes cmd run in root (when there is one), in the directory it would have run in.
// A cmd not yet started only.
func rooted(cmd *exec.Cmd) *exec.Cmd {
	if root == "" {
		return cmd
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Chroot = root
	if cmd.Dir == "" {
		// After chroot the inherited working directory is outside the root.
		wd, err := os.Getwd()
		if err != nil {
			panic(err)
		}
		cmd.Dir = wd
	}
	return cmd
}

// uwsgoArgv is how another program (systemd-socket-activate) runs uwsgo: through chroot
// when the tests run in root.
func uwsgoArgv() []string {
	if root == "" {
		return []string{binary}
	}
	return []string{"/usr/sbin/chroot", root, binary}
}

// inRoot is the host's name for a path of the PyPy's system: /usr/lib/pypy3.11 in the root.
func inRoot(path string) string { return filepath.Join("/", root, path) }

// rootStat is os.Stat of a path as uwsgo sees it: a symlink's absolute target (the tests'
// links to /usr/lib/...) is followed in root, not on the host.
func rootStat(path string) (os.FileInfo, error) {
	for range 40 {
		target, err := os.Readlink(inRoot(path))
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return os.Stat(inRoot(path))
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "uwsgo-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "uwsgo")
	build := exec.Command("go", "build", "-o", binary, "uwsgo/cmd/uwsgo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building uwsgo:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testdata returns the absolute path of a file in testdata/.
func testdata(name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return p
}

// logBuffer collects a process's output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Server is a running uwsgo.
type Server struct {
	t    *testing.T
	Addr string // host:port of its HTTP socket
	Cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs uwsgo with args and --http-socket on a free port, and waits until it says
// it is ready. The server is stopped (SIGTERM, then SIGKILL) when the test ends.
func Start(t *testing.T, args ...string) *Server {
	t.Helper()
	addr := freeAddr(t)
	s := StartWith(t, append([]string{"--http-socket", addr}, args...)...)
	s.Addr = addr
	return s
}

// StartWith runs uwsgo with exactly args (the caller names the sockets) and waits for ready.
func StartWith(t *testing.T, args ...string) *Server {
	t.Helper()
	s := Launch(t, exec.Command(binary, args...))
	s.MustBeReady()
	return s
}

// Launch starts cmd (uwsgo, with whatever arguments, environment, directory or stdin the
// test needs) with its output captured, and stops it when the test ends. It waits for
// nothing.
func Launch(t *testing.T, cmd *exec.Cmd) *Server {
	t.Helper()
	s := &Server{t: t, Cmd: cmd, out: &logBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := rooted(cmd).Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	return s
}

// MustBeReady waits (20 s at most) for the server's " ready (" line, or fails the test.
func (s *Server) MustBeReady() {
	s.t.Helper()
	if !s.WaitLog(" ready (", 20*time.Second) {
		s.t.Fatalf("uwsgo %s (dir %q) did not become ready; its output:\n%s", strings.Join(s.Cmd.Args[1:], " "), s.Cmd.Dir, s.Log())
	}
}

// Stop ends the server gracefully, or kills it after 10 s.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.Cmd.Process.Kill()
		<-s.done
		s.t.Errorf("uwsgo did not stop within 10 s of SIGTERM; its output:\n%s", s.Log())
	}
}

// Exited waits up to d for the process to end and returns its exit status (-1: still running).
func (s *Server) Exited(d time.Duration) int {
	select {
	case <-s.done:
		return s.Cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// Log is everything the server printed so far.
func (s *Server) Log() string { return s.out.String() }

// WaitLog waits until the output contains substr, or the process exits, or d passes.
func (s *Server) WaitLog(substr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(s.Log(), substr) {
			return true
		}
		select {
		case <-s.done:
			return strings.Contains(s.Log(), substr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// URL is the http:// URL of path on the server.
func (s *Server) URL(path string) string { return "http://" + s.Addr + path }

// Get fetches path and returns the response with its body read.
func (s *Server) Get(path string) (*http.Response, string) {
	s.t.Helper()
	resp, err := http.Get(s.URL(path))
	if err != nil {
		s.t.Fatalf("GET %s: %v\nserver output:\n%s", path, err, s.Log())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp, string(b)
}

// Raw writes request bytes on a new connection, half-closes it, and returns everything
// the server sends until it closes the connection (or 5 s pass).
func (s *Server) Raw(request string) string {
	s.t.Helper()
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		s.t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	return string(b)
}

// Dial opens a raw connection to the server with a buffered reader for its answers.
func (s *Server) Dial() (net.Conn, *bufio.Reader) {
	s.t.Helper()
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// RunToExit runs uwsgo with args expecting it to stop by itself within d; it returns the
// exit status and the output.
func RunToExit(t *testing.T, d time.Duration, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := rooted(cmd).Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode(), out.String()
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("uwsgo %s still running after %v; output:\n%s", strings.Join(args, " "), d, out.String())
		return -1, ""
	}
}
