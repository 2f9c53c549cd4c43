package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uWSGI's log-4xx, log-5xx, log-slow and log-big: with --disable-logging, only the requests
// they name are logged. Each case is followed by a request that is logged (a 404 with its
// own mark), so that a line missing is seen once the next one is there, not by waiting.
func TestLogFilters(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("logfilter_app.py"), "--disable-logging",
		"--log-4xx", "--log-5xx", "--log-slow", "200", "--log-big", "50000")
	for i, c := range []struct {
		path   string
		logged bool
	}{
		{"/fast", false},
		{"/status/404", true},
		{"/status/503", true},
		{"/status/302", false},
		{"/slow", true},
		{"/big", true},
	} {
		if resp, _ := s.Get(c.path); resp == nil {
			t.Fatalf("GET %s failed", c.path)
		}
		mark := "/status/404?after=" + strings.Repeat("x", i+1)
		s.Get(mark)
		if !s.WaitLog(mark, 10*time.Second) {
			t.Fatalf("the 404 after %s was not logged:\n%s", c.path, s.Log())
		}
		if got := strings.Contains(s.Log(), "GET "+c.path+" "); got != c.logged {
			t.Errorf("GET %s logged: %v, want %v\n%s", c.path, got, c.logged, s.Log())
		}
	}
}

// --memory-report ends each request line with the worker's address space and resident
// memory, in uWSGI's words.
func TestLogMemoryReport(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("logfilter_app.py"), "--memory-report")
	s.Get("/fast")
	if !s.WaitLog("GET /fast ", 10*time.Second) {
		t.Fatalf("no request line:\n%s", s.Log())
	}
	var line string
	for _, l := range strings.Split(s.Log(), "\n") {
		if strings.Contains(l, "GET /fast ") {
			line = l
		}
	}
	var vsz, vszMB, rss, rssMB int64
	i := strings.Index(line, "{address space usage:")
	if i < 0 {
		t.Fatalf("no memory report in %q", line)
	}
	if _, err := fmt.Sscanf(line[i:], "{address space usage: %d bytes/%dMB} {rss usage: %d bytes/%dMB}", &vsz, &vszMB, &rss, &rssMB); err != nil {
		t.Fatalf("%q: %v", line[i:], err)
	}
	if rss <= 0 || vsz < rss || rssMB != rss>>20 || vszMB != vsz>>20 {
		t.Errorf("implausible figures in %q", line[i:])
	}
}

// --req-logger file:PATH: the request lines go to PATH, not the log, and PATH is opened
// again on SIGUSR2 as the log is, so that logrotate can move it.
func TestLogReqLogger(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "requests.log")
	s := Start(t, "--pypy-wsgi-file", testdata("logfilter_app.py"), "--req-logger", "file:"+path)
	fileHas := func(p, what string) bool {
		b, _ := os.ReadFile(p)
		return strings.Contains(string(b), what)
	}
	s.Get("/first")
	if !eventually(10*time.Second, func() bool { return fileHas(path, "GET /first ") }) {
		t.Fatalf("no request line in %s; log:\n%s", path, s.Log())
	}
	if strings.Contains(s.Log(), "GET /first ") {
		t.Errorf("the request line is in the log too:\n%s", s.Log())
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	s.Cmd.Process.Signal(syscall.SIGUSR2)
	if !s.WaitLog("SIGUSR2", 10*time.Second) {
		t.Fatalf("SIGUSR2 not acted on:\n%s", s.Log())
	}
	s.Get("/second")
	if !eventually(10*time.Second, func() bool { return fileHas(path, "GET /second ") }) {
		t.Fatalf("no request line in the reopened %s; log:\n%s", path, s.Log())
	}
	if fileHas(path+".1", "GET /second ") {
		t.Errorf("the moved file still gets request lines")
	}
}
