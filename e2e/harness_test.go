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
	"regexp"
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

// Server is a process a test started with Run: uwsgo, or a peer (nginx, uWSGI).
type Server struct {
	t     *testing.T
	Addr  string // host:port of its HTTP socket
	Cmd   *exec.Cmd
	out   *logBuffer
	done  chan struct{}
	stop  syscall.Signal // what ends it gracefully
	group bool           // in a process group of its own, killed whole
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
// it is ready: Run with HTTP().
func Start(t *testing.T, args ...string) *Server {
	t.Helper()
	return Run(t, args, HTTP())
}

// Run is the one way the tests start a process: uwsgo with args (or another program, see
// Via and OnHost), its output captured, stopped (SIGTERM, then SIGKILL) when the test
// ends. Unless told otherwise it waits (20 s at most) for a " ready (" line in the output,
// and fails the test if none comes.
func Run(t *testing.T, args []string, opts ...Option) *Server {
	t.Helper()
	r := run{within: 20 * time.Second, ready: " ready (", stop: syscall.SIGTERM}
	for _, o := range opts {
		o(&r)
	}
	if r.http {
		r.addr = freeAddr(t)
		args = append([]string{"--http-socket", r.addr}, args...)
	}
	argv := append(append([]string{}, r.program...), args...)
	if len(r.program) == 0 {
		argv = append([]string{binary}, args...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.dir
	if r.stdin != nil { // a nil *os.File would be a non-nil io.Reader
		cmd.Stdin = r.stdin
	}
	if r.env != nil || r.unset != nil {
		cmd.Env = append(environWithout(r.unset), r.env...)
	}
	s := &Server{t: t, Addr: r.addr, Cmd: cmd, out: &logBuffer{}, done: make(chan struct{}), stop: r.stop}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if r.setup != nil {
		r.setup(cmd, s.out)
	}
	if r.onHost {
		// A peer's children (nginx's workers) go with it, whatever happens to it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		s.group = true
	} else {
		rooted(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", strings.Join(argv, " "), err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	if r.ready == "" && r.readyRE == nil && r.serving == "" {
		return s
	}
	if !s.poll(r.within, func() bool { return r.isReady(s) }) {
		t.Fatalf("%s (dir %q) did not become ready within %v; its output:\n%s%s", strings.Join(argv, " "), cmd.Dir, r.within, s.Log(), r.explain())
	}
	return s
}

// run is what Run's options set.
type run struct {
	http    bool
	addr    string
	program []string // argv before the arguments; none: uwsgo
	onHost  bool
	env     []string
	unset   []string
	dir     string
	stdin   *os.File
	setup   func(*exec.Cmd, io.Writer)
	stop    syscall.Signal

	ready   string         // the line that says ready ("": none)
	readyRE *regexp.Regexp // instead of ready
	logFile string         // where to look for it; "": the output
	serving string         // and an address that accepts connections ("": none)
	within  time.Duration
	more    func() string // what explains a failure beyond the output
}

func (r *run) isReady(s *Server) bool {
	if r.serving != "" && !dialable(r.serving) {
		return false
	}
	if r.ready == "" && r.readyRE == nil {
		return true
	}
	text := s.Log()
	if r.logFile != "" {
		b, _ := os.ReadFile(r.logFile)
		text = string(b)
	}
	if r.readyRE != nil {
		return r.readyRE.MatchString(text)
	}
	return strings.Contains(text, r.ready)
}

func (r *run) explain() string {
	var more string
	if r.logFile != "" {
		b, _ := os.ReadFile(r.logFile)
		more = "\n" + r.logFile + ":\n" + string(b)
	}
	if r.more != nil {
		more += "\n" + r.more()
	}
	return more
}

// dialable says whether something accepts connections at addr (host:port, or a UNIX
// socket's path).
func dialable(addr string) bool {
	network := "tcp"
	if strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "@") {
		network = "unix"
	}
	c, err := net.DialTimeout(network, addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// An Option changes how Run starts a process or what it waits for.
type Option func(*run)

// HTTP adds --http-socket on a free port, which becomes the Server's Addr.
func HTTP() Option { return func(r *run) { r.http = true } }

// Env adds variables to the process's environment; later ones win.
func Env(kv ...string) Option { return func(r *run) { r.env = append(r.env, kv...) } }

// Unset removes variables from the environment the process inherits: NAME, or every
// name starting with PREFIX for "PREFIX*".
func Unset(names ...string) Option { return func(r *run) { r.unset = append(r.unset, names...) } }

// Dir runs the process in dir.
func Dir(dir string) Option { return func(r *run) { r.dir = dir } }

// Stdin gives the process f as its standard input (by default the null device).
func Stdin(f *os.File) Option { return func(r *run) { r.stdin = f } }

// Via runs argv followed by the arguments instead of uwsgo, in the root like uwsgo (a
// shell that starts it, an interpreter that loads libuwsgo, uWSGI itself).
func Via(argv ...string) Option { return func(r *run) { r.program = argv } }

// OnHost runs argv followed by the arguments on the host even when the tests run in a
// root: the peers (nginx) and the tools that start uwsgo themselves (with uwsgoArgv).
func OnHost(argv ...string) Option {
	return func(r *run) { r.program, r.onHost = argv, true }
}

// Setup changes the command before it starts; out is where the Server's log collects.
func Setup(f func(cmd *exec.Cmd, out io.Writer)) Option { return func(r *run) { r.setup = f } }

// NoWait returns as soon as the process started: the test decides what "ready" means.
func NoWait() Option { return func(r *run) { r.ready, r.readyRE, r.serving = "", nil, "" } }

// ReadyLine waits for a line containing substr instead of " ready (" ("": no line).
func ReadyLine(substr string) Option { return func(r *run) { r.ready = substr } }

// Serving waits, beyond the ready line, until addr accepts connections.
func Serving(addr string) Option { return func(r *run) { r.serving = addr } }

// Explain adds what more tells to the failure of a process that did not become ready.
func Explain(more func() string) Option { return func(r *run) { r.more = more } }

// StopWith is the signal that ends the process gracefully, instead of SIGTERM.
func StopWith(sig syscall.Signal) Option { return func(r *run) { r.stop = sig } }

// ReadyWhen waits for a line matching re instead of " ready (".
func ReadyWhen(re *regexp.Regexp) Option { return func(r *run) { r.readyRE = re } }

// ReadyIn looks for the ready line in file (uwsgo's --logto) instead of the output.
func ReadyIn(file string) Option { return func(r *run) { r.logFile = file } }

// Within waits up to d for ready instead of 20 s.
func Within(d time.Duration) Option { return func(r *run) { r.within = d } }

// environWithout is the test's environment without the names (see Unset).
func environWithout(names []string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if p, ok := strings.CutSuffix(n, "*"); (ok && strings.HasPrefix(name, p)) || name == n {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

// eventually calls cond until it is true (true) or d passes (false): how the tests wait
// for an event, never a fixed sleep.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// poll calls f until it is true (true), or the process exits with f still false, or d
// passes (false).
func (s *Server) poll(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-s.done:
			return f()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server gracefully, or kills it after 10 s.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.Cmd.Process.Signal(s.stop)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		if s.group {
			// The leader is still alive, so the group is still ours.
			syscall.Kill(-s.Cmd.Process.Pid, syscall.SIGKILL)
		} else {
			s.Cmd.Process.Kill()
		}
		<-s.done
		s.t.Errorf("%s did not stop within 10 s of %v; its output:\n%s", s.Cmd.Path, s.stop, s.Log())
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

// ExitWithin waits up to d for a process expected to stop by itself, and returns its
// exit status and output; it fails the test if the process is still running.
func (s *Server) ExitWithin(d time.Duration) (int, string) {
	s.t.Helper()
	code := s.Exited(d)
	if code == -1 {
		s.t.Fatalf("%s still running after %v; output:\n%s", strings.Join(s.Cmd.Args, " "), d, s.Log())
	}
	return code, s.Log()
}

// Log is everything the server printed so far.
func (s *Server) Log() string { return s.out.String() }

// WaitLog waits until the output contains substr, or the process exits, or d passes.
func (s *Server) WaitLog(substr string, d time.Duration) bool {
	return s.poll(d, func() bool { return strings.Contains(s.Log(), substr) })
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
