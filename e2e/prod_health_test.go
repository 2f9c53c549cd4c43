package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fresh is a client without keep-alive: each probe is a new connection, as a load
// balancer's usually is.
var fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

func probe(t *testing.T, url, method string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := fresh.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// waitStatus probes url until it answers want (at most 20 s).
func waitStatus(t *testing.T, s *Server, url string, want int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body, err := probe(t, url, "GET")
		if err != nil {
			t.Fatalf("GET %s while waiting for %d: %v; output:\n%s", url, want, err, s.Log())
		}
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered %d (last %d %q); output:\n%s", url, want, code, body, s.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The health check never reaches Python (the app would answer "from python: ..."), and
// on a graceful stop it answers 503 while the instance goes on serving
// (--shutdown-delay) and a long request is still in flight; that request then finishes.
func TestProdHealthSingleProcess(t *testing.T) {
	s := Start(t, "--health-path", "/healthz", "--shutdown-delay", "5", "--threads", "2", "--pypy-wsgi-file", testdata("prod_app.py"))
	for _, m := range []string{"GET", "HEAD"} {
		code, body, err := probe(t, s.URL("/healthz?probe=1"), m)
		want := "ok\n"
		if m == "HEAD" {
			want = ""
		}
		if err != nil || code != 200 || body != want {
			t.Fatalf("%s /healthz: %d %q %v", m, code, body, err)
		}
	}
	if code, body, _ := probe(t, s.URL("/healthz/other"), "GET"); code != 200 || body != "from python: /healthz/other\n" {
		t.Fatalf("another path must reach the app: %d %q", code, body)
	}
	// The probes came before /healthz/other, whose line is in the access log; theirs not.
	if !s.WaitLog("GET /healthz/other", 10*time.Second) || strings.Contains(s.Log(), "/healthz?probe") {
		t.Errorf("health probes must not be in the access log, the app's requests must; output:\n%s", s.Log())
	}

	release := filepath.Join(t.TempDir(), "release")
	long := make(chan string, 1)
	go func() {
		code, body, err := probe(t, s.URL("/wait?"+release), "GET")
		if err != nil {
			body = err.Error()
		}
		long <- http.StatusText(code) + " " + body
	}()
	waitExists(t, release+".started")

	s.Cmd.Process.Signal(syscall.SIGTERM)
	if body := waitStatus(t, s, s.URL("/healthz"), 503); body != "stopping\n" {
		t.Errorf("503 body %q", body)
	}
	// Still serving the app during the delay.
	if code, body, err := probe(t, s.URL("/during"), "GET"); err != nil || code != 200 || body != "from python: /during\n" {
		t.Fatalf("during the shutdown delay the app must still answer: %d %q %v", code, body, err)
	}
	select {
	case got := <-long:
		t.Fatalf("the long request ended before it was released: %q", got)
	default:
	}
	os.WriteFile(release, nil, 0o644)
	select {
	case got := <-long:
		if got != "OK waited\n" {
			t.Fatalf("the long request got %q", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the long request never finished")
	}
	if code := s.Exited(30 * time.Second); code != 0 {
		t.Fatalf("exit status %d; output:\n%s", code, s.Log())
	}
	log := s.Log()
	if i, j := strings.Index(log, "--shutdown-delay"), strings.Index(log, "finishing requests in flight"); i < 0 || j < i {
		t.Fatalf("the delay must come before the listeners close; output:\n%s", log)
	}
}

// waitExists waits until file exists (at most 20 s).
func waitExists(t *testing.T, file string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(file); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", file)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// With a master: a reload never turns the health check to 503 (the old workers stop, the
// instance does not), a graceful stop does, in every worker, during --shutdown-delay.
func TestProdHealthMaster(t *testing.T) {
	s := Start(t, "--master", "--processes", "2", "--health-path", "/healthz", "--shutdown-delay", "5", "--pypy-wsgi-file", testdata("prod_app.py"))
	s.Cmd.Process.Signal(syscall.SIGHUP)
	for i := 0; i < 2000 && !strings.Contains(s.Log(), "reload done"); i++ {
		code, body, err := probe(t, s.URL("/healthz"), "GET")
		if err != nil || code != 200 {
			t.Fatalf("during a reload the health check answered %d %q %v; output:\n%s", code, body, err, s.Log())
		}
	}
	if !s.WaitLog("reload done", 20*time.Second) {
		t.Fatalf("the reload did not finish; output:\n%s", s.Log())
	}

	release := filepath.Join(t.TempDir(), "release")
	long := make(chan int, 1)
	go func() {
		code, _, _ := probe(t, s.URL("/wait?"+release), "GET")
		long <- code
	}()
	waitExists(t, release+".started")
	s.Cmd.Process.Signal(syscall.SIGTERM)
	waitStatus(t, s, s.URL("/healthz"), 503)
	// Both workers accept during the delay and both answer 503: probe until each of them
	// was seen (every answer must be 503).
	for i := 0; i < 20; i++ {
		if code, _, err := probe(t, s.URL("/healthz"), "GET"); err != nil || code != 503 {
			t.Fatalf("after the first 503 the health check answered %d %v; output:\n%s", code, err, s.Log())
		}
	}
	os.WriteFile(release, nil, 0o644)
	if code := <-long; code != 200 {
		t.Fatalf("the long request got %d", code)
	}
	if code := s.Exited(30 * time.Second); code != 0 {
		t.Fatalf("exit status %d; output:\n%s", code, s.Log())
	}
}
