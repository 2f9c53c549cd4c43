package e2e

// End-to-end tests of the address forms --http-socket accepts.

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// httpUnixClient is a net/http client that reaches every URL through the UNIX socket path.
func httpUnixClient(t *testing.T, path string) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// httpGetEnv fetches /env?q with client from base and returns the app's environ.
func httpGetEnv(t *testing.T, client *http.Client, base, q string) map[string]any {
	t.Helper()
	resp, err := client.Get(base + "/env?" + q)
	if err != nil {
		t.Fatalf("GET %s/env?%s: %v", base, q, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s/env?%s: %d %q %v", base, q, resp.StatusCode, b, err)
	}
	env := httpJSON(t, string(b))
	if env["QUERY_STRING"] != q {
		t.Fatalf("GET %s/env?%s: the app saw QUERY_STRING %v", base, q, env["QUERY_STRING"])
	}
	return env
}

// httpIPv6Port finds a free port on [::1], or skips the test when there is no IPv6 loopback.
func httpIPv6Port(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// httpSockPath is a UNIX socket path short enough for sun_path.
func httpSockPath(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "uwsgo-http-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, name)
}

func TestHTTPListenHostPort(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", addr))
	_, port, _ := net.SplitHostPort(addr)
	env := httpGetEnv(t, http.DefaultClient, "http://"+addr, "hostport")
	if env["SERVER_PORT"] != port || env["REMOTE_ADDR"] != "127.0.0.1" {
		t.Fatalf("SERVER_PORT %v REMOTE_ADDR %v; want %s and 127.0.0.1", env["SERVER_PORT"], env["REMOTE_ADDR"], port)
	}
}

// ":PORT" listens on every address, 127.0.0.1 included.
func TestHTTPListenPortOnly(t *testing.T) {
	t.Parallel()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	s := Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", ":"+port))
	env := httpGetEnv(t, http.DefaultClient, "http://127.0.0.1:"+port, "portonly")
	if env["SERVER_PORT"] != port {
		t.Fatalf("SERVER_PORT %v, want %s", env["SERVER_PORT"], port)
	}
	if !strings.Contains(s.Log(), ":"+port) {
		t.Errorf("the log does not name the port:\n%s", s.Log())
	}
}

func TestHTTPListenIPv6(t *testing.T) {
	t.Parallel()
	port := httpIPv6Port(t)
	Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", "[::1]:"+port))
	env := httpGetEnv(t, http.DefaultClient, "http://[::1]:"+port, "v6")
	if env["SERVER_PORT"] != port || env["REMOTE_ADDR"] != "::1" {
		t.Fatalf("SERVER_PORT %v REMOTE_ADDR %v; want %s and ::1", env["SERVER_PORT"], env["REMOTE_ADDR"], port)
	}
	// The Host header names the IPv6 literal and reaches the app as sent.
	if env["HTTP_HOST"] != "[::1]:"+port {
		t.Errorf("HTTP_HOST %v", env["HTTP_HOST"])
	}
}

func TestHTTPListenUnix(t *testing.T) {
	t.Parallel()
	path := httpSockPath(t, "http.sock")
	Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", path))
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("%s: %v %v; want a socket", path, st, err)
	}
	client := httpUnixClient(t, path)
	for i := 0; i < 2; i++ {
		env := httpGetEnv(t, client, "http://unix", "unix="+strconv.Itoa(i))
		if env["SERVER_NAME"] != "unix" {
			t.Errorf("SERVER_NAME %v", env["SERVER_NAME"])
		}
	}
	// Raw HTTP/1.1 on the socket, keep-alive included.
	c := httpDial(t, "unix", path)
	c.send(httpGET("/echo?a"))
	if resp, body := c.response("GET"); resp.StatusCode != 200 || body != "GET /echo?a|" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	httpCheckNext(t, c)
}

// A socket file left behind by a process that is gone is replaced.
func TestHTTPListenUnixStale(t *testing.T) {
	t.Parallel()
	path := httpSockPath(t, "stale.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("test bug: no stale socket at %s: %v", path, err)
	}
	Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", path))
	httpGetEnv(t, httpUnixClient(t, path), "http://unix", "stale")
}

// A path that is a regular file is refused with an error naming it, and the file is left
// alone.
func TestHTTPListenUnixRegularFile(t *testing.T) {
	t.Parallel()
	path := httpSockPath(t, "not-a-socket")
	if err := os.WriteFile(path, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", path), NoWait()).ExitWithin(30 * time.Second)
	if code == 0 {
		t.Errorf("exit status 0; want a failure")
	}
	if !strings.Contains(out, path) || !strings.Contains(out, "not a socket") {
		t.Errorf("the error does not say that %s is not a socket:\n%s", path, out)
	}
	if strings.Contains(out, " ready (") {
		t.Errorf("it said it was ready:\n%s", out)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "precious\n" {
		t.Errorf("the file was changed: %q %v", b, err)
	}
}

// A socket another process is serving on is not stolen.
func TestHTTPListenUnixInUse(t *testing.T) {
	t.Parallel()
	path := httpSockPath(t, "busy.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	code, out := Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), "--http-socket", path), NoWait()).ExitWithin(30 * time.Second)
	if code == 0 || !strings.Contains(out, path) {
		t.Errorf("exit status %d; want a failure naming %s:\n%s", code, path, out)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the other process's socket is gone: %v", err)
	}
	c.Close()
}

// Several --http-socket at once: every one serves, each with its own SERVER_PORT.
func TestHTTPListenSeveral(t *testing.T) {
	t.Parallel()
	a1, a2 := freeAddr(t), freeAddr(t)
	path := httpSockPath(t, "several.sock")
	args := []string{"--http-socket", a1, "--http-socket", path, "--http-socket", a2}
	v6 := ""
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		v6 = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		args = append(args, "--http-socket", "[::1]:"+v6)
	}
	Run(t, httpArgs(filepath.Join(t.TempDir(), "seen"), args...))
	for _, a := range []string{a1, a2} {
		_, port, _ := net.SplitHostPort(a)
		if env := httpGetEnv(t, http.DefaultClient, "http://"+a, "tcp"); env["SERVER_PORT"] != port {
			t.Errorf("%s: SERVER_PORT %v", a, env["SERVER_PORT"])
		}
	}
	httpGetEnv(t, httpUnixClient(t, path), "http://unix", "unix")
	if v6 != "" {
		if env := httpGetEnv(t, http.DefaultClient, "http://[::1]:"+v6, "v6"); env["SERVER_PORT"] != v6 {
			t.Errorf("[::1]:%s: SERVER_PORT %v", v6, env["SERVER_PORT"])
		}
	}
}
