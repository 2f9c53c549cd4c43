package instance

import (
	"fmt"
	"strings"
	"syscall"

	"uwsgo/internal/options"
)

// processLimits applies --umask and --max-fd first of all, as uWSGI does, so that the
// sockets, the log file and every worker (which inherit both) are made under them.
func processLimits(cfg *options.Config) error {
	if m := cfg.Sockets.Umask; m != nil {
		syscall.Umask(int(*m))
	}
	if n := cfg.Processes.MaxFD; n > 0 {
		lim := syscall.Rlimit{Cur: n, Max: n}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			var old syscall.Rlimit
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
			return fmt.Errorf("--max-fd %d: cannot set the open files limit (now %d, at most %d without privileges): %w", n, old.Cur, old.Max, err)
		}
	}
	return nil
}

// socketOwner reads --chown-socket USER[:GROUP] (uWSGI's syntax); nil when not given.
// Without a group the socket keeps the group it was made with (-1 leaves it).
func socketOwner(spec string) (*[2]int, error) {
	if spec == "" {
		return nil, nil
	}
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, err := lookupUser(u)
	if err != nil {
		return nil, fmt.Errorf("--chown-socket %s: %w", spec, err)
	}
	gid := -1
	if hasGroup {
		if gid, err = lookupGroup(g); err != nil {
			return nil, fmt.Errorf("--chown-socket %s: %w", spec, err)
		}
	}
	return &[2]int{uid, gid}, nil
}
