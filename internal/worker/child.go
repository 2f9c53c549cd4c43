package worker

import (
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"uwsgo/internal/child"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/shm/scoreboard"
	"uwsgo/internal/shm/shared"
)

// Child serves as the process a master asked for (see package child for what it is
// given): a worker, or a mule or spooler (serveAux).
func Child(logger *log.Logger) error {
	spec, config, err := child.FromEnv()
	if err != nil {
		return fail(1, "%v", err)
	}
	cfg, err := options.Decode(config)
	if err != nil {
		return fail(1, "%v", err)
	}
	if id, record, forked := pypy.Forked(); forked {
		// Forked from the master's loader: a worker, which the loader was not.
		spec.Role, spec.ID, spec.Record = child.Worker, id, record
	}
	os.Unsetenv(pypy.LoaderEnv)
	// SIGHUP is the master's (reload); a stray one sent to every uwsgo process by name must
	// not kill the workers. An app can still take it with signal.signal().
	signal.Ignore(syscall.SIGHUP)
	logger.SetPrefix(spec.Role.String() + " " + strconv.Itoa(spec.ID) + ": ")
	logger.SetFlags(logger.Flags() | log.Lmsgprefix)

	board, err := scoreboard.Open(os.NewFile(child.FDBoard, "scoreboard"), spec.Records, cfg.Processes.Threads)
	if err != nil {
		return fail(1, "%v", err)
	}
	state, err := shared.Open(cfg, os.NewFile(child.FDShared, "shared state"))
	if err != nil {
		return fail(1, "%v", err)
	}
	ctl := child.NewConn(os.NewFile(child.FDControl, "master"))
	drain := make(chan struct{}, 1)
	env := Env{Board: board, Record: spec.Record, ID: spec.ID, Processes: cfg.Processes.Workers, MasterPID: os.Getppid(),
		State: state, Control: ctl, Role: spec.Role, Drain: drain, drain: drain}
	if spec.Role != child.Worker {
		return serveAux(cfg, logger, env, spec.Arg)
	}
	for i, proto := range spec.Protocols {
		f := os.NewFile(uintptr(child.FDListeners+i), "socket")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fail(1, "inherited socket %d (%s): %v", i+1, proto, err)
		}
		env.Listeners = append(env.Listeners, Listener{ln, protocolOf(proto)})
	}
	env.Ready = func(app string) {
		ctl.Send(child.Message{Kind: child.Ready, App: app})
	}
	return Serve(cfg, logger, env)
}
