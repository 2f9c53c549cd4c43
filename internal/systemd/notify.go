// Package systemd speaks the two protocols a service has with systemd, without linking
// libsystemd: readiness notification (sd_notify: datagrams of "KEY=value" lines sent to
// the socket named by $NOTIFY_SOCKET) and socket activation (sd_listen_fds: listening
// sockets passed as descriptors 3, 4, ... described by $LISTEN_PID, $LISTEN_FDS and
// $LISTEN_FDNAMES).
//
// Both read their variables once and unset them, as sd_notify and sd_listen_fds do when
// asked to: the variables are addressed to this process, and the workers it starts and
// the app it runs must not act on them a second time (a worker sending READY=1, or an app
// taking descriptor 3 for a socket).
package systemd

import (
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Notifier sends state changes to systemd. A nil *Notifier (no $NOTIFY_SOCKET) sends
// nothing, so callers need not check whether they run under systemd.
type Notifier struct {
	addr *net.UnixAddr
}

// NotifierFromEnv takes $NOTIFY_SOCKET out of the environment and returns a Notifier for
// it, or nil when it is unset or not a socket path. A name starting with "@" is a socket
// in Linux's abstract namespace; Go's net package maps the "@" to the leading NUL byte.
func NotifierFromEnv() *Notifier {
	path, ok := os.LookupEnv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	if !ok || path == "" || (path[0] != '/' && path[0] != '@') {
		return nil
	}
	return &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// Notify sends one message made of the given "KEY=value" lines (READY=1, STATUS=...).
// Each message is one datagram from a fresh socket, as sd_notify sends it: systemd tells
// the sender by its credentials, so nothing needs to stay open between messages.
func (n *Notifier) Notify(lines ...string) error {
	if n == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(strings.Join(lines, "\n") + "\n"))
	return err
}

// Reloading is the message that starts a reload: RELOADING=1 with the CLOCK_MONOTONIC time
// that systemd's Type=notify-reload asks for. READY=1 ends the reload.
func Reloading(status string) []string {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return []string{"RELOADING=1", "MONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10), "STATUS=" + status}
}
