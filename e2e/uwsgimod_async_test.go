package e2e

// uWSGI's async API and raw connection I/O in the uwsgi module (the names the seed's
// plugin has): uwsgo has no async mode, so a wait is done at once in the request's own
// thread and ready_fd() tells its outcome afterwards, as in an async core after suspend().

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

func TestUwsgiModAsync(t *testing.T) {
	t.Parallel()
	s := Start(t, "--threads", "2", "--pypy-wsgi-file", testdata("uwsgimod_app.py"))

	// A wait that times out leaves -1; one that finds data leaves the descriptor.
	umodEq(t, s, 0, `
r, w = os.pipe()
first = (uwsgi.wait_fd_read(r, 0.05), uwsgi.suspend(), uwsgi.ready_fd())
os.write(w, b"x")
second = (uwsgi.wait_fd_read(r, 5), uwsgi.suspend(), uwsgi.ready_fd() == r, uwsgi.recv(r, 10))
os.close(w)
third = uwsgi.recv(r)
uwsgi.close(r)
out = (first, second, third, uwsgi.async_sleep(0.01))`, `((b'', b'', -1), (b'', b'', True, b'x'), None, b'')`)

	// async_connect to a real peer, then send and recv on the descriptor it gives.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
		c.Write([]byte("pong\n"))
	}()
	umodEq(t, s, 0, `
fd = uwsgi.async_connect("`+ln.Addr().String()+`")
uwsgi.wait_fd_write(fd, 5)
ok = uwsgi.ready_fd() == fd
sent = uwsgi.send(fd, "ping\n")
uwsgi.wait_fd_read(fd, 5)
answer = uwsgi.recv(fd, 100)
uwsgi.close(fd)
out = (ok, sent, answer)`, `(True, True, b'pong\n')`)
	if line := <-got; line != "ping\n" {
		t.Errorf("the peer got %q, want ping", line)
	}
	umodRaises(t, s, `uwsgi.async_connect("/nonexistent/uwsgo.sock")`, "FileNotFoundError", "/nonexistent/uwsgo.sock")

	// send(data) writes to the client's own connection, before the response.
	raw := s.Raw("POST /exec HTTP/1.0\r\nContent-Length: 42\r\n\r\n" + `uwsgi.send(b"RAW-BYTES\r\n"); out = None  `)
	if !strings.HasPrefix(raw, "RAW-BYTES\r\nHTTP/1.") {
		t.Errorf("uwsgi.send(data) on the connection: the client got %.200q", raw)
	}

	umodEq(t, s, 0, `out = uwsgi.alarm("disk", "full")`, `None`)
	if !s.WaitLog(`uwsgi.alarm('disk'): uwsgo has no alarms`, 5*time.Second) {
		t.Errorf("uwsgi.alarm is not logged:\n%s", s.Log())
	}
}
