package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Reloads lose no keep-alive request: a connection idle when its worker starts draining
// is closed only after a grace period without a request, and a request that arrives is
// answered, with Connection: close. Before, the idle connections were closed at once,
// racing the requests their clients had just sent (49 of 85,725 failed over 3 reloads).
func TestRelReloadLosesNoKeepAliveRequest(t *testing.T) {
	t.Parallel()
	s, l := relUnderLoad(t)
	relReload(t, s, l, 3)
	l.end(t, "3 reloads under 16 keep-alive clients")
}

// Behind nginx, with keep-alive connections to uwsgo's HTTP socket (proxy_pass) and with
// the uwsgi protocol (uwsgi_pass), a reload costs no request: nginx does not retry a POST
// that failed upstream, it answers 502.
func TestRelReloadBehindNginxLosesNoRequest(t *testing.T) {
	t.Parallel()
	httpAddr, uwsgiAddr := freeAddr(t), freeAddr(t)
	s := Run(t, []string{"--http-socket", httpAddr, "--socket", uwsgiAddr, "--pypy-wsgi-file", testdata("rel_app.py"),
		"--master", "--processes", "2"})
	n := uwsgiTStartNginx(t, fmt.Sprintf(`
		location /http/ {
			proxy_pass http://keep/;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
		location /uwsgi/ {
			include /etc/nginx/uwsgi_params;
			uwsgi_pass %s;
		}
	}
	upstream keep {
		server %s;
		keepalive 32;`, uwsgiAddr, httpAddr))
	for _, path := range []string{"/http/post", "/uwsgi/post"} {
		l := relStartLoad(n.URL(path), 16)
		relReload(t, s, l, 2)
		l.end(t, "2 reloads behind nginx, "+path)
		if t.Failed() {
			t.Logf("nginx error log:\n%s", n.ErrorLog())
		}
	}
}

// A reload that finds no free scoreboard record (the workers of the previous reload are
// still finishing requests) retries, and does replace the workers once records are free.
// Before, the retry saw a current worker for the id and gave up: the reload never happened.
func TestRelReloadRetriesWithoutFreeRecord(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--master", "--processes", "1", "--threads", "2")
	pid := func() string {
		_, body := s.Get("/pid")
		return strings.Fields(body)[0]
	}
	first := pid()
	// A request held until the second reload has found no record keeps the first worker
	// alive through both reloads, however long they take.
	gate := filepath.Join(t.TempDir(), "release")
	go http.Get(s.URL("/hold?" + gate))
	if !s.WaitLog("rel_app holding", 20*time.Second) {
		t.Fatalf("the long request did not start; output:\n%s", s.Log())
	}
	s.Cmd.Process.Signal(syscall.SIGHUP)
	if !eventually(20*time.Second, func() bool { return strings.Count(s.Log(), "reload done") == 1 }) {
		t.Fatalf("the first reload did not finish; output:\n%s", s.Log())
	}
	second := pid()
	s.Cmd.Process.Signal(syscall.SIGHUP)
	if !s.WaitLog("no free scoreboard record", 10*time.Second) {
		t.Fatalf("the second reload found a free record: the test proves nothing; output:\n%s", s.Log())
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !eventually(30*time.Second, func() bool { p := pid(); return p != first && p != second }) {
		t.Fatalf("the second reload never replaced the worker; output:\n%s", s.Log())
	}
}
