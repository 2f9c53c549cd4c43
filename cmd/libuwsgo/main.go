// Command libuwsgo is uwsgo as a shared library for a running PyPy to load: uWSGI's
// "library mode" (the seed's alternative approach). Build it with
//
//	go build -buildmode=c-shared -o libuwsgo.so ./cmd/libuwsgo   (make lib)
//
// and start it with bin/uwsgo-pypy, which loads it with ctypes (RTLD_GLOBAL) and calls
// uwsgi_init with its own command line. PyPy is then already in the process: uwsgo finds
// its embedding API there (internal/pypy) and skips loading and booting it, so no
// --pypy-home or --pypy-lib is needed.
//
// This file uses cgo only because a c-shared library's entry point must be an //export;
// everything else is internal/cli, exactly as the uwsgo binary runs it. internal/pypy
// remains the only package that talks to PyPy.
package main

/*
#include <stdlib.h>

extern char **environ;

static int environ_len(void) {
	int n = 0;
	while (environ[n]) n++;
	return n;
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"uwsgo/internal/cli"
	"uwsgo/internal/instance"
	"uwsgo/internal/pypy"
)

// uwsgi_init runs uwsgo with the command line argv[0..argc) and returns its exit status,
// with uWSGI's calling convention: uwsgi_init(int argc, char *argv[], char *envp[]).
// envp is not used: uWSGI needs it to rewrite the process title, which uwsgo does not do;
// the environment is the process's own.
//
// It serves on the calling thread, which must be the interpreter's main thread with the
// GIL released (ctypes does both): that thread is the one PyPy already knows, and it
// blocks here until uwsgo stops.
//
//export uwsgi_init
func uwsgi_init(argc C.int, argv **C.char, envp **C.char) C.int {
	// A cgo callback already keeps its goroutine on the calling thread; say so anyway,
	// since every start-up step into PyPy depends on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if err := pypy.RefuseCPython(); err != nil {
		fmt.Fprintf(os.Stderr, "uwsgo: %v\n", err)
		return 1
	}
	// Outside PyPy, uwsgo would load a second interpreter into someone else's process.
	if !pypy.InProcess() {
		fmt.Fprintln(os.Stderr, "uwsgo: libuwsgo.so serves only inside the PyPy that loaded it (pypy3 bin/uwsgo-pypy ...), and this process has no PyPy (rpython_startup_code is not resolvable); elsewhere, run the uwsgo binary")
		return 1
	}
	args := make([]string, int(argc))
	for i, p := range unsafe.Slice(argv, int(argc)) {
		args[i] = C.GoString(p)
	}
	if len(args) == 0 {
		args = []string{"uwsgo"}
	}
	adoptEnviron()
	// os.Args is PyPy's command line here; uwsgo's is the one the launcher passed, and the
	// master starts workers (and --daemonize its copy) with it.
	os.Args = args
	instance.LibraryMode = true
	return C.int(cli.Main(args[1:]))
}

// adoptEnviron makes Go's environment the process's current one. Go's runtime in a shared
// library copies the environment the process started with; what the interpreter set since
// (os.environ calls putenv), such as the launcher's UWSGO_LAUNCHER, is only in libc's.
func adoptEnviron() {
	env := make([]string, int(C.environ_len()))
	for i, p := range unsafe.Slice(C.environ, len(env)) {
		env[i] = C.GoString(p)
	}
	os.Clearenv()
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			os.Setenv(k, v)
		}
	}
}

// main is required by -buildmode=c-shared and never runs.
func main() {}
