// Command uwsgo serves Python WSGI apps on an embedded PyPy, with uWSGI's command line.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"

	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/worker"
)

// PyPy's embedding API must be driven from one thread, which stays PyPy's main thread:
// keep the main goroutine on the process's main thread from the start.
func init() { runtime.LockOSThread() }

func main() {
	os.Exit(uwsgo(os.Args[1:]))
}

func uwsgo(args []string) int {
	cfg, err := options.Parse(args, os.Environ())
	if err != nil {
		fmt.Fprintf(os.Stderr, "uwsgo: %v\n(uwsgo --help lists the options)\n", err)
		return 1
	}
	switch {
	case cfg.Bool("help"):
		options.WriteHelp(os.Stdout)
		return 0
	case cfg.Bool("version"):
		fmt.Println("uwsgo", worker.Version)
		return 0
	case cfg.Has("print-sym"):
		if sym := cfg.Get("print-sym"); sym != "uwsgi_pypy_setup" {
			fmt.Fprintf(os.Stderr, "uwsgo: --print-sym %s: no such symbol; uwsgo embeds uwsgi_pypy_setup\n", sym)
			return 1
		}
		fmt.Print(pypy.SetupSource)
		return 0
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if err := worker.Run(cfg, logger); err != nil {
		logger.Printf("uwsgo: %v", err)
		var f *worker.Failure
		if errors.As(err, &f) {
			return f.Status
		}
		return 1
	}
	return 0
}
