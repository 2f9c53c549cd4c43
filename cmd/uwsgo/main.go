// Command uwsgo serves Python WSGI apps on an embedded PyPy, with uWSGI's command line.
//
// One binary plays three parts: a single process that serves (the default), the master
// (--master, or --processes above 1), and the workers a master starts. The program itself
// is internal/cli, shared with the library build (cmd/libuwsgo).
package main

import (
	"os"
	"runtime"

	"uwsgo/internal/cli"
)

// PyPy's embedding API must be driven from one thread, which stays PyPy's main thread:
// keep the main goroutine on the process's main thread from the start.
func init() { runtime.LockOSThread() }

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
