package e2e

import (
	"bufio"
	le "encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Type=notify with a master: READY=1 comes once both workers said they serve, a reload is
// RELOADING=1 then READY=1 once the replacements serve, a stop is STOPPING=1; STATUS=
// lines count the workers. Neither the workers nor the app see NOTIFY_SOCKET.
//
// The log goes to a file (--logto): the master writes it before it notifies, so what the
// file holds when a message arrives proves the order (a pipe would not: it is read late).
func TestProdNotifyMaster(t *testing.T) {
	n := listenNotify(t, false)
	addr := freeAddr(t)
	logfile := filepath.Join(t.TempDir(), "uwsgo.log")
	s := Run(t, []string{"--logto", logfile,
		"--http-socket", addr, "--master", "--processes", "2", "--pypy-wsgi-file", testdata("prod_app.py")}, Env("NOTIFY_SOCKET="+n.Name), NoWait())
	s.Addr = addr
	logged := func() string { b, _ := os.ReadFile(logfile); return string(b) }

	ready, _ := n.until(t, s, "READY=1")
	if strings.Count(logged(), "is ready: app") != 2 {
		t.Fatalf("READY=1 came before both workers were ready; log:\n%s", logged())
	}
	if st := statusOf(ready); !strings.Contains(st, "2 of 2 workers ready") {
		t.Fatalf("READY=1 should carry the worker count in STATUS=, got %q", ready)
	}
	env := getJSON(t, s.URL("/env"))
	for _, k := range []string{"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS"} {
		if env[k] != nil {
			t.Errorf("the app sees %s=%v", k, env[k])
		}
	}

	s.Cmd.Process.Signal(syscall.SIGHUP)
	reloading, _ := n.until(t, s, "RELOADING=1")
	if !strings.Contains(reloading, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 should carry MONOTONIC_USEC= (Type=notify-reload): %q", reloading)
	}
	again, between := n.until(t, s, "READY=1")
	if !strings.Contains(logged(), "reload done") || strings.Count(logged(), "is ready: app") != 4 {
		t.Fatalf("READY=1 after RELOADING=1 came before the replacements were ready; log:\n%s", logged())
	}
	if !strings.Contains(statusOf(again), "2 of 2 workers ready") {
		t.Errorf("READY=1 after the reload: %q", again)
	}
	for _, m := range between {
		if !strings.HasPrefix(m, "STATUS=") {
			t.Errorf("between RELOADING=1 and READY=1 only STATUS= may come, got %q", m)
		}
	}

	s.Cmd.Process.Signal(syscall.SIGTERM)
	stopping, _ := n.until(t, s, "STOPPING=1")
	if !strings.Contains(statusOf(stopping), "stopping") {
		t.Errorf("STOPPING=1 message: %q", stopping)
	}
	if code := s.Exited(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d; log:\n%s", code, logged())
	}
}

// A single process notifies too, on a socket in the abstract namespace ("@name").
func TestProdNotifySingleProcessAbstract(t *testing.T) {
	n := listenNotify(t, true)
	addr := freeAddr(t)
	s := Run(t, []string{"--http-socket", addr, "--threads", "2", "--pypy-wsgi-file", testdata("prod_app.py")}, Env("NOTIFY_SOCKET="+n.Name), NoWait())
	s.Addr = addr
	ready := n.next(t, s)
	if !hasLine(ready, "READY=1") || !strings.Contains(statusOf(ready), "2 threads") {
		t.Fatalf("first message %q", ready)
	}
	if _, body := s.Get("/hello"); body != "from python: /hello\n" {
		t.Fatalf("body %q", body)
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if m := n.next(t, s); !hasLine(m, "STOPPING=1") {
		t.Fatalf("after SIGTERM: %q", m)
	}
	if code := s.Exited(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d; output:\n%s", code, s.Log())
	}
}

func socketActivate(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Fatalf("systemd-socket-activate is missing (Debian package systemd; scripts/install-deps installs it): %v", err)
	}
	return p
}

// systemd-socket-activate binds the port and starts uwsgo on the first connection with
// the socket as descriptor 3: uwsgo serves on it instead of binding (binding would fail:
// the port is taken), and unsets LISTEN_* before the app runs.
func TestProdSocketActivationSingle(t *testing.T) {
	addr := freeAddr(t)
	s := Run(t, append(append([]string{"-l", addr}, uwsgoArgv()...),
		"--http-socket", addr, "--pypy-wsgi-file", testdata("prod_app.py")), OnHost(socketActivate(t)), NoWait())
	s.Addr = addr
	resp, body := getRetry(t, s, s.URL("/hello"))
	if resp.StatusCode != 200 || body != "from python: /hello\n" {
		t.Fatalf("%d %q; output:\n%s", resp.StatusCode, body, s.Log())
	}
	if !strings.Contains(s.Log(), "HTTP on "+addr+" (socket 3 from systemd)") {
		t.Fatalf("the log should say the socket came from systemd; output:\n%s", s.Log())
	}
	env := getJSON(t, s.URL("/env"))
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if env[k] != nil {
			t.Errorf("the app sees %s=%v", k, env[k])
		}
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d; output:\n%s", code, s.Log())
	}
}

// With a master and no socket option at all: a TCP socket named "web" is served as HTTP
// and a UNIX socket named "uwsgi" speaks the uwsgi protocol, in every worker.
func TestProdSocketActivationNamedMaster(t *testing.T) {
	addr := freeAddr(t)
	sock := filepath.Join(t.TempDir(), "app.sock")
	s := Run(t, append(append([]string{"-l", addr, "-l", sock, "--fdname=web:uwsgi"}, uwsgoArgv()...),
		"--master", "--processes", "2", "--pypy-wsgi-file", testdata("prod_app.py")), OnHost(socketActivate(t)), NoWait())
	s.Addr = addr
	resp, body := getRetry(t, s, s.URL("/hello"))
	if resp.StatusCode != 200 || body != "from python: /hello\n" {
		t.Fatalf("%d %q; output:\n%s", resp.StatusCode, body, s.Log())
	}
	if !s.WaitLog(" ready (master", 20*time.Second) {
		t.Fatalf("not ready; output:\n%s", s.Log())
	}
	for _, want := range []string{`HTTP on ` + addr + ` (socket 3 from systemd, named "web")`, `uwsgi protocol on ` + sock + ` (socket 4 from systemd, named "uwsgi")`} {
		if !strings.Contains(s.Log(), want) {
			t.Fatalf("the log should say %q; output:\n%s", want, s.Log())
		}
	}
	// A uwsgi packet on the UNIX socket: the answer is plain HTTP.
	var vars []byte
	for _, kv := range [][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/via-uwsgi"}, {"REQUEST_URI", "/via-uwsgi"}, {"QUERY_STRING", ""},
		{"SERVER_NAME", "localhost"}, {"SERVER_PORT", "80"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REMOTE_ADDR", "127.0.0.1"}} {
		vars = binary16(vars, kv[0])
		vars = binary16(vars, kv[1])
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	head := []byte{0, 0, 0, 0}
	le.LittleEndian.PutUint16(head[1:3], uint16(len(vars)))
	c.Write(append(head, vars...))
	answer, _ := io.ReadAll(bufio.NewReader(c))
	if !strings.HasPrefix(string(answer), "HTTP/1.") || !strings.HasSuffix(string(answer), "from python: /via-uwsgi\n") {
		t.Fatalf("uwsgi answer %q; output:\n%s", answer, s.Log())
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Exited(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d; output:\n%s", code, s.Log())
	}
}

func binary16(b []byte, s string) []byte {
	b = le.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
