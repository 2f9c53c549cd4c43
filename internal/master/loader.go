package master

// The loader role (pre-fork, uWSGI's model and the default with a master; --lazy-apps
// turns it off): one process loads PyPy and the app, and the workers are forked from it.
// Its mechanism is in internal/pypy (zygote.go); here is its place among the processes.
//
// The master starts a loader like a worker and, on a goroutine of its own, has it run the
// start-up steps up to the fork (worker.LoadApp, so the order, the hooks and --need-app
// are the same as in a worker) and the warm-up requests. Once it is ready, every worker
// the master starts is forked from it: the first ones, a respawn, a replacement. A reload
// (SIGHUP, --touch-reload, the FIFO's r, w and c) starts a new loader, which loads the code
// as it is on disk now, and replaces the workers once it is ready, then lets the old one
// go; if the new one fails, the workers of the old one go on serving. The master is a
// child subreaper, so a forked worker is its child (see pypy.Loader.Fork).

import (
	"bufio"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"uwsgo/internal/child"
	"uwsgo/internal/instance"
	"uwsgo/internal/proto"
	"uwsgo/internal/pypy"
	"uwsgo/internal/worker"
)

// loader is a loader process.
type loader struct {
	pid     int
	process *os.Process
	ctl     *os.File
	client  *pypy.Loader
	ready   bool
	gone    bool // exited, or let go
	reload  reloadKind
	fails   int // loaders that failed in a row before this one
}

// reloadKind is what a new loader does with the workers there are once it is ready.
type reloadKind int

const (
	keepWorkers  reloadKind = iota // the first loader, or one in place of a loader that died
	replaceAll                     // a reload: every worker is replaced
	replaceChain                   // a chain reload: one at a time
)

// loaderEvent is a loader's outcome: loaded (err nil), failed, or exited; or, with l nil,
// the time to start a new one after retry loaders that failed or died in a row.
type loaderEvent struct {
	l      *loader
	err    error
	exited *os.ProcessState
	retry  int
}

// preforks says whether workers are forked from a loader.
func (m *Master) preforks() bool {
	return !m.cfg.Processes.LazyApps && !instance.LibraryMode
}

// startLoader starts a loader: the instance's first, a reload's, or one in place of a
// loader that failed (fails in a row) or died.
func (m *Master) startLoader(reload reloadKind, fails int) {
	if m.next != nil {
		m.letGo(m.next) // a reload during a reload: the newer code wins
	}
	l := &loader{reload: reload, fails: fails}
	m.next = l
	// The master's end stays non-blocking (pypy.Loader); the loader's blocks.
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err == nil {
		err = syscall.SetNonblock(pair[1], false)
	}
	if err != nil {
		m.loaderFailed(l, fmt.Errorf("socketpair: %w", err))
		return
	}
	l.ctl = os.NewFile(uintptr(pair[0]), "loader control")
	theirs := os.NewFile(uintptr(pair[1]), "master control")
	defer theirs.Close()
	files := append([]uintptr{theirs.Fd(), m.board.File().Fd(), m.shared.Segment.File().Fd()}, m.fds...)
	spec := child.Spec{Role: child.Loader, Record: -1, Records: m.board.Records()}
	for _, s := range m.in.Sockets {
		spec.Protocols = append(spec.Protocols, s.Proto)
	}
	env := append(spec.Environ(os.Environ(), m.cfg.Encode()), pypy.LoaderEnv+"=1")
	// The spaces leave room for the name of a worker forked from it (zygote.c). With
	// --honour-stdin it stays in the foreground process group: an interactive
	// --pypy-eval reads the terminal there (a background group would be stopped).
	process, err := m.forkExecIn("uwsgo loader"+strings.Repeat(" ", 8), env, files, !m.cfg.Processes.HonourStdin)
	if err != nil {
		l.ctl.Close()
		m.loaderFailed(l, err)
		return
	}
	l.process, l.pid = process, process.Pid
	l.client = pypy.NewLoader(l.ctl)
	m.log.Printf("master: loader (pid %d) loading the app", l.pid)
	go func() {
		m.events <- event{loader: &loaderEvent{l: l, err: m.load(l)}}
	}()
	go func() {
		st, _ := process.Wait()
		m.events <- event{loader: &loaderEvent{l: l, exited: st}}
	}()
}

// load has the loader load PyPy and the app, then warm it up; on its own goroutine.
func (m *Master) load(l *loader) error {
	logger := log.New(m.log.Writer(), "loader: ", m.log.Flags()|log.Lmsgprefix)
	in, err := pypy.Locate(m.cfg.PyPy.Home, m.cfg.PyPy.Lib, os.Getenv, pypy.LookPath)
	if err != nil {
		return err
	}
	setup, name, err := worker.SetupModule(m.cfg)
	if err != nil {
		return err
	}
	rt, err := l.client.Start(in, setup, name, m.cfg.Processes.HonourStdin, []string{child.EnvSpec, child.EnvConfig, child.EnvRole})
	if err != nil {
		return err
	}
	logger.Printf("%s; home %s (from %s); library %s", rt.Version, rt.Home, rt.HomeSource, rt.Lib)
	env := worker.Env{Processes: m.n, MasterPID: os.Getpid()}
	if err := worker.LoadApp(m.cfg, logger, env, l.client); err != nil {
		return err
	}
	if err := l.client.Err(); err != nil {
		return err
	}
	return m.warmup(l, logger)
}

// warmup runs --warmup-requests requests per --warmup URI through the loaded app.
func (m *Master) warmup(l *loader, logger *log.Logger) error {
	n := m.cfg.Processes.WarmupRequests
	for _, uri := range m.cfg.Processes.Warmup {
		vars, err := warmupVars(uri)
		if err != nil {
			return fmt.Errorf("--warmup %s: %w", uri, err)
		}
		start := time.Now()
		bad, first, err := l.client.Warmup(vars, n)
		if err != nil {
			return fmt.Errorf("--warmup %s: %w", uri, err)
		}
		logger.Printf("warm-up: %d requests to %s in %v", n, uri, time.Since(start).Round(time.Millisecond))
		if bad > 0 {
			logger.Printf("warm-up: %d of the %d requests to %s were not 2xx (the first: %s)", bad, n, uri, first)
		}
	}
	return nil
}

// warmupVars is the vars block of a GET of uri (a path: options checked it), made as a
// request from a client would be.
func warmupVars(uri string) ([]byte, error) {
	head := "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: uwsgo-warmup\r\n\r\n"
	var req proto.Request
	if err := proto.ReadRequest(bufio.NewReader(strings.NewReader(head)), proto.Limits{}, &req); err != nil {
		return nil, err
	}
	return req.AppendVars(nil, &proto.ConnInfo{ServerName: "localhost", ServerPort: "80", RemoteAddr: "127.0.0.1", RemotePort: "0"}, -1), nil
}

func (m *Master) onLoader(e *loaderEvent) {
	l := e.l
	switch {
	case l == nil:
		if m.loader == nil && m.next == nil && m.exiting == "" {
			m.startLoader(keepWorkers, e.retry)
		}
	case e.exited != nil:
		letGo := l.gone
		l.gone = true
		if m.loader == l {
			m.loader = nil
		}
		switch {
		case letGo || m.exiting != "":
		case !l.ready:
			m.loaderFailed(l, errors.New(describeExit(e.exited)))
		default:
			// After a growing delay if it keeps dying: each one loads the app again.
			delay := backoff(l.fails + 1)
			m.log.Printf("master: loader (pid %d) %s: starting a new one in %v; the workers go on serving", l.pid, describeExit(e.exited), delay)
			time.AfterFunc(delay, func() { m.events <- event{loader: &loaderEvent{retry: l.fails + 1}} })
		}
	case l.gone:
	case errors.Is(e.err, pypy.ErrLoaderGone):
		// Its exit status, which comes next, says more.
	case e.err != nil:
		m.loaderFailed(l, e.err)
	default:
		m.loaderReady(l)
	}
}

func (m *Master) loaderReady(l *loader) {
	if l.reload != keepWorkers && l.client.App() == "" && m.loader != nil && m.loader.client.App() != "" {
		// Workers that answer 500 would replace workers that serve: keep these.
		m.loaderFailed(l, errors.New("the new code loaded no app (why is above)"))
		return
	}
	l.ready = true
	m.log.Printf("master: loader (pid %d) has loaded app %s", l.pid, l.client.App())
	if m.next == l {
		m.next = nil
	}
	old := m.loader
	m.loader = l
	if old != nil {
		m.letGo(old)
	}
	if m.exiting != "" {
		m.letGo(l)
		return
	}
	for id := 1; id <= m.active; id++ {
		switch p := m.current(id); {
		case p == nil:
			m.spawn(id, nil)
		case l.reload == replaceAll:
			m.spawn(id, p)
		}
	}
	if l.reload == replaceChain {
		m.startChain()
	}
}

// loaderFailed gives up on l: a reload's keeps the workers there are; the first one is
// tried again after a while, or stops the instance with --need-app.
func (m *Master) loaderFailed(l *loader, err error) {
	m.letGo(l)
	if m.next == l {
		m.next = nil
	}
	if f, ok := err.(*worker.Failure); ok && f.Status == worker.ExitNoApp {
		m.log.Printf("master: the loader could not load the app and --need-app is set: %v", err)
		m.status = worker.ExitNoApp
		m.shutdown("--need-app", false)
		return
	}
	if m.loader != nil {
		m.log.Printf("master: the reload failed, the workers there are go on serving: %v", err)
		if m.reloading {
			m.notifyReady() // systemd: the reload is over
		}
		return
	}
	delay := backoff(l.fails + 1)
	who := "loader"
	if l.pid != 0 {
		who = fmt.Sprintf("loader (pid %d)", l.pid)
	}
	m.log.Printf("master: %s %v during start-up (%d time(s) in a row): respawning in %v", who, err, l.fails+1, delay)
	time.AfterFunc(delay, func() { m.events <- event{loader: &loaderEvent{retry: l.fails + 1}} })
}

// letGo ends a loader: its socket's end tells it to exit; one busy loading is killed.
func (m *Master) letGo(l *loader) {
	if l.gone || l.process == nil {
		return
	}
	l.gone = true
	l.ctl.Close() // a call in progress on the load goroutine fails
	if !l.ready {
		l.process.Kill()
	}
}

// fork makes worker id on scoreboard record record from the current loader.
func (m *Master) fork(id, record int, ctl *os.File) (*os.Process, error) {
	l := m.loader
	pid, err := l.client.Fork(id, record, int(ctl.Fd()))
	if err != nil && l.client.Err() != nil {
		// No more talking to it: a new loader takes its place and starts what is missing.
		m.log.Printf("master: loader (pid %d): %v: starting a new one", l.pid, err)
		m.letGo(l)
		m.loader = nil
		m.startLoader(keepWorkers, 0)
	}
	if err != nil {
		return nil, err
	}
	return os.FindProcess(pid)
}

// becomeSubreaper makes the master the parent of the workers its loaders fork.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
