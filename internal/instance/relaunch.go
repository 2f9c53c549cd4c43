package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LibraryMode is set by the library build (cmd/libuwsgo): uwsgo then runs inside a PyPy
// that loaded it, so the running executable is the PyPy interpreter, which serves only
// when it runs the script that loads libuwsgo.so.
var LibraryMode bool

// LauncherEnv is how bin/uwsgo-pypy tells the library its own absolute path. It passes the
// same path as argv[0]; only when the two agree is the variable taken as this process's
// launcher, and not one inherited from some other process.
const LauncherEnv = "UWSGO_LAUNCHER"

// Relaunch is the command that starts this program again, before uwsgo's own arguments:
// what a master runs for each worker, and --daemonize for its background copy. binaryPath
// (--binary-path) wins when given; otherwise it is the running binary, or, in library
// mode, the interpreter running the launcher again.
func Relaunch(binaryPath string) ([]string, error) {
	if binaryPath != "" {
		return []string{binaryPath}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the running executable (give --binary-path): %w", err)
	}
	if !LibraryMode {
		return []string{self}, nil
	}
	launcher := os.Getenv(LauncherEnv)
	if arg0, err := filepath.Abs(os.Args[0]); launcher == "" || err != nil || arg0 != launcher {
		return nil, errors.New("library mode: cannot tell which script loaded libuwsgo.so, so cannot start it again; give --binary-path SCRIPT (an executable that loads libuwsgo.so and calls uwsgi_init with its arguments), or start uwsgo with bin/uwsgo-pypy")
	}
	// The interpreter runs the launcher: neither its execute bit nor its #! line matter, and
	// the workers run on the very PyPy the master runs on.
	return []string{self, launcher}, nil
}
