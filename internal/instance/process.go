package instance

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"uwsgo/internal/options"
)

// processLimits applies --umask and --max-fd first of all, as uWSGI does, so that the
// sockets, the log file and every worker (which inherit both) are made under them.
func processLimits(cfg *options.Config) error {
	if m := cfg.Get("umask"); m != "" {
		mask, err := strconv.ParseUint(m, 8, 32)
		if err != nil || mask > 0o777 {
			return fmt.Errorf("--umask %s: not an octal mask such as 022 or 077", m)
		}
		syscall.Umask(int(mask))
	}
	if n := cfg.Int("max-fd"); n > 0 {
		lim := syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}
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
