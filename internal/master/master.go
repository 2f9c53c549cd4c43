// Package master is uWSGI's master process in Go: it owns the sockets and the scoreboard,
// starts the workers, restarts the ones that die, reloads them gracefully, kills the ones
// stuck past --harakiri, recycles them on their limits, and stops them all on a signal.
//
// Go cannot fork a running runtime, so a child is a new execution of the binary
// (--binary-path, by default the running one, or in library mode the launcher run by the
// same PyPy: see instance.Relaunch) that inherits the scoreboard, the shared state, a
// control socket and, for a worker, the sockets, and gets the master's parsed
// configuration: package child is that contract. A child has a role: a worker, a mule or
// a spooler; all are one type here (proc) started one way (start). By default (pre-fork,
// loader.go) a worker is not executed but forked from a process of the loader role that
// loaded PyPy and the app once; with --lazy-apps, and in library mode, every worker loads
// PyPy and the app itself.
//
// All decisions are taken on one goroutine (run), from events: a worker ready or exited,
// a signal, a FIFO command, the one-second tick. Nothing else touches the process table,
// so it needs no lock. Workers report their counters through the scoreboard.
//
// A reload never leaves a worker id without a process accepting: the new worker starts
// next to the old one, and the old one is told to finish its requests (SIGTERM) only once
// the new one serves; it is killed if it takes longer than --worker-reload-mercy.
package master

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"uwsgo/internal/child"
	"uwsgo/internal/hooks"
	"uwsgo/internal/instance"
	"uwsgo/internal/options"
	"uwsgo/internal/shm/scoreboard"
	"uwsgo/internal/shm/shared"
	"uwsgo/internal/stats"
	"uwsgo/internal/uwsgisignal"
	"uwsgo/internal/worker"
)

// proc is one process the master started, of any role: a worker (it serves requests,
// has a scoreboard record and is replaced gracefully) or a mule or spooler (aux.go). All
// are started the same way (start) and report through the same events.
type proc struct {
	role       child.Role
	id         int    // uWSGI's id within its role, from 1
	arg        string // a mule's script or a spooler's directory
	record     int    // a worker's scoreboard record; -1 for the other roles
	process    *os.Process
	pid        int
	ctl        *child.Conn
	spawned    time.Time
	ready      bool // a worker serves
	app        string
	replaces   *proc     // the process this one takes over from, stopped once this one is ready
	replacedBy *proc     // set while a replacement is starting
	stopping   string    // why it was asked to stop ("" while it is wanted)
	killAt     time.Time // when it is killed if still there
}

// String names p as the logs do: "worker 2", "mule 1".
func (p *proc) String() string { return p.role.String() + " " + strconv.Itoa(p.id) }

type event struct {
	from    *proc
	msg     child.Message
	exited  *proc
	status  *os.ProcessState
	signal  os.Signal
	command byte
	respawn int   // a worker id whose delayed respawn is due
	replace *proc // with respawn: the process the new one was to replace, if any
	loader  *loaderEvent
	aux     *aux // a mule or spooler whose delayed respawn is due
}

// Master is a running master process.
type Master struct {
	cfg          *options.Config
	log          *log.Logger
	in           *instance.Instance
	fds          []uintptr // the sockets, as handed to workers
	board        *scoreboard.Board
	shared       *shared.State
	uwsgiSignals *uwsgisignal.Router
	nextOne      int // round robin of signals for "worker"
	aux          []*aux
	daemons      []*daemon
	daemonEvents chan daemonEvent
	cron         []cronJob
	cronMinute   time.Time // the last minute the cron jobs were checked
	nextMule     int
	binary       []string          // the command that starts a worker, before uwsgo's arguments
	n            int               // processes: the most workers there are
	active       int               // worker ids 1 to active are wanted now: n, or fewer under --cheaper
	idleSince    map[int]time.Time // --cheaper: worker id -> since when it runs no request
	events       chan event
	procs        map[*proc]bool
	fails        map[int]int // worker id -> deaths before becoming ready, in a row
	spawns       map[int]uint64
	harakiris    map[int]uint64
	mtimes       map[string]time.Time
	started      bool // every first-generation worker was ready once
	exiting      string
	status       int // exit status

	// systemd (Type=notify)
	reloading  bool   // a reload was announced and not every replacement is ready yet
	lastStatus string // the last STATUS= sent

	logTouch *instance.Touched // --touch-logreopen
	sigs     chan os.Signal

	// Pre-fork (loader.go): the loader workers are forked from, and the one a reload
	// starts, until it is ready.
	loader, next *loader
	chain        []int        // a chain reload's worker ids still to replace, in order
	zombies      map[int]bool // children seen as zombies at the last tick (reap.go)
}

// Run is the master's life; it returns the exit status.
func Run(cfg *options.Config, logger *log.Logger, in *instance.Instance) int {
	m := &Master{
		cfg: cfg, log: logger, in: in,
		n:            cfg.Processes.Workers,
		events:       make(chan event, 64),
		daemonEvents: make(chan daemonEvent, 16),
		procs:        map[*proc]bool{},
		fails:        map[int]int{},
		spawns:       map[int]uint64{},
		harakiris:    map[int]uint64{},
		mtimes:       map[string]time.Time{},
		idleSince:    map[int]time.Time{},
		sigs:         make(chan os.Signal, 8),
	}
	m.active = m.initialWorkers()
	// Taken first: a signal inherited ignored ("cmd &" in a script) is otherwise lost
	// until then. Those that come during set-up are acted on once the workers start.
	signal.Notify(m.sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR2)
	if err := m.setup(); err != nil {
		logger.Printf("uwsgo: %v", err)
		return 1
	}
	return m.run()
}

func (m *Master) setup() error {
	binary, err := instance.Relaunch(m.cfg.Processes.BinaryPath)
	if err != nil {
		return fmt.Errorf("starting workers: %w", err)
	}
	m.binary = binary
	if instance.LibraryMode {
		m.log.Printf("master: library mode: the workers run %s and keep that as their process name (uwsgo cannot rename a process inside PyPy)", strings.Join(binary, " "))
	}
	for _, s := range m.in.Sockets {
		fd, err := rawFD(s.Listener)
		if err != nil {
			return fmt.Errorf("socket %s: %w", s.Addr, err)
		}
		m.fds = append(m.fds, fd)
	}
	// Twice the processes: during a reload, old and new workers run side by side.
	board, err := scoreboard.Create(2*m.n, m.cfg.Processes.Threads)
	if err != nil {
		return err
	}
	m.board = board
	if m.shared, err = shared.Create(m.cfg); err != nil {
		return err
	}
	if m.preforks() {
		if err := becomeSubreaper(); err != nil {
			return fmt.Errorf("becoming the parent of the forked workers (PR_SET_CHILD_SUBREAPER): %w", err)
		}
	}
	m.uwsgiSignals = uwsgisignal.New(m.shared.UwsgiSignals, m.sendSignal, m.log)
	m.planDaemons()
	if err := m.planCron(); err != nil {
		return err
	}
	if err := m.planAux(); err != nil {
		return err
	}
	m.checkTouch() // the baseline: a change from now on reloads
	m.logTouch = instance.NewTouched(m.cfg.Logging.TouchReopen)
	for _, fifo := range m.cfg.Processes.MasterFIFO {
		if err := m.listenFIFO(fifo); err != nil {
			return fmt.Errorf("--master-fifo %s: %w", fifo, err)
		}
	}
	if addr := m.cfg.Operations.Stats; addr != "" {
		if err := stats.Serve(addr, m.cfg.Operations.StatsHTTP, m.statsSource(), m.log); err != nil {
			return fmt.Errorf("--stats %s: %w", addr, err)
		}
	}
	return hooks.Run(m.cfg, "master-start", m.log)
}

func (m *Master) run() int {
	go func() {
		for s := range m.sigs {
			m.events <- event{signal: s}
		}
	}()
	m.log.Printf("uwsgo %s master (pid %d): %s, %d processes of %d threads, workers run %s",
		worker.Version, os.Getpid(), mode(m.n, m.cfg.Processes.Threads), m.n, m.cfg.Processes.Threads, strings.Join(m.binary, " "))
	if m.preforks() {
		m.startLoader(keepWorkers, 0) // the workers are forked once it is ready
	} else {
		for id := 1; id <= m.active; id++ {
			m.spawn(id, nil)
		}
	}
	for _, a := range m.aux {
		m.spawnAux(a)
	}
	for _, d := range m.daemons {
		m.startDaemon(d)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for len(m.procs) > 0 || m.daemonsAlive() || m.exiting == "" {
		select {
		case e := <-m.events:
			m.handle(e)
		case e := <-m.daemonEvents:
			m.onDaemonEvent(e)
		case <-tick.C:
			m.tick()
		}
	}
	m.in.Close()
	m.log.Printf("master: %s: every worker is gone, exiting with status %d", m.exiting, m.status)
	return m.status
}

// mode names the process model as uWSGI's startup log does.
func mode(processes, threads int) string {
	switch {
	case processes > 1 && threads > 1:
		return "preforking+threaded"
	case processes > 1:
		return "preforking"
	case threads > 1:
		return "threaded"
	}
	return "single worker"
}

func (m *Master) handle(e event) {
	switch {
	case e.from != nil:
		m.onMessage(e.from, e.msg)
	case e.exited != nil:
		m.onExit(e.exited, e.status)
	case e.signal != nil:
		switch e.signal {
		case syscall.SIGHUP:
			m.reload("SIGHUP")
		case syscall.SIGTERM, syscall.SIGINT:
			m.shutdown(e.signal.String(), false)
		case syscall.SIGQUIT:
			m.shutdown(e.signal.String(), true)
		case syscall.SIGUSR2:
			m.reopenLog("SIGUSR2")
		}
	case e.command != 0:
		m.onCommand(e.command)
	case e.loader != nil:
		m.onLoader(e.loader)
	case e.aux != nil:
		if m.exiting == "" {
			m.spawnAux(e.aux)
		}
	case e.respawn != 0:
		switch old := e.replace; {
		case m.exiting != "":
		case old != nil && m.procs[old] && old == m.current(e.respawn):
			m.spawn(e.respawn, old) // a replacement that could not start: the reload goes on
		case m.current(e.respawn) == nil && e.respawn <= m.active:
			m.spawn(e.respawn, nil)
		}
	}
}

// spawn starts a worker for id; with old, the new one takes over from old once ready.
func (m *Master) spawn(id int, old *proc) {
	if m.preforks() && (m.loader == nil || !m.loader.ready) {
		return // the next loader starts it once ready
	}
	record := -1
	for r := 0; r < m.board.Records(); r++ {
		if m.board.Worker(r).State.Load() == scoreboard.Free {
			record = r
			break
		}
	}
	if record < 0 {
		m.log.Printf("master: no free scoreboard record for worker %d; retrying in a second", id)
		m.later(time.Second, id, old)
		return
	}
	p := &proc{role: child.Worker, id: id, record: record, replaces: old, spawned: time.Now()}
	m.board.Reset(record)
	rec := m.board.Worker(record)
	rec.ID.Store(int64(id))
	rec.Spawned.Store(p.spawned.UnixMicro())
	rec.Respawns.Store(m.spawns[id])
	rec.Harakiris.Store(m.harakiris[id])
	rec.State.Store(scoreboard.Starting)
	m.spawns[id]++
	if err := m.start(p); err != nil {
		m.log.Printf("master: starting worker %d (%s): %v; retrying in a second", id, m.binary[0], err)
		rec.State.Store(scoreboard.Free)
		m.later(time.Second, id, old)
		return
	}
	if old != nil {
		old.replacedBy = p
	}
}

// start runs p's process with what package child says a child inherits: its control
// socket, the scoreboard, the shared state and, for a worker, the listening sockets.
// Its messages and its exit come to the master's loop as events.
func (m *Master) start(p *proc) error {
	ctl, theirs, err := child.Pair()
	if err != nil {
		return err
	}
	defer theirs.Close()
	spec := child.Spec{Role: p.role, ID: p.id, Record: p.record, Records: m.board.Records(), Arg: p.arg}
	files := []uintptr{theirs.Fd(), m.board.File().Fd(), m.shared.Segment.File().Fd()}
	if p.role == child.Worker {
		for _, s := range m.in.Sockets {
			spec.Protocols = append(spec.Protocols, s.Proto)
		}
		files = append(files, m.fds...)
	}
	var process *os.Process
	if p.role == child.Worker && m.preforks() {
		process, err = m.fork(p.id, p.record, theirs)
	} else {
		process, err = m.forkExec("uwsgo "+p.String(), spec.Environ(os.Environ(), m.cfg.Encode()), files)
	}
	if err != nil {
		ctl.Close()
		return err
	}
	p.ctl, p.process, p.pid = ctl, process, process.Pid
	m.procs[p] = true
	go ctl.Receive(func(msg child.Message) { m.events <- event{from: p, msg: msg} })
	go func() {
		st, _ := process.Wait()
		m.events <- event{exited: p, status: st}
	}()
	return nil
}

// later spawns worker id after d, in place of old if old is still the current one.
func (m *Master) later(d time.Duration, id int, old *proc) {
	time.AfterFunc(d, func() { m.events <- event{respawn: id, replace: old} })
}

// current is the wanted process of worker id (not one being replaced or stopped).
func (m *Master) current(id int) *proc {
	for p := range m.procs {
		if p.role == child.Worker && p.id == id && p.stopping == "" && p.replacedBy == nil {
			return p
		}
	}
	return nil
}

// onMessage acts on what a child asks over its control socket.
func (m *Master) onMessage(p *proc, msg child.Message) {
	who := p.String()
	switch msg.Kind {
	case child.Ready:
		if p.role == child.Worker {
			m.onReady(p, msg)
		}
	case child.Raise:
		if err := m.uwsgiSignals.Raise(msg.Num); err != nil {
			m.log.Printf("master: %s raised: %v", who, err)
		}
	case child.AddSource:
		if msg.Source != nil {
			if err := m.uwsgiSignals.Add(*msg.Source); err != nil {
				m.log.Printf("master: %s: %v", who, err)
			}
		}
	case child.MuleSend:
		if m.sendMule(msg.Arg, msg.Data) == 0 {
			m.log.Printf("master: %s sent a mule message to %q, but no such mule or farm runs", who, msg.Arg)
		}
	case child.Spooled:
		m.wakeSpooler(msg.Arg)
	case child.Reload:
		m.reload("uwsgi.reload() in " + who)
	case child.Stop:
		m.shutdown("uwsgi.stop() in "+who, false)
	}
}

// sendSignal hands uWSGI signal num to the processes target names, with uWSGI's
// targets: worker/worker0 (one worker), workerN, workers and active-workers (all),
// mule/mule0 (one mule), muleN, mules (all), spooler (the spoolers).
func (m *Master) sendSignal(num int, target string) int {
	msg := child.Message{Kind: child.Signal, Num: num}
	if strings.HasPrefix(target, "mule") || target == "spooler" || target == "spoolers" {
		return m.sendSignalAux(msg, target)
	}
	var to []*proc
	for id := 1; id <= m.n; id++ {
		if p := m.current(id); p != nil && p.ready {
			to = append(to, p)
		}
	}
	switch {
	case target == "workers" || target == "active-workers":
	case target == "worker" || target == "worker0":
		if len(to) > 0 {
			m.nextOne++
			to = to[m.nextOne%len(to) : m.nextOne%len(to)+1]
		}
	case strings.HasPrefix(target, "worker"):
		id, err := strconv.Atoi(strings.TrimPrefix(target, "worker"))
		p := m.current(id)
		if err != nil || p == nil || !p.ready {
			return 0
		}
		to = []*proc{p}
	default:
		return 0
	}
	for _, p := range to {
		p.ctl.Send(msg)
	}
	return len(to)
}

func (m *Master) onReady(p *proc, msg child.Message) {
	p.ready, p.app = true, msg.App
	m.fails[p.id] = 0
	what := "app " + msg.App
	if msg.App == "" {
		what = "no app (dynamic mode: every request gets 500)"
	}
	m.log.Printf("master: worker %d (pid %d) is ready: %s", p.id, p.pid, what)
	if old := p.replaces; old != nil && m.procs[old] {
		m.stop(old, "replaced by pid "+fmt.Sprint(p.pid))
		if len(m.chain) > 0 && m.chain[0] == p.id {
			m.chain = m.chain[1:]
			m.chainNext()
		}
	}
	p.replaces = nil
	if !m.started && m.allReady() {
		m.started = true
		m.log.Printf("uwsgo %s ready (master pid %d, %d processes, %d threads each)", worker.Version, os.Getpid(), m.n, m.cfg.Processes.Threads)
		m.notifyReady()
	} else if m.reloading && m.allReady() {
		m.log.Printf("master: reload done: every worker is new and ready")
		m.notifyReady()
	}
	m.notifyStatus()
}

func (m *Master) allReady() bool {
	for id := 1; id <= m.active; id++ {
		if p := m.current(id); p == nil || !p.ready {
			return false
		}
	}
	return true
}

// stop asks p to finish its requests and exit, and sets the time it is killed anyway.
func (m *Master) stop(p *proc, why string) {
	if p.stopping != "" {
		return
	}
	p.stopping = why
	p.killAt = time.Now().Add(m.cfg.Processes.ReloadMercy)
	m.log.Printf("master: stopping worker %d (pid %d): %s", p.id, p.pid, why)
	p.process.Signal(syscall.SIGTERM)
}

func (m *Master) onExit(p *proc, st *os.ProcessState) {
	delete(m.procs, p)
	p.ctl.Close()
	if p.role != child.Worker {
		m.onAuxExit(p, st)
		return
	}
	defer m.notifyStatus()
	m.board.Worker(p.record).State.Store(scoreboard.Free)
	if p.replaces != nil && p.replaces.replacedBy == p {
		p.replaces.replacedBy = nil // the old one goes on serving
	}
	how := describeExit(st)
	switch {
	case m.exiting != "":
		m.log.Printf("master: worker %d (pid %d) %s", p.id, p.pid, how)
		return
	case p.stopping != "":
		m.log.Printf("master: worker %d (pid %d) %s (%s)", p.id, p.pid, how, p.stopping)
		if m.current(p.id) == nil && p.replacedBy == nil && p.id <= m.active {
			m.spawn(p.id, nil)
		}
		return
	case st.ExitCode() == worker.ExitNoApp:
		m.log.Printf("master: worker %d (pid %d) could not load the app and --need-app is set: stopping with status %d", p.id, p.pid, worker.ExitNoApp)
		m.status = worker.ExitNoApp
		m.shutdown("--need-app", false)
		return
	}
	if p.replacedBy != nil {
		// It was about to be replaced anyway: the replacement takes its place.
		m.log.Printf("master: worker %d (pid %d) %s while its replacement starts", p.id, p.pid, how)
		p.replacedBy.replaces = nil
		return
	}
	if p.ready {
		m.log.Printf("master: worker %d (pid %d) %s: respawning it", p.id, p.pid, how)
		m.spawn(p.id, nil)
		return
	}
	// Died while starting: wait longer each time it happens again.
	m.fails[p.id]++
	n := m.fails[p.id]
	delay := backoff(n)
	m.log.Printf("master: worker %d (pid %d) %s during start-up (%d time(s) in a row): respawning in %v", p.id, p.pid, how, n, delay)
	m.later(delay, p.id, nil)
}

// forkExec runs the binary as a child: argv0 is what ps shows, files its descriptors from
// 3 on. It uses syscall.ForkExec on raw descriptors because os/exec would call Fd() on them,
// and Fd() puts a socket into blocking mode: a mode shared by every process holding the
// socket, which would leave a worker's accept(2) stuck in the kernel, deaf to Close.
func (m *Master) forkExec(argv0 string, env []string, files []uintptr) (*os.Process, error) {
	return m.forkExecIn(argv0, env, files, true)
}

// forkExecIn is forkExec with the child in a process group of its own (ownGroup), or in
// the master's, where it may read from the terminal the master runs on.
func (m *Master) forkExecIn(argv0 string, env []string, files []uintptr, ownGroup bool) (*os.Process, error) {
	if instance.LibraryMode {
		argv0 = m.binary[0] // PyPy finds itself from its argv[0]: the name stays
	}
	argv := append(append([]string{argv0}, m.binary[1:]...), os.Args[1:]...)
	pid, err := syscall.ForkExec(m.binary[0], argv, &syscall.ProcAttr{
		Env:   env,
		Files: append([]uintptr{0, 1, 2}, files...),
		// Its own process group: a terminal's ^C goes to the master, which stops the
		// children in order. Pdeathsig: a child never outlives a master killed outright.
		Sys: &syscall.SysProcAttr{Setpgid: ownGroup, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return nil, err
	}
	return os.FindProcess(pid)
}

// rawFD is a listener's descriptor, read without the side effects of File() and Fd().
func rawFD(ln net.Listener) (uintptr, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return 0, fmt.Errorf("%T has no descriptor", ln)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var fd uintptr
	err = raw.Control(func(f uintptr) { fd = f })
	return fd, err
}

// backoff is the wait before restarting a process that died at start n times in a row:
// 0.5 s, doubling, at most 30 s, so that a broken app or configuration does not spin.
func backoff(n int) time.Duration {
	return min(time.Duration(1<<min(n-1, 6))*500*time.Millisecond, 30*time.Second)
}

func describeExit(st *os.ProcessState) string {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "was killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", st.ExitCode())
}

// reload replaces every worker gracefully: new ones start next to the old ones, and each
// old one finishes its requests once its replacement serves.
func (m *Master) reload(why string) {
	if m.exiting != "" {
		return
	}
	m.log.Printf("master: %s: reloading the workers gracefully", why)
	m.reloadStarts()
	if m.cfg.Logging.Reopen {
		m.reopenLog(why)
	}
	if m.preforks() {
		m.startLoader(replaceAll, 0) // it replaces them once it has loaded the new code
	} else {
		for id := 1; id <= m.n; id++ {
			m.replace(id)
		}
	}
	m.stopAux(syscall.SIGTERM, why) // they come back with the new code
}

func (m *Master) replace(id int) {
	p := m.current(id)
	if p == nil {
		return // dead or starting: what starts next is already new
	}
	m.spawn(id, p)
}

// reloadNow stops every worker at once and starts new ones: uWSGI's brutal reload.
func (m *Master) reloadNow(why string) {
	m.log.Printf("master: %s: reloading the workers now", why)
	m.reloadStarts()
	if m.preforks() {
		// The workers stopped now come back from a loader with the new code.
		if m.loader != nil {
			m.letGo(m.loader)
			m.loader = nil
		}
		m.startLoader(keepWorkers, 0)
	}
	for p := range m.procs {
		if p.role != child.Worker {
			continue // uWSGI's brutal reload leaves the mules and spoolers alone
		}
		p.stopping = why
		p.process.Signal(syscall.SIGQUIT)
		p.killAt = time.Now().Add(2 * time.Second)
	}
}

// shutdown stops every worker: gracefully (they finish their requests), or at once.
func (m *Master) shutdown(why string, now bool) {
	if m.exiting == "" {
		m.exiting = why
		how := "finishing requests in flight"
		if now {
			how = "stopping now"
		}
		m.log.Printf("master: %s: %s, then exiting", why, how)
		m.lastStatus = m.statusLine()
		m.notify("STOPPING=1", "STATUS="+m.lastStatus)
		// The workers close their copies as they stop accepting; the master's copy would
		// keep new clients waiting in the backlog until every worker is gone, then reset.
		// No worker is started from here on, so the sockets are not needed any more.
		m.in.StopListening()
		for _, l := range []*loader{m.loader, m.next} {
			if l != nil && !l.gone {
				if !l.ready && !m.started {
					m.log.Printf("master: %s during start-up: stopping the loader without serving", why)
				}
				m.letGo(l)
			}
		}
	}
	mercy := m.cfg.Processes.ReloadMercy
	sig := syscall.SIGTERM
	if now {
		sig, mercy = syscall.SIGQUIT, 2*time.Second
	}
	for p := range m.procs {
		if p.role != child.Worker {
			continue // stopAux, below
		}
		if p.stopping == "" || now {
			p.stopping = why
			p.killAt = time.Now().Add(mercy)
			if !now && m.drain(p) {
				continue
			}
			p.process.Signal(sig)
		}
	}
	m.stopAux(sig, why)
	m.stopDaemons()
}

// tick runs once a second: harakiri, the recycling limits, mercy deadlines, touch-reload.
func (m *Master) tick() {
	now := time.Now()
	if m.preforks() {
		m.reapOrphans()
	}
	m.killLateDaemons(now)
	m.cheaper(now)
	m.checkSmartDaemons(now)
	m.runCron(now)
	harakiri := m.cfg.Processes.Harakiri
	for p := range m.procs {
		if p.role != child.Worker {
			continue // a mule or spooler stops at once on its signal; none has a deadline
		}
		if p.stopping != "" && now.After(p.killAt) {
			m.log.Printf("master: worker %d (pid %d) did not stop within the mercy time: killing it", p.id, p.pid)
			p.process.Kill()
			p.killAt = now.Add(time.Hour)
			continue
		}
		if !p.ready || p.stopping != "" {
			continue
		}
		if m.harakiri(p, now, harakiri) || m.evilReload(p, now) {
			continue
		}
		if why := m.recycleReason(p, now); why != "" && p.replacedBy == nil {
			m.log.Printf("master: worker %d (pid %d) %s: replacing it", p.id, p.pid, why)
			m.spawn(p.id, p)
		}
	}
	m.checkTouch()
	m.uwsgiSignals.Tick(now)
	if f := m.logTouch.Changed(); f != "" {
		m.reopenLog("--touch-logreopen " + f)
	}
	switch backup, err := instance.RotateLog(m.cfg); {
	case err != nil:
		m.log.Printf("master: %v", err)
	case backup != "":
		m.reopenLog("--log-maxsize: the full log is now " + backup)
	}
}

// harakiri kills p if one of its requests runs past --harakiri or past the limit the app
// set with uwsgi.set_user_harakiri.
func (m *Master) harakiri(p *proc, now time.Time, limit time.Duration) bool {
	for t := 0; t < m.board.Threads(); t++ {
		core := m.board.Core(p.record, t)
		started, user := core.Started.Load(), core.UserHarakiri.Load()
		if started == 0 {
			continue
		}
		over := limit > 0 && now.UnixMicro()-started > limit.Microseconds()
		overUser := user != 0 && now.UnixMicro() > user
		if !over && !overUser {
			continue
		}
		why := fmt.Sprintf("--harakiri %d", limit/time.Second)
		if overUser {
			why = "its uwsgi.set_user_harakiri()"
		}
		m.log.Printf("master: HARAKIRI: worker %d (pid %d) has been running %q for %.0f s, past %s: killing it",
			p.id, p.pid, core.Desc(), float64(now.UnixMicro()-started)/1e6, why)
		m.harakiris[p.id]++
		p.process.Kill()
		p.stopping = "harakiri"
		p.killAt = now.Add(time.Hour)
		return true
	}
	return false
}

func (m *Master) recycleReason(p *proc, now time.Time) string {
	rec := m.board.Worker(p.record)
	if n := m.cfg.Processes.MaxRequests; n > 0 && rec.Requests.Load() >= n {
		return fmt.Sprintf("served %d requests (--max-requests %d)", rec.Requests.Load(), n)
	}
	if s := m.cfg.Processes.MaxWorkerLifetime; s > 0 && now.Sub(p.spawned) > s {
		return fmt.Sprintf("ran for %d s (--max-worker-lifetime %d)", int(now.Sub(p.spawned).Seconds()), s/time.Second)
	}
	return memoryOver(p.pid, "", m.cfg.Processes.ReloadOnRSS, m.cfg.Processes.ReloadOnAS)
}

// evilReload kills p outright, without waiting for its requests, past
// --evil-reload-on-rss or --evil-reload-on-as: for a worker whose memory grows too fast
// to wait for a graceful replacement.
func (m *Master) evilReload(p *proc, now time.Time) bool {
	why := memoryOver(p.pid, "evil-", m.cfg.Processes.EvilReloadOnRSS, m.cfg.Processes.EvilReloadOnAS)
	if why == "" {
		return false
	}
	m.log.Printf("master: worker %d (pid %d) %s: killing it", p.id, p.pid, why)
	p.process.Kill()
	p.stopping = why
	p.killAt = now.Add(time.Hour)
	return true
}

// memoryOver says how pid's resident or virtual memory is past the limits (bytes, 0 for
// none) of --PREFIXreload-on-rss and --PREFIXreload-on-as, "" if neither is.
func memoryOver(pid int, prefix string, rssMax, asMax int64) string {
	if rssMax == 0 && asMax == 0 {
		return ""
	}
	rss, vsz := stats.Memory(pid)
	switch {
	case rssMax > 0 && rss > rssMax:
		return fmt.Sprintf("uses %d MB of memory (--%sreload-on-rss %d)", rss>>20, prefix, rssMax>>20)
	case asMax > 0 && vsz > asMax:
		return fmt.Sprintf("has %d MB of address space (--%sreload-on-as %d)", vsz>>20, prefix, asMax>>20)
	}
	return ""
}

func (m *Master) checkTouch() {
	for _, f := range m.cfg.Processes.TouchReload {
		if m.touched(f) {
			m.reload("--touch-reload " + f)
		}
	}
	for _, f := range m.cfg.Processes.TouchChainReload {
		if m.touched(f) {
			m.chainReload("--touch-chain-reload " + f)
		}
	}
}

// touched says whether f's modification time changed since the last look; the first
// look, or a file that is not there, is no change.
func (m *Master) touched(f string) bool {
	st, err := os.Stat(f)
	if err != nil {
		return false
	}
	prev, seen := m.mtimes[f]
	m.mtimes[f] = st.ModTime()
	return seen && !st.ModTime().Equal(prev)
}

// listenFIFO reads one-letter commands from a FIFO, as uWSGI's master FIFO does.
func (m *Master) listenFIFO(path string) error {
	if st, err := os.Stat(path); err == nil && st.Mode()&os.ModeNamedPipe == 0 {
		return errors.New("exists and is not a FIFO")
	} else if err != nil {
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			return err
		}
	}
	// Opened for writing too, so that it never reads end-of-file between writers.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			for _, c := range buf[:n] {
				if c != '\n' && c != ' ' {
					m.events <- event{command: c}
				}
			}
		}
	}()
	return nil
}

func (m *Master) onCommand(c byte) {
	switch c {
	case 'r', 'w':
		m.reload("master FIFO '" + string(c) + "'")
	case 'c':
		m.chainReload("master FIFO 'c'")
	case 'R', 'W':
		m.reloadNow("master FIFO '" + string(c) + "'")
	case 'q':
		m.shutdown("master FIFO 'q'", false)
	case 'Q':
		m.shutdown("master FIFO 'Q'", true)
	case 's':
		b, _ := json.MarshalIndent(stats.Document(m.statsSource()), "", "  ")
		m.log.Printf("master: stats:\n%s", b)
	default:
		m.log.Printf("master: unknown FIFO command %q (known: r w c R W q Q s)", c)
	}
}

func (m *Master) statsSource() *stats.Source {
	return &stats.Source{Board: m.board, Sockets: m.in.Sockets, PID: os.Getpid(), Version: worker.Version, Metrics: m.shared.Metrics}
}
