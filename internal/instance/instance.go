// Package instance is what a uwsgo instance does around serving, in either process model:
// change directory, go to the background, send the log to a file, bind the sockets, write
// the pidfile, drop privileges, and undo what it should at exit (--vacuum).
//
// The order follows uWSGI: sockets are bound while still privileged (so port 80 works),
// then the pidfile is written and the user changes; nothing of the app runs before that.
package instance

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"uwsgo/internal/options"
)

// Socket is one bound listening socket.
type Socket struct {
	Proto    string // "http" or "uwsgi"
	Addr     string // as configured
	Listener net.Listener
	UnixPath string // the socket file of a UNIX socket, "" otherwise
}

// Instance holds what the instance set up and must clean up.
type Instance struct {
	Sockets []*Socket
	vacuum  []string
}

// daemonizedEnv marks the background copy of a --daemonize'd instance.
const daemonizedEnv = "UWSGO_DAEMONIZED"

// Prepare does everything up to serving. With --daemonize it returns (nil, nil) in the
// foreground process, whose job is done once the background copy runs.
func Prepare(cfg *options.Config, logger *log.Logger) (*Instance, error) {
	if dir := cfg.Get("chdir"); dir != "" {
		if err := os.Chdir(dir); err != nil {
			return nil, fmt.Errorf("--chdir: %w", err)
		}
	}
	if logfile := cfg.Get("daemonize"); logfile != "" && os.Getenv(daemonizedEnv) == "" {
		return nil, daemonize(logfile, cfg, logger)
	}
	if f := cfg.Get("logto"); f != "" {
		if err := logTo(f); err != nil {
			return nil, fmt.Errorf("--logto: %w", err)
		}
	}
	in := &Instance{}
	if err := in.bind(cfg, logger); err != nil {
		in.Close()
		return nil, err
	}
	if p := cfg.Get("pidfile"); p != "" {
		if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			in.Close()
			return nil, fmt.Errorf("--pidfile: %w", err)
		}
		if cfg.Bool("vacuum") {
			in.vacuum = append(in.vacuum, p)
		}
	}
	if err := dropPrivileges(cfg.Get("uid"), cfg.Get("gid"), logger); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// Close closes the sockets and, with --vacuum, removes the files the instance made.
func (in *Instance) Close() {
	for _, s := range in.Sockets {
		s.Listener.Close()
	}
	for _, p := range in.vacuum {
		os.Remove(p)
	}
}

// Address is one socket to bind, with the protocol it speaks.
type Address struct{ Proto, Addr, Option string }

// Addresses lists the sockets the options ask for, in the order the instance binds them
// (and so the order in which a master's workers inherit them).
func Addresses(cfg *options.Config) []Address {
	var out []Address
	for _, o := range []struct{ option, proto string }{{"http-socket", "http"}, {"http", "http"}, {"socket", "uwsgi"}} {
		for _, a := range cfg.All(o.option) {
			out = append(out, Address{Proto: o.proto, Addr: a, Option: o.option})
		}
	}
	return out
}

func (in *Instance) bind(cfg *options.Config, logger *log.Logger) error {
	addrs := Addresses(cfg)
	if len(addrs) == 0 {
		return errors.New("no socket to serve on: give --http-socket ADDR (for example --http-socket :9090) or --socket ADDR (uwsgi protocol, for nginx)")
	}
	mode := uint64(0)
	if m := cfg.Get("chmod-socket"); m != "" {
		var err error
		if mode, err = strconv.ParseUint(m, 8, 32); err != nil || mode > 0o777 {
			return fmt.Errorf("--chmod-socket %s: not an octal permission such as 666 or 660", m)
		}
	}
	for _, a := range addrs {
		ln, err := Listen(a.Addr, int(cfg.Int("listen")))
		if err != nil {
			return fmt.Errorf("--%s %s: %w", a.Option, a.Addr, err)
		}
		s := &Socket{Proto: a.Proto, Addr: a.Addr, Listener: ln}
		in.Sockets = append(in.Sockets, s)
		if ul, ok := ln.(*net.UnixListener); ok {
			s.UnixPath = ul.Addr().String()
			// Removal is ours to decide (--vacuum), not the listener's.
			ul.SetUnlinkOnClose(false)
			if cfg.Bool("vacuum") {
				in.vacuum = append(in.vacuum, s.UnixPath)
			}
			if mode != 0 {
				if err := os.Chmod(s.UnixPath, os.FileMode(mode)); err != nil {
					return fmt.Errorf("--chmod-socket: %w", err)
				}
			}
		}
		if a.Proto == "uwsgi" {
			logger.Printf("uwsgi protocol on %s", ln.Addr())
			if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
				logger.Printf("WARNING: the uwsgi protocol on %s is reachable from every network interface: it trusts its peer (REMOTE_ADDR, HTTPS, SCRIPT_NAME come from the packet) and runs any registered RPC function; bind it to 127.0.0.1 or a UNIX socket behind your proxy", ln.Addr())
			}
		} else {
			logger.Printf("HTTP on %s", ln.Addr())
		}
	}
	return nil
}

// daemonize starts a copy of this process in a new session, in the background, with its
// output appended to logfile. Go cannot fork a running runtime, so the copy is a new
// execution of the same binary with the same arguments.
func daemonize(logfile string, cfg *options.Config, logger *log.Logger) error {
	out, err := os.OpenFile(logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("--daemonize: %w", err)
	}
	defer out.Close()
	// The binary runs itself again; only in library mode may that need --binary-path.
	binaryPath := ""
	if LibraryMode {
		binaryPath = cfg.Get("binary-path")
	}
	self, err := Relaunch(binaryPath)
	if err != nil {
		return fmt.Errorf("--daemonize: %w", err)
	}
	cmd := exec.Command(self[0], append(self[1:], os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), daemonizedEnv+"=1")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("--daemonize: %w", err)
	}
	logger.Printf("running in the background as pid %d, logging to %s", cmd.Process.Pid, logfile)
	return nil
}

// logTo appends everything written to stdout and stderr (uwsgo's log, the app's prints
// and tracebacks) to file.
func logTo(file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := unix.Dup3(int(f.Fd()), fd, 0); err != nil {
			return err
		}
	}
	return nil
}

// dropPrivileges switches to --gid then --uid (names or numbers). Go applies setuid to
// every thread of the process.
func dropPrivileges(uidSpec, gidSpec string, logger *log.Logger) error {
	if gidSpec != "" {
		gid, err := lookupID(gidSpec, func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
		if err != nil {
			return fmt.Errorf("--gid %s: %w", gidSpec, err)
		}
		if err := syscall.Setgroups([]int{gid}); err != nil {
			return fmt.Errorf("--gid %s: setgroups: %w", gidSpec, err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("--gid %s: %w", gidSpec, err)
		}
		logger.Printf("running as group %d", gid)
	}
	if uidSpec != "" {
		uid, err := lookupID(uidSpec, func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		})
		if err != nil {
			return fmt.Errorf("--uid %s: %w", uidSpec, err)
		}
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("--uid %s: %w", uidSpec, err)
		}
		logger.Printf("running as user %d", uid)
	}
	return nil
}

func lookupID(spec string, byName func(string) (string, error)) (int, error) {
	if n, err := strconv.Atoi(spec); err == nil {
		return n, nil
	}
	s, err := byName(spec)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}
