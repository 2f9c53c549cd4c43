package server

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// Listen binds one --http-socket address: "host:port", ":port", "[::1]:port", or a path
// (anything with a "/" or without a ":"), which is a UNIX socket. A stale socket file left
// by a previous run is replaced; any other file in the way is an error.
func Listen(addr string) (net.Listener, error) {
	if isUnixPath(addr) {
		if st, err := os.Lstat(addr); err == nil {
			if st.Mode()&os.ModeSocket == 0 {
				return nil, fmt.Errorf("%s exists and is not a socket", addr)
			}
			if c, err := net.Dial("unix", addr); err == nil {
				c.Close()
				return nil, fmt.Errorf("%s: another process is serving on this socket", addr)
			}
			os.Remove(addr)
		}
		ln, err := net.Listen("unix", addr)
		if err != nil {
			return nil, err
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(true)
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

func isUnixPath(addr string) bool {
	return strings.Contains(addr, "/") || !strings.Contains(addr, ":")
}
