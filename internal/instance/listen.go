package instance

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Listen binds one socket address: "host:port", ":port", "[::1]:port", or a path (anything
// with a "/" or without a ":"), which is a UNIX socket. backlog 0 leaves the listen queue
// to Go (the system's maximum). A stale socket file left by a previous run is replaced;
// one that still answers, or any other file in the way, is an error.
func Listen(addr string, backlog int) (net.Listener, error) {
	if IsUnixPath(addr) {
		if err := clearStaleSocket(addr); err != nil {
			return nil, err
		}
		if backlog == 0 {
			return net.Listen("unix", addr)
		}
		return listenWithBacklog(unix.AF_UNIX, &unix.SockaddrUnix{Name: addr}, backlog, addr)
	}
	if backlog == 0 {
		return net.Listen("tcp", addr)
	}
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ip4)
		return listenWithBacklog(unix.AF_INET, sa, backlog, addr)
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16()) // nil IP (":port"): [::], which also takes IPv4 as Go's own listeners do
	return listenWithBacklog(unix.AF_INET6, sa, backlog, addr)
}

// IsUnixPath says whether a socket address names a UNIX socket.
func IsUnixPath(addr string) bool {
	return strings.Contains(addr, "/") || !strings.Contains(addr, ":")
}

func clearStaleSocket(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("%s: another process is serving on this socket", path)
	}
	return os.Remove(path)
}

// listenWithBacklog does what net.Listen does, with the listen queue length given: Go's
// own listeners always ask for the system's maximum.
func listenWithBacklog(family int, sa unix.Sockaddr, backlog int, name string) (net.Listener, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close() // FileListener keeps a duplicate
	if family != unix.AF_UNIX {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return nil, err
		}
	}
	if family == unix.AF_INET6 {
		sa6 := sa.(*unix.SockaddrInet6)
		v6only := 1
		if sa6.Addr == [16]byte{} {
			v6only = 0
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return nil, err
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return nil, os.NewSyscallError("listen", err)
	}
	return net.FileListener(f)
}
