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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"uwsgo/internal/hooks"
	"uwsgo/internal/options"
	"uwsgo/internal/systemd"
)

// Socket is one bound listening socket.
type Socket struct {
	Proto    string // "http" or "uwsgi"
	Addr     string // as configured
	Listener net.Listener
	UnixPath string // the socket file of a UNIX socket, "" otherwise
	// FromSystemd is a socket systemd passed (socket activation): systemd owns its file
	// and permissions, so --vacuum and --chmod-socket leave it alone.
	FromSystemd bool
}

// Instance holds what the instance set up and must clean up.
type Instance struct {
	Sockets []*Socket
	// Notify tells systemd about start-up, reloads and stopping ($NOTIFY_SOCKET); nil
	// when not run by systemd with Type=notify.
	Notify *systemd.Notifier
	vacuum []string
}

// daemonizedEnv marks the background copy of a --daemonize'd instance.
const daemonizedEnv = "UWSGO_DAEMONIZED"

// Prepare does everything up to serving. With --daemonize it returns (nil, nil) in the
// foreground process, whose job is done once the background copy runs.
func Prepare(cfg *options.Config, logger *log.Logger) (*Instance, error) {
	if err := processLimits(cfg); err != nil {
		return nil, err
	}
	if err := hooks.Check(cfg); err != nil {
		return nil, err
	}
	// The background copy of --daemonize has had its asap in the foreground.
	if os.Getenv(daemonizedEnv) == "" {
		if err := hooks.Run(cfg, "asap", logger); err != nil {
			return nil, err
		}
	}
	if dir := cfg.Operations.Chdir; dir != "" {
		if err := os.Chdir(dir); err != nil {
			return nil, fmt.Errorf("--chdir: %w", err)
		}
	}
	if logfile := cfg.Operations.Daemonize; logfile != "" && os.Getenv(daemonizedEnv) == "" {
		return nil, daemonize(logfile, cfg, logger)
	}
	if f := cfg.Operations.Logto; f != "" {
		if err := logTo(f); err != nil {
			return nil, fmt.Errorf("--logto: %w", err)
		}
	}
	in := &Instance{Notify: systemd.NotifierFromEnv()}
	if err := in.bind(cfg, logger); err != nil {
		in.Close()
		return nil, err
	}
	if p := cfg.Operations.Pidfile; p != "" {
		if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			in.Close()
			return nil, fmt.Errorf("--pidfile: %w", err)
		}
		if cfg.Operations.Vacuum {
			in.vacuum = append(in.vacuum, p)
		}
	}
	if err := hooks.Run(cfg, "as-root", logger); err != nil {
		in.Close()
		return nil, err
	}
	if err := dropPrivileges(cfg.Operations.UID, cfg.Operations.GID, logger); err != nil {
		in.Close()
		return nil, err
	}
	if err := hooks.Run(cfg, "as-user", logger); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// Close closes the sockets and, with --vacuum, removes the files the instance made.
func (in *Instance) Close() {
	in.StopListening()
	for _, p := range in.vacuum {
		os.Remove(p)
	}
}

// StopListening closes the sockets: once every process holding them has closed its copy,
// a new client is refused rather than left in the backlog of a socket nobody accepts on.
func (in *Instance) StopListening() {
	for _, s := range in.Sockets {
		s.Listener.Close()
	}
}

// Address is one socket to bind, with the protocol it speaks.
type Address struct{ Proto, Addr, Option string }

// Addresses lists the sockets the options ask for, in the order the instance binds them
// (and so the order in which a master's workers inherit them).
func Addresses(cfg *options.Config) []Address {
	var out []Address
	for _, o := range []struct {
		option, proto string
		addrs         []string
	}{{"http-socket", "http", cfg.Sockets.HTTPSocket}, {"http", "http", cfg.Sockets.HTTP}, {"socket", "uwsgi", cfg.Sockets.UwsgiSocket}} {
		for _, a := range o.addrs {
			out = append(out, Address{Proto: o.proto, Addr: a, Option: o.option})
		}
	}
	return out
}

func (in *Instance) bind(cfg *options.Config, logger *log.Logger) error {
	addrs := Addresses(cfg)
	passed, err := systemd.Listeners()
	if err != nil {
		return err
	}
	if len(addrs) == 0 && len(passed) == 0 {
		return errors.New("no socket to serve on: give --http-socket ADDR (for example --http-socket :9090) or --socket ADDR (uwsgi protocol, for nginx)")
	}
	owner, err := socketOwner(cfg.Sockets.SocketOwner)
	if err != nil {
		return err
	}
	given := matchActivated(addrs, passed)
	for i, a := range addrs {
		s := &Socket{Proto: a.Proto, Addr: a.Addr}
		if p := given[i]; p != nil {
			s.Listener, s.FromSystemd = p.Listener, true
		} else {
			ln, err := Listen(a.Addr, cfg.Sockets.Backlog)
			if err != nil {
				return fmt.Errorf("--%s %s: %w", a.Option, a.Addr, err)
			}
			s.Listener = ln
		}
		in.Sockets = append(in.Sockets, s)
		if err := in.setUp(s, cfg.Operations.Vacuum, cfg.Sockets.SocketMode, owner); err != nil {
			return err
		}
		in.announce(s, logger, given[i])
	}
	// A passed socket no option asked for is served as well: HTTP, unless its name says
	// it is for the uwsgi protocol (FileDescriptorName=uwsgi, app-uwsgi ...).
	for i := range passed {
		p := &passed[i]
		if p.Listener == nil {
			continue
		}
		s := &Socket{Proto: "http", Addr: p.Listener.Addr().String(), Listener: p.Listener, FromSystemd: true}
		if strings.Contains(p.Name, "uwsgi") {
			s.Proto = "uwsgi"
		}
		in.Sockets = append(in.Sockets, s)
		if err := in.setUp(s, false, 0, nil); err != nil {
			return err
		}
		in.announce(s, logger, p)
	}
	return nil
}

// matchActivated pairs the sockets systemd passed with the configured addresses: by
// name first (FileDescriptorName= equal to the address as written), then by the address
// the socket is bound to, then the rest in order. Each passed socket given to an address
// is taken out of passed (its Listener set to nil); the result is indexed like addrs.
func matchActivated(addrs []Address, passed []systemd.Socket) []*systemd.Socket {
	given := make([]*systemd.Socket, len(addrs))
	take := func(i, j int) {
		p := passed[j]
		given[i] = &p
		passed[j].Listener = nil
	}
	for _, same := range []func(Address, *systemd.Socket) bool{
		func(a Address, p *systemd.Socket) bool { return p.Name != "" && p.Name == a.Addr },
		func(a Address, p *systemd.Socket) bool { return sameAddress(a.Addr, p.Listener.Addr()) },
		func(Address, *systemd.Socket) bool { return true },
	} {
		for i, a := range addrs {
			for j := range passed {
				if given[i] == nil && passed[j].Listener != nil && same(a, &passed[j]) {
					take(i, j)
				}
			}
		}
	}
	return given
}

// sameAddress says whether a configured address names the address a socket is bound to.
func sameAddress(addr string, bound net.Addr) bool {
	switch b := bound.(type) {
	case *net.UnixAddr:
		return IsUnixPath(addr) && filepath.Clean(addr) == filepath.Clean(b.Name)
	case *net.TCPAddr:
		if IsUnixPath(addr) {
			return false
		}
		ta, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil || ta.Port != b.Port {
			return false
		}
		return ta.IP.Equal(b.IP) || (len(ta.IP) == 0 || ta.IP.IsUnspecified()) && b.IP.IsUnspecified()
	}
	return false
}

// setUp finishes a listening socket: UNIX socket files are ours to remove (--vacuum) and
// to give permissions (--chmod-socket) and an owner (--chown-socket) unless systemd made
// them.
func (in *Instance) setUp(s *Socket, vacuum bool, mode os.FileMode, owner *[2]int) error {
	ul, ok := s.Listener.(*net.UnixListener)
	if !ok {
		return nil
	}
	s.UnixPath = ul.Addr().String()
	// Removal is ours to decide (--vacuum), not the listener's.
	ul.SetUnlinkOnClose(false)
	if s.FromSystemd {
		return nil
	}
	if vacuum {
		in.vacuum = append(in.vacuum, s.UnixPath)
	}
	if mode != 0 {
		if err := os.Chmod(s.UnixPath, mode); err != nil {
			return fmt.Errorf("--chmod-socket: %w", err)
		}
	}
	if owner != nil {
		if err := os.Chown(s.UnixPath, owner[0], owner[1]); err != nil {
			return fmt.Errorf("--chown-socket: %w", err)
		}
	}
	return nil
}

func (in *Instance) announce(s *Socket, logger *log.Logger, p *systemd.Socket) {
	ln := s.Listener
	from := ""
	if p != nil {
		from = fmt.Sprintf(" (socket %d from systemd", p.FD)
		if p.Name != "" {
			from += fmt.Sprintf(", named %q", p.Name)
		}
		from += ")"
	}
	if s.Proto == "uwsgi" {
		logger.Printf("uwsgi protocol on %s%s", ln.Addr(), from)
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			logger.Printf("WARNING: the uwsgi protocol on %s is reachable from every network interface: it trusts its peer (REMOTE_ADDR, HTTPS, SCRIPT_NAME come from the packet) and runs any registered RPC function; bind it to 127.0.0.1 or a UNIX socket behind your proxy", ln.Addr())
		}
	} else {
		logger.Printf("HTTP on %s%s", ln.Addr(), from)
	}
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
		binaryPath = cfg.Processes.BinaryPath
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
		gid, err := lookupGroup(gidSpec)
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
		uid, err := lookupUser(uidSpec)
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

func lookupUser(spec string) (int, error) {
	return lookupID(spec, func(n string) (string, error) {
		u, err := user.Lookup(n)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	})
}

func lookupGroup(spec string) (int, error) {
	return lookupID(spec, func(n string) (string, error) {
		g, err := user.LookupGroup(n)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	})
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
