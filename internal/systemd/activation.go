package systemd

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// firstFD is where systemd's passed descriptors start (SD_LISTEN_FDS_START).
const firstFD = 3

// Socket is one listening socket systemd passed.
type Socket struct {
	FD       int    // the descriptor it arrived on (for the log; the listener holds a copy)
	Name     string // its FileDescriptorName= (LISTEN_FDNAMES), "" when none was given
	Listener net.Listener
}

// Listeners takes the sockets systemd passed to this process and unsets LISTEN_PID,
// LISTEN_FDS and LISTEN_FDNAMES. It returns none when the variables are absent or name
// another process (LISTEN_PID is not ours: they were inherited, not addressed to us).
// The passed descriptors themselves are closed once each is wrapped in a listener (which
// holds its own close-on-exec copy), so they reach no child process.
func Listeners() ([]Socket, error) {
	pid, fds, names := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid == "" || fds == "" {
		return nil, nil
	}
	if p, err := strconv.Atoi(pid); err != nil || p != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("LISTEN_FDS=%q is not a number of descriptors", fds)
	}
	var nameList []string
	if names != "" {
		nameList = strings.Split(names, ":")
	}
	var out []Socket
	for i := 0; i < n; i++ {
		fd := firstFD + i
		s := Socket{FD: fd}
		// systemd names unnamed sockets "unknown"; so does systemd-socket-activate.
		if i < len(nameList) && nameList[i] != "unknown" {
			s.Name = nameList[i]
		}
		f := os.NewFile(uintptr(fd), "systemd socket "+strconv.Itoa(fd))
		ln, err := listener(f)
		f.Close()
		if err != nil {
			for _, o := range out {
				o.Listener.Close()
			}
			return nil, fmt.Errorf("socket %d passed by systemd (%q): %w", fd, s.Name, err)
		}
		s.Listener = ln
		out = append(out, s)
	}
	return out, nil
}

// listener accepts only what uwsgo can serve on: a listening stream socket.
func listener(f *os.File) (net.Listener, error) {
	fd := int(f.Fd())
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, err
	}
	if typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("not a stream socket (use ListenStream=)")
	}
	if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil && on == 0 {
		return nil, fmt.Errorf("not listening (Accept=yes passes connections, uwsgo needs Accept=no)")
	}
	return net.FileListener(f)
}
