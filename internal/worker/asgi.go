package worker

import (
	"log"

	"uwsgo/internal/pypy"
	"uwsgo/internal/server"
)

// ASGI apps: loaded instead of a WSGI app, started (lifespan startup) once the post-fork
// steps ran, and stopped (lifespan shutdown) once the last request of the worker ended.
// The loop and its design are internal/server/asgi.go's.

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

// ASGIEvent passes the ASGI loop's events to the server, as Send passes responses
// (uwsgiapi.go).
func (a *uwsgiAPI) ASGIEvent(what, handle int, arg int64, data []byte) int64 {
	if a.server == nil {
		return -1
	}
	return a.server.ASGIEvent(what, handle, arg, data)
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
