package worker

import (
	"errors"
	"log"

	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/server"
)

// ASGI apps: loaded instead of a WSGI app, started (lifespan startup) once the post-fork
// steps ran, and stopped (lifespan shutdown) once the last request of the worker ended.
// The loop and its design are internal/server/asgi.go's.

// loadASGI loads the ASGI app if one is given; asgi says whether one was.
func loadASGI(cfg *options.Config) (asgi bool, err error) {
	module, file := cfg.Get("pypy-asgi"), cfg.Get("pypy-asgi-file")
	if module == "" && file == "" {
		return false, nil
	}
	if cfg.Has("pypy-wsgi") || cfg.Has("pypy-wsgi-file") || cfg.Has("pypy-paste") || cfg.Has("mount") {
		return true, errors.New("an ASGI app (--pypy-asgi, --pypy-asgi-file) is served alone: give no --pypy-wsgi, --pypy-wsgi-file, --pypy-paste or --mount with it")
	}
	// --threads sizes the loop's executor (asyncio.to_thread, run_in_executor(None));
	// without it, asyncio's own default.
	threads := 0
	if cfg.Has("threads") {
		threads = int(cfg.Int("threads"))
	}
	if module != "" {
		return true, pypy.LoadASGI(module, false, threads)
	}
	return true, pypy.LoadASGI(file, true, threads)
}

// startASGI runs the app's lifespan startup, if an ASGI app loaded: a failed startup is a
// start-up error of the worker.
func startASGI() error {
	if pypy.ASGILoopFD() < 0 {
		return nil
	}
	if err := pypy.Do(pypy.StepASGIStartup, ""); err != nil {
		return fail(1, "%v", err)
	}
	return nil
}

// appOf is what the server runs requests in: the ASGI app's loop when one loaded.
func appOf() server.App {
	app := server.App{Handle: pypy.Handle, RPC: pypy.RPC, LoopFD: pypy.ASGILoopFD()}
	if app.LoopFD >= 0 {
		app.ASGI = pypy.ASGI
	}
	return app
}

// stopASGI runs the app's lifespan shutdown, holding the loop.
func stopASGI(s *server.Server, logger *log.Logger) {
	if pypy.ASGILoopFD() < 0 {
		return
	}
	s.WithLoop(func() {
		if err := pypy.Do(pypy.StepASGIShutdown, ""); err != nil {
			logger.Printf("%v", err)
		}
	})
}
