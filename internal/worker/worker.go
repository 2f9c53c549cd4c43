// Package worker is a process that serves: it starts PyPy, runs the start-up steps in
// uWSGI's order, serves on the sockets it was given, and stops on a signal. It is the
// whole of a single-process instance, and what the master starts for each worker.
//
// The order, as in uWSGI's PyPy plugin: --pypy-pp paths, then --pypy-eval and
// --pypy-exec in the order given (uWSGI's "before fork"), then the app, then
// --pypy-eval-post-fork and --pypy-exec-post-fork and uwsgi.post_fork_hook. Each
// worker of a master does all of it itself, which is uWSGI's --lazy-apps.
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
	"strings"
	"syscall"
	"time"

	"uwsgo/internal/instance"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/rpc"
	"uwsgo/internal/scoreboard"
	"uwsgo/internal/server"
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

// Serve runs a worker: it starts PyPy, loads the app and serves on env.Listeners until
// SIGINT/SIGTERM (graceful) or SIGQUIT (immediate). It must be called on the process's
// main goroutine, locked to the main thread: that thread becomes PyPy's.
func Serve(cfg *options.Config, logger *log.Logger, env Env) error {
	if !cfg.Bool("honour-stdin") {
		if err := stdinFromDevNull(); err != nil {
			return fail(1, "replacing stdin with /dev/null: %v", err)
		}
	}
	appSigs := newAppSignals(logger)
	pypy.SetSignalRouter(appSigs.route)
	pypy.SetRPCClient(rpc.Call)
	rt, err := startPyPy(cfg, logger)
	if err != nil {
		return err
	}
	if err := load(cfg, logger, env); err != nil {
		return err
	}

	s := server.New(server.Config{
		Threads:       int(cfg.Int("threads")),
		MaxHeadBytes:  int(cfg.Int("buffer-size")),
		LimitPost:     cfg.Int("limit-post"),
		PostBuffering: cfg.Int("post-buffering"),
		SocketTimeout: time.Duration(cfg.Int("socket-timeout")) * time.Second,
		KeepAlive:     time.Duration(cfg.Int("http-keepalive")) * time.Second,
		AccessLog:     !cfg.Bool("disable-logging"),
		Log:           logger,
		Board:         env.Board,
		Record:        env.Record,
	})
	go appSigs.deliver(s.InPython)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	for _, ln := range env.Listeners {
		go func() {
			if err := s.Serve(ln.Listener, ln.Protocol); err != nil {
				logger.Printf("serving %s: %v", ln.Addr(), err)
			}
		}()
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
		if t := cfg.Int("threads"); t > 1 {
			threads = fmt.Sprintf("%d threads", t)
		}
		logger.Printf("uwsgo %s ready (pid %d, single process, %s, %s)", Version, os.Getpid(), threads, rt.Version)
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

	sig := <-stop
	rec.State.Store(scoreboard.Stopping)
	if sig == syscall.SIGQUIT {
		logger.Printf("%v: stopping now", sig)
		s.Close()
		return nil
	}
	logger.Printf("%v: finishing requests in flight, then stopping", sig)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Int("worker-reload-mercy"))*time.Second)
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
	logger.Printf("served %d requests; Python ran on %d OS threads", rec.Requests.Load(), pypy.AttachedThreads())
	return nil
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

func startPyPy(cfg *options.Config, logger *log.Logger) (*pypy.Runtime, error) {
	// In library mode the PyPy that loaded uwsgo is the one: there is nothing to locate.
	in := &pypy.Install{HomeSource: "the running PyPy"}
	if !pypy.InProcess() {
		var err error
		in, err = pypy.Locate(cfg.Get("pypy-home"), cfg.Get("pypy-lib"), os.Getenv, pypy.LookPath)
		if err != nil {
			return nil, fail(1, "%v", err)
		}
	}
	rt, err := pypy.Load(in)
	if err != nil {
		return nil, fail(1, "%v", err)
	}
	setup, name := pypy.SetupSource, "<embedded uwsgi_pypy_setup>"
	if f := cfg.Get("pypy-setup"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fail(1, "--pypy-setup: %v", err)
		}
		setup, name = string(b), f
	}
	pypy.SetLog(func(msg []byte) { os.Stderr.Write(msg) })
	if err := rt.Start(setup, name); err != nil {
		return nil, fail(1, "%v", err)
	}
	if rt.Lib == "" {
		ignored := ""
		if cfg.Has("pypy-home") || cfg.Has("pypy-lib") {
			ignored = " (--pypy-home and --pypy-lib do not apply)"
		}
		logger.Printf("%s; library mode: PyPy was already running this process%s", rt.Version, ignored)
		return rt, nil
	}
	logger.Printf("%s; home %s (from %s); library %s", rt.Version, rt.Home, rt.HomeSource, rt.Lib)
	return rt, nil
}

// load runs the start-up steps. An app that fails to load stops the process only with
// --need-app; otherwise the process serves 500s and says so (uWSGI's "dynamic mode").
func load(cfg *options.Config, logger *log.Logger, env Env) error {
	conf, _ := json.Marshal(map[string]any{
		"version":    Version,
		"threads":    cfg.Int("threads"),
		"processes":  env.Processes,
		"worker_id":  env.ID,
		"master_pid": env.MasterPID,
		"options":    givenOptions(cfg),
	})
	if err := pypy.Do(pypy.StepConfig, string(conf)); err != nil {
		return fail(1, "%v", err)
	}
	for _, dir := range cfg.All("pypy-pp") {
		if err := pypy.Do(pypy.StepPath, dir); err != nil {
			return fail(1, "%v", err)
		}
	}
	if err := run(cfg.Seq("pypy-eval", "pypy-exec")); err != nil {
		return err
	}

	appErr := loadApp(cfg)
	if appErr == nil {
		logger.Printf("app loaded: %s", pypy.App())
	} else if cfg.Bool("need-app") {
		return &Failure{Status: ExitNoApp, Err: fmt.Errorf("%v\n--need-app: exiting with status %d", appErr, ExitNoApp)}
	} else {
		logger.Printf("%v", appErr)
		logger.Printf("no app loaded: every request will be answered with 500 (dynamic mode); --need-app makes this fatal")
	}

	if err := run(cfg.Seq("pypy-eval-post-fork", "pypy-exec-post-fork")); err != nil {
		return err
	}
	if err := pypy.Do(pypy.StepPostFork, ""); err != nil {
		return fail(1, "%v", err)
	}
	return nil
}

func loadApp(cfg *options.Config) error {
	file, module, paste := cfg.Get("pypy-wsgi-file"), cfg.Get("pypy-wsgi"), cfg.Get("pypy-paste")
	switch {
	case file != "" && module != "":
		return errors.New("give --pypy-wsgi or --pypy-wsgi-file, not both")
	case paste != "" && (file != "" || module != ""):
		return errors.New("give --pypy-paste (or --pypy-ini-paste) or --pypy-wsgi/--pypy-wsgi-file, not both")
	case file != "":
		return pypy.Do(pypy.StepWSGIFile, file)
	case module != "":
		return pypy.Do(pypy.StepWSGIModule, module)
	case paste != "":
		return pypy.Do(pypy.StepPaste, paste)
	}
	return errors.New("no app given (--pypy-wsgi MODULE, --pypy-wsgi-file FILE or --pypy-paste FILE.ini)")
}

func run(steps []options.Setting) error {
	for _, st := range steps {
		s := pypy.StepEval
		if strings.HasPrefix(st.Opt.Name, "pypy-exec") {
			s = pypy.StepExec
		}
		if err := pypy.Do(s, st.Value); err != nil {
			return fail(1, "%v", err)
		}
	}
	return nil
}

// givenOptions lists every option given with all its values, for uwsgi.opt.
func givenOptions(cfg *options.Config) [][2]any {
	var out [][2]any
	index := map[string]int{}
	for _, st := range cfg.Settings {
		i, ok := index[st.Opt.Name]
		if !ok {
			i = len(out)
			index[st.Opt.Name] = i
			out = append(out, [2]any{st.Opt.Name, []string{}})
		}
		out[i][1] = append(out[i][1].([]string), st.Value)
	}
	return out
}
