// Package cli is uwsgo's program: parse the options, then become the single process that
// serves, the master, or one of the master's workers. Two front ends run it: the uwsgo
// binary (cmd/uwsgo) and libuwsgo.so, loaded by a running PyPy (cmd/libuwsgo, library
// mode), so the two behave the same by construction.
//
// Main must run on the thread that is, or will become, PyPy's main thread: the process's
// main thread in the binary, the thread that called uwsgi_init in library mode.
package cli

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"uwsgo/internal/child"
	"uwsgo/internal/hooks"
	"uwsgo/internal/instance"
	"uwsgo/internal/master"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/shm/scoreboard"
	"uwsgo/internal/shm/shared"
	"uwsgo/internal/stats"
	"uwsgo/internal/worker"
)

// Main runs uwsgo with args (the command line without argv[0]) and returns its exit status.
func Main(args []string) int {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if child.IsChild() {
		return exitStatus(worker.Child(logger), logger)
	}
	cfg, err := options.Parse(args, os.Environ())
	if err != nil {
		fmt.Fprintf(os.Stderr, "uwsgo: %v\n(uwsgo --help lists the options)\n", err)
		return 1
	}
	switch {
	case cfg.General.PrintConfig:
		options.WritePrintConfig(os.Stdout, cfg)
		return 0
	case cfg.General.Help:
		options.WriteHelp(os.Stdout)
		return 0
	case cfg.General.Version:
		fmt.Println("uwsgo", worker.Version)
		return 0
	case cfg.General.PrintSym != "":
		// The two embedded Python files, by the names a replacement setup module knows.
		switch cfg.General.PrintSym {
		case "uwsgi_pypy_setup":
			fmt.Print(pypy.SetupSource)
		case "uwsgi_pypy_module":
			fmt.Print(pypy.ModuleSource)
		default:
			fmt.Fprintf(os.Stderr, "uwsgo: --print-sym %s: no such symbol; uwsgo embeds uwsgi_pypy_setup (the setup module) and uwsgi_pypy_module (the uwsgi module's body)\n", cfg.General.PrintSym)
			return 1
		}
		return 0
	}

	if cfg.General.ShowConfig {
		options.WritePrintConfig(os.Stderr, cfg)
	}
	for _, n := range cfg.Notices {
		logger.Printf("uwsgo: %s", n)
	}
	// Before anything loads, and inherited by every process the master starts.
	for _, kv := range cfg.PyPy.Env {
		name, value, _ := strings.Cut(kv, "=")
		os.Setenv(name, value)
	}
	for _, name := range cfg.PyPy.Unenv {
		os.Unsetenv(name)
	}

	in, err := instance.Prepare(cfg, logger)
	if err != nil {
		logger.Printf("uwsgo: %v", err)
		return 1
	}
	if in == nil {
		return 0 // --daemonize: the background copy carries on
	}
	status := serve(cfg, logger, in)
	if err := hooks.Run(cfg, "as-user-atexit", logger); err != nil {
		logger.Printf("uwsgo: %v", err)
		status = max(status, 1)
	}
	return status
}

// serve runs the instance as a master or as the single process, to its end.
func serve(cfg *options.Config, logger *log.Logger, in *instance.Instance) int {
	if cfg.Processes.Master {
		return master.Run(cfg, logger, in)
	}
	defer in.Close()
	state, err := shared.Create(cfg)
	if err != nil {
		logger.Printf("uwsgo: %v", err)
		return 1
	}
	env := worker.Env{Board: scoreboard.Private(cfg.Processes.Threads), ID: 1, Processes: 1, Listeners: worker.Listeners(in.Sockets), State: state, Notify: in.Notify}
	if addr := cfg.Operations.Stats; addr != "" {
		src := &stats.Source{Board: env.Board, Sockets: in.Sockets, PID: os.Getpid(), Version: worker.Version, Metrics: state.Metrics}
		if err := stats.Serve(addr, cfg.Operations.StatsHTTP, src, logger); err != nil {
			logger.Printf("uwsgo: --stats %s: %v", addr, err)
			return 1
		}
	}
	return exitStatus(worker.Serve(cfg, logger, env), logger)
}

func exitStatus(err error, logger *log.Logger) int {
	if err == nil {
		return 0
	}
	logger.Printf("uwsgo: %v", err)
	var f *worker.Failure
	if errors.As(err, &f) {
		return f.Status
	}
	return 1
}
