package systemd

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func receive(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifyPathAndAbstractSockets(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		"@uwsgo-test-notify-" + strconv.Itoa(os.Getpid()),
	} {
		c := listen(t, name)
		t.Setenv("NOTIFY_SOCKET", name)
		n := NotifierFromEnv()
		if n == nil {
			t.Fatalf("NOTIFY_SOCKET=%s gave no notifier", name)
		}
		if _, still := os.LookupEnv("NOTIFY_SOCKET"); still {
			t.Fatal("NOTIFY_SOCKET must be unset once read, so that workers and the app do not see it")
		}
		if err := n.Notify("READY=1", "STATUS=serving"); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, c); got != "READY=1\nSTATUS=serving\n" {
			t.Fatalf("%s received %q", name, got)
		}
		if err := n.Notify(Reloading("reloading")...); err != nil {
			t.Fatal(err)
		}
		got := receive(t, c)
		if !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") || !strings.HasSuffix(got, "\nSTATUS=reloading\n") {
			t.Fatalf("reloading message %q", got)
		}
	}
}

func TestNoNotifySocketSendsNothing(t *testing.T) {
	for _, v := range []string{"", "relative/path"} {
		t.Setenv("NOTIFY_SOCKET", v)
		if n := NotifierFromEnv(); n != nil {
			t.Fatalf("NOTIFY_SOCKET=%q gave a notifier", v)
		}
		var n *Notifier
		if err := n.Notify("READY=1"); err != nil {
			t.Fatalf("a nil notifier must be a no-op: %v", err)
		}
	}
}

// Variables addressed to another process (an inherited LISTEN_PID) are dropped without
// touching any descriptor.
func TestListenersForAnotherProcess(t *testing.T) {
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()+1))
	t.Setenv("LISTEN_FDS", "1")
	t.Setenv("LISTEN_FDNAMES", "web")
	socks, err := Listeners()
	if err != nil || len(socks) != 0 {
		t.Fatalf("got %v, %v", socks, err)
	}
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if _, still := os.LookupEnv(k); still {
			t.Errorf("%s must be unset", k)
		}
	}
}

func TestListenersBadCount(t *testing.T) {
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	t.Setenv("LISTEN_FDS", "x")
	if _, err := Listeners(); err == nil || !strings.Contains(err.Error(), "LISTEN_FDS") {
		t.Fatalf("want an error naming LISTEN_FDS, got %v", err)
	}
}
