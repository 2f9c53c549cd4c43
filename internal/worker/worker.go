// Package worker is a process that serves: it starts PyPy, runs the start-up steps in
// uWSGI's order, serves on the sockets it was given, and stops on a signal. It is the
// whole of a single-process instance, and what the master starts for each worker.
//
// The order, as in uWSGI's PyPy plugin: --pypy-pp paths, then --pypy-eval and
// --pypy-exec in the order given (uWSGI's "before fork"), then the app (LoadApp), then
// --pypy-eval-post-fork and --pypy-exec-post-fork and uwsgi.post_fork_hook (postFork).
// A single process, and each worker under --lazy-apps, does all of it itself; a worker
// forked from a master's loader (pypy.Forked) finds the app loaded and does the rest.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"uwsgo/internal/child"
	"uwsgo/internal/hooks"
	"uwsgo/internal/instance"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/rpc"
	"uwsgo/internal/server"
	"uwsgo/internal/shm/scoreboard"
	"uwsgo/internal/shm/shared"
	"uwsgo/internal/static"
	"uwsgo/internal/stats"
	"uwsgo/internal/systemd"
)

// Version is uwsgo's version, as --version and uwsgi.version say it.
const Version = "0.1.0"

// ExitNoApp is uWSGI's exit status when --need-app finds no app.
const ExitNoApp = 22

// Failure is a start-up error with the exit status it deserves.
type Failure struct {
	Status int
	Err    error
}

func (f *Failure) Error() string { return f.Err.Error() }

func fail(status int, format string, args ...any) *Failure {
	return &Failure{Status: status, Err: fmt.Errorf(format, args...)}
}

// Env is what a worker process is given by whoever started it: the single-process path of
// cmd/uwsgo, or the master (see Child).
type Env struct {
	Listeners []Listener
	Board     *scoreboard.Board
	Record    int // this worker's record on Board
	ID        int // uWSGI's worker id: 1..Processes
	Processes int
	MasterPID int          // 0 without a master
	Ready     func(string) // told once serving, with the app loaded ("" for none)
	State     *shared.State
	Control   *child.Conn // the socket to the master; nil in a single process
	Role      child.Role
	// Drain is the master's request to stop as part of stopping the whole instance
	// (nil for a single process, which learns it from its signals).
	Drain <-chan struct{}
	// Notify is systemd's notification socket of a single-process instance (a master's
	// workers have none: the master speaks for them).
	Notify *systemd.Notifier
	drain  chan struct{} // the sending end of Drain, for the control socket's reader
	reqLog *reqLog       // --req-logger's file (logs.go), opened by boot; nil for none
}

// Listener is a listening socket and the protocol it speaks.
type Listener struct {
	net.Listener
	Protocol server.Protocol
}

// Listeners pairs bound sockets with their protocols.
func Listeners(sockets []*instance.Socket) []Listener {
	out := make([]Listener, len(sockets))
	for i, s := range sockets {
		out[i] = Listener{s.Listener, protocolOf(s.Proto)}
	}
	return out
}

func protocolOf(name string) server.Protocol {
	if name == "uwsgi" {
		return server.Uwsgi
	}
	return server.HTTP
}

// boot is what every process of the instance that runs Python does first, worker, mule
// or spooler: stdin, the log, the Go services Python calls, PyPy, the start-up steps.
// stopSignals takes the signals that stop a process, before anything loads: one that
// inherited them ignored (what "cmd &" in a script does to SIGINT and SIGQUIT) would
// otherwise lose those sent while PyPy starts and the app loads.
func stopSignals() chan os.Signal {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	return stop
}

func boot(cfg *options.Config, logger *log.Logger, env *Env) (*pypy.Runtime, *uwsgiAPI, *unixSignals, error) {
	if !cfg.Processes.HonourStdin {
		if err := stdinFromDevNull(); err != nil {
			return nil, nil, nil, fail(1, "replacing stdin with /dev/null: %v", err)
		}
	}
	rl, err := openReqLog(cfg, logger)
	if err != nil {
		return nil, nil, nil, fail(1, "%v", err)
	}
	env.reqLog = rl
	reopenLogOnSignal(cfg, logger, env.MasterPID == 0, rl)
	appSigs := newUnixSignals(logger)
	api := newUwsgiAPI(cfg, env, logger)
	host := pypy.Host{Sink: api, Log: pythonLog(logger), Signal: appSigs.route, RPC: rpc.Call, Call: api.call, ASGI: api}
	if _, _, forked := pypy.Forked(); forked {
		// The loader's log descriptors may name a file rotated since it started.
		if _, err := instance.ReopenLog(cfg); err != nil {
			logger.Printf("%v", err)
		}
		rt, err := pypy.Adopt(host)
		if err != nil {
			return nil, nil, nil, fail(1, "%v", err)
		}
		logger.Printf("forked from the loaded app (%s)", rt.Version)
		if err := configure(cfg, *env, here{}); err != nil {
			return nil, nil, nil, err
		}
		return rt, api, appSigs, started(cfg, *env)
	}
	rt, err := startPyPy(cfg, logger, host)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := LoadApp(cfg, logger, *env, here{}); err != nil {
		return nil, nil, nil, err
	}
	return rt, api, appSigs, started(cfg, *env)
}

// started runs what follows the fork, the app loaded here or forked from the loader: the
// post-fork steps, then an ASGI app's lifespan startup in a worker (never in the loader,
// which serves nothing; nor in a mule or spooler, which would never have its shutdown).
func started(cfg *options.Config, env Env) error {
	if err := postFork(cfg, here{}); err != nil {
		return err
	}
	if env.Role != child.Worker {
		return nil
	}
	return startASGI()
}

// Serve runs a worker: it starts PyPy, loads the app and serves on env.Listeners until
// SIGINT/SIGTERM (graceful) or SIGQUIT (immediate). It must be called on the process's
// main goroutine, locked to the main thread: that thread becomes PyPy's.
func Serve(cfg *options.Config, logger *log.Logger, env Env) error {
	stop := stopSignals()
	rt, api, appSigs, err := boot(cfg, logger, &env)
	if err != nil {
		return err
	}
	// Python cannot be interrupted while it loads: a stop asked meanwhile is honoured
	// before serving anything.
	select {
	case sig := <-stop:
		logger.Printf("%v during start-up: stopping without serving", sig)
		return nil
	case <-env.Drain:
		logger.Printf("the master stopped the instance during start-up: stopping without serving")
		return nil
	default:
	}

	files, err := static.New(cfg, logger)
	if err != nil {
		return fail(1, "%v", err)
	}
	s := server.New(server.Config{
		Threads:       cfg.Processes.Threads,
		SharesSockets: env.MasterPID != 0 && cfg.Processes.Workers > 1,
		MaxHeadBytes:  cfg.HTTP.BufferSize,
		LimitPost:     cfg.HTTP.LimitPost,
		PostBuffering: cfg.HTTP.PostBuffering,
		Budgets: server.Budgets{
			BodyMemory: cfg.HTTP.BodyMemoryBudget, BodyDisk: cfg.HTTP.BodyDiskBudget,
			ResponseMemory: cfg.HTTP.ResponseMemoryBudget, ResponseDisk: cfg.HTTP.ResponseDiskBudget,
		},
		SocketTimeout: cfg.HTTP.SocketTimeout,
		KeepAlive:     cfg.HTTP.KeepAlive,
		AccessLog:     !cfg.Logging.Disabled,
		MemoryReport:  memoryReport(cfg.Logging.MemoryReport),
		ReqLog:        env.reqLog.logger(logger),
		LogAlso: server.LogFilter{
			Status4xx: cfg.Logging.Log4xx, Status5xx: cfg.Logging.Log5xx,
			Slower: cfg.Logging.Slower, Bigger: cfg.Logging.Bigger,
		},
		HealthPath: cfg.HTTP.HealthPath,
		Trusted:    cfg.HTTP.Trusted,
		Static:     files,
		AddHeaders: cfg.HTTP.AddHeaders,
		Log:        logger,
		Board:      env.Board,
		Record:     env.Record,

		LogFormat:        cfg.Logging.Format,
		LogXForwardedFor: cfg.Logging.XForwardedFor,
		WorkerID:         env.ID,

		App: appOf(),
	})
	go appSigs.deliver(s.InPython)
	api.server = s
	go api.run(s.InPython)
	for _, ln := range env.Listeners {
		go func() {
			if err := s.Serve(ln.Listener, ln.Protocol); err != nil {
				logger.Printf("serving %s: %v", ln.Addr(), err)
			}
		}()
	}
	if err := hooks.Run(cfg, "accepting", logger); err != nil {
		return fail(1, "%v", err)
	}
	rec := env.Board.Worker(env.Record)
	rec.PID.Store(int64(os.Getpid()))
	rec.SetApp(pypy.App())
	rec.State.Store(scoreboard.Ready)
	if env.Ready != nil {
		env.Ready(pypy.App())
	}
	if env.MasterPID == 0 {
		threads := "1 thread"
		if t := cfg.Processes.Threads; t > 1 {
			threads = fmt.Sprintf("%d threads", t)
		}
		logger.Printf("uwsgo %s ready (pid %d, single process, %s, %s)", Version, os.Getpid(), threads, rt.Version)
		notify(env.Notify, logger, "READY=1", "STATUS=serving: single process, "+threads)
	}

	if path := os.Getenv(ProfileEnv); path != "" {
		if env.MasterPID != 0 {
			path = fmt.Sprintf("%s.%d", path, env.ID)
		}
		if stopProfile, err := startProfile(path); err != nil {
			logger.Printf("%s: %v", ProfileEnv, err)
		} else {
			defer stopProfile()
		}
	}

	// A stop of the whole instance (a signal to a single process, the master's "drain")
	// turns --health-path to 503 and may go on serving for --shutdown-delay first; a
	// master's SIGTERM alone stops just this worker (a reload, a recycled worker).
	var why string
	instanceStops := true
	select {
	case sig := <-stop:
		why, instanceStops = sig.String(), env.MasterPID == 0
		if sig == syscall.SIGQUIT {
			notify(env.Notify, logger, "STOPPING=1", "STATUS=stopping now ("+why+")")
			rec.State.Store(scoreboard.Stopping)
			logger.Printf("%v: stopping now", sig)
			s.Close()
			return nil
		}
	case <-env.Drain:
		why = "the master stops the instance"
	}
	notify(env.Notify, logger, "STOPPING=1", "STATUS=stopping ("+why+")")
	if instanceStops {
		s.Drain()
		if d := cfg.Processes.ShutdownDelay; d > 0 {
			logger.Printf("%s: serving %v more with the health check answering 503 (--shutdown-delay), then stopping", why, d)
			select {
			case <-time.After(d):
			case again := <-stop:
				logger.Printf("%v again: stopping now", again)
				s.Close()
				return nil
			}
		}
	}
	if instanceStops {
		s.StopsInstance()
	}
	rec.State.Store(scoreboard.Stopping)
	logger.Printf("%s: finishing requests in flight, then stopping", why)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Processes.ReloadMercy)
	defer cancel()
	go func() {
		if again := <-stop; again != nil {
			logger.Printf("%v again: stopping now", again)
			cancel()
		}
	}()
	if err := s.Shutdown(ctx); err != nil {
		logger.Printf("stopped with requests unfinished: %v", err)
	}
	stopASGI(s, logger)
	logger.Printf("served %d requests; Python ran on %d OS threads", rec.Requests.Load(), pypy.AttachedThreads())
	return nil
}

func notify(n *systemd.Notifier, logger *log.Logger, lines ...string) {
	if err := n.Notify(lines...); err != nil {
		logger.Printf("telling systemd %q: %v", lines, err)
	}
}

// ProfileEnv names a file to write a Go CPU profile of the worker's whole serving life to
// (".N" is appended for worker N of a master), for the benchmarks: bench/ reads it.
const ProfileEnv = "UWSGO_CPUPROFILE"

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func stdinFromDevNull() error {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer f.Close()
	return syscall.Dup3(int(f.Fd()), 0, 0)
}

// startPyPy starts PyPy and its setup module, with host serving Python's calls.
func startPyPy(cfg *options.Config, logger *log.Logger, host pypy.Host) (*pypy.Runtime, error) {
	// In library mode the PyPy that loaded uwsgo is the one: there is nothing to locate.
	in := &pypy.Install{HomeSource: "the running PyPy"}
	if !pypy.InProcess() {
		var err error
		in, err = pypy.Locate(cfg.PyPy.Home, cfg.PyPy.Lib, os.Getenv, pypy.LookPath)
		if err != nil {
			return nil, fail(1, "%v", err)
		}
	}
	rt, err := pypy.Load(in)
	if err != nil {
		return nil, fail(1, "%v", err)
	}
	setup, name, err := SetupModule(cfg)
	if err != nil {
		return nil, fail(1, "%v", err)
	}
	if err := rt.Start(setup, name, host); err != nil {
		return nil, fail(1, "%v", err)
	}
	if rt.Lib == "" {
		ignored := ""
		if cfg.PyPy.Home != "" || cfg.PyPy.Lib != "" {
			ignored = " (--pypy-home and --pypy-lib do not apply)"
		}
		logger.Printf("%s; library mode: PyPy was already running this process%s", rt.Version, ignored)
		return rt, nil
	}
	logger.Printf("%s; home %s (from %s); library %s", rt.Version, rt.Home, rt.HomeSource, rt.Lib)
	return rt, nil
}

// SetupModule is the setup module's source and its name for errors: the embedded one, or
// --pypy-setup's file.
func SetupModule(cfg *options.Config) (source, name string, err error) {
	f := cfg.PyPy.Setup
	if f == "" {
		return pypy.SetupSource, "<embedded uwsgi_pypy_setup>", nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", "", fmt.Errorf("--pypy-setup: %w", err)
	}
	return string(b), f, nil
}

// Python is where the start-up steps run: this process's PyPy (here), or a pre-fork
// loader's (pypy.Loader).
type Python interface {
	Do(s pypy.Step, arg string) error
	App() string // the app as loaded so far
}

type here struct{}

func (here) Do(s pypy.Step, arg string) error { return pypy.Do(s, arg) }
func (here) App() string                      { return pypy.App() }

// LoadApp runs the start-up steps up to the fork, as uWSGI orders them: the settings,
// paths, --pypy-eval and --pypy-exec, the app. An app that fails to load stops the process
// only with --need-app; otherwise the process serves 500s and says so (uWSGI's "dynamic
// mode").
func LoadApp(cfg *options.Config, logger *log.Logger, env Env, py Python) error {
	if err := configure(cfg, env, py); err != nil {
		return err
	}
	if venv := cfg.PyPy.Virtualenv; venv != "" {
		if err := py.Do(pypy.StepVirtualenv, venv); err != nil {
			return fail(1, "%v", err)
		}
	}
	for _, dir := range cfg.PyPy.Path {
		if err := py.Do(pypy.StepPath, dir); err != nil {
			return fail(1, "%v", err)
		}
	}
	if err := run(py, cfg.PyPy.Startup); err != nil {
		return err
	}

	if err := hooks.Run(cfg, "pre-app", logger); err != nil {
		return fail(1, "%v", err)
	}
	appErr := loadApp(py, cfg.PyPy.App)
	for _, m := range cfg.PyPy.Mounts {
		if appErr != nil {
			break
		}
		appErr = py.Do(pypy.StepMount, m)
	}
	if err := hooks.Run(cfg, "post-app", logger); err != nil {
		return fail(1, "%v", err)
	}
	if errors.Is(appErr, pypy.ErrLoaderGone) {
		return appErr // nothing more can load
	}
	if appErr == nil {
		logger.Printf("app loaded: %s", py.App())
	} else if cfg.Processes.NeedApp {
		return &Failure{Status: ExitNoApp, Err: fmt.Errorf("%v\n--need-app: exiting with status %d", appErr, ExitNoApp)}
	} else {
		logger.Printf("%v", appErr)
		if app := py.App(); app != "" {
			// A --mount failed after the others loaded: they serve, the prefix does not exist.
			logger.Printf("serving %s only; --need-app makes this fatal", app)
		} else {
			logger.Printf("no app loaded: every request will be answered with 500 (dynamic mode); --need-app makes this fatal")
		}
	}
	return nil
}

// postFork runs what uWSGI runs in each worker after the fork.
func postFork(cfg *options.Config, py Python) error {
	if err := run(py, cfg.PyPy.PostFork); err != nil {
		return err
	}
	if err := py.Do(pypy.StepPostFork, ""); err != nil {
		return fail(1, "%v", err)
	}
	return nil
}

// configure gives the setup module the settings and who this process is (again in a
// forked worker: the loader was no worker).
func configure(cfg *options.Config, env Env, py Python) error {
	binary, err := os.Executable()
	if err != nil {
		binary = os.Args[0]
	}
	conf, _ := json.Marshal(map[string]any{
		"version":     Version,
		"binary":      binary, // sys.argv[0]
		"threads":     cfg.Processes.Threads,
		"processes":   env.Processes,
		"worker_id":   env.ID,
		"master_pid":  env.MasterPID,
		"buffer_size": cfg.HTTP.BufferSize,
		"role":        env.Role,
		// An interactive interpreter (--honour-stdin) keeps the terminal's own streams.
		"capture_output": !cfg.Processes.HonourStdin,
		"options":        json.RawMessage(cfg.Encode()), // every setting, in order
	})
	if err := py.Do(pypy.StepConfig, string(conf)); err != nil {
		return fail(1, "%v", err)
	}
	return nil
}

// loadApp loads the app the options chose (options.Loader).
func loadApp(py Python, app options.Loader) error {
	switch app.Kind {
	case options.AppModule:
		return py.Do(pypy.StepWSGIModule, app.Target)
	case options.AppFile:
		return py.Do(pypy.StepWSGIFile, app.Target)
	case options.AppPaste:
		return py.Do(pypy.StepPaste, app.Target)
	case options.ASGIModule, options.ASGIFile:
		return pypy.LoadASGI(py.Do, app.Target, app.Kind == options.ASGIFile, app.Threads)
	case options.MountsOnly:
		return nil // every app is mounted
	}
	return app.Err
}

func run(py Python, steps []options.PyStep) error {
	for _, st := range steps {
		s := pypy.StepEval
		if st.Exec {
			s = pypy.StepExec
		}
		if err := py.Do(s, st.Value); err != nil {
			return fail(1, "%v", err)
		}
	}
	return nil
}

// memoryReport is --memory-report's source of figures, or nil.
func memoryReport(on bool) func() (rss, vsz int64) {
	if !on {
		return nil
	}
	pid := os.Getpid()
	return func() (int64, int64) { return stats.Memory(pid) }
}
