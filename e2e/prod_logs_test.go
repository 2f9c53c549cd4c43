package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFile waits until file holds substr (at most 20 s) and returns its content.
func waitFile(t *testing.T, file, substr string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		if strings.Contains(string(b), substr) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q; it holds:\n%s", file, substr, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, url string, header ...string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.Status
}

// --log-format with uWSGI's variables, logvars from Python reaching the line of their own
// request only (the next request on the same connection has none), %(pid)/%(wid) of the
// worker that served, and --log-x-forwarded-for.
func TestProdLogFormat(t *testing.T) {
	logfile := filepath.Join(t.TempDir(), "uwsgo.log")
	s := Run(t, []string{"--logto", logfile, "--master", "--processes", "2", "--log-x-forwarded-for",
		"--log-format", "ACCESS [%(addr)] %(method) %(uri) %(proto) => %(status) %(size) %(rsize) %(msecs)ms pid=%(pid) wid=%(wid) user=%(user_id) host=%(host)",
		"--pypy-wsgi-file", testdata("prod_app.py")}, HTTP(), ReadyIn(logfile))
	c := &http.Client{}
	env := getJSON(t, s.URL("/env"))
	get(t, c, s.URL("/logvar?user_id=42&plan=gold"))
	get(t, c, s.URL("/after"), "X-Forwarded-For", "203.0.113.7, 10.0.0.1")
	log := waitFile(t, logfile, "GET /after")

	var envLine, logvarLine, afterLine string
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.HasPrefix(l, "ACCESS [127.0.0.1] GET /env HTTP/1.1 => 200 "):
			envLine = l
		case strings.HasPrefix(l, "ACCESS [127.0.0.1] GET /logvar?user_id=42&plan=gold HTTP/1.1 => 200 "):
			logvarLine = l
		case strings.HasPrefix(l, "ACCESS [203.0.113.7] GET /after HTTP/1.1 => 200 "):
			afterLine = l
		}
	}
	if envLine == "" || logvarLine == "" || afterLine == "" {
		t.Fatalf("missing access lines (env %q, logvar %q, after %q) in:\n%s", envLine, logvarLine, afterLine, log)
	}
	want := fmt.Sprintf(" pid=%.0f wid=%.0f user= host=%s", env["pid"], env["worker_id"], s.Addr)
	if !strings.HasSuffix(envLine, want) {
		t.Errorf("%q should end with %q (the pid and worker id the app saw)", envLine, want)
	}
	if !strings.Contains(logvarLine, " user=42 host=") {
		t.Errorf("the logvar set by the app is missing: %q", logvarLine)
	}
	if !strings.Contains(afterLine, " user= host=") {
		t.Errorf("a logvar leaked into the next request's line: %q", afterLine)
	}
	// %(size) is head and body, %(rsize) the body: "from python: /after\n" is 20 bytes.
	var size, rsize, ms int
	fmt.Sscanf(afterLine[strings.Index(afterLine, "=> 200 ")+len("=> 200 "):], "%d %d %dms", &size, &rsize, &ms)
	if rsize != 20 || size <= rsize {
		t.Errorf("size %d, rsize %d in %q", size, rsize, afterLine)
	}
}

// --log-format json: one JSON object per request, logvars under "vars".
func TestProdLogJSON(t *testing.T) {
	logfile := filepath.Join(t.TempDir(), "uwsgo.log")
	s := Run(t, []string{"--logto", logfile, "--log-format", "json", "--pypy-wsgi-file", testdata("prod_app.py")}, HTTP(), ReadyIn(logfile))
	get(t, http.DefaultClient, s.URL("/logvar?user_id=7"), "User-Agent", "agent \"quoted\"")
	log := waitFile(t, logfile, `"uri":"/logvar?user_id=7"`)
	var line string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"uri":"/logvar?user_id=7"`) {
			line = l
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%q is not JSON: %v", line, err)
	}
	if m["method"] != "GET" || m["status"] != 200.0 || m["addr"] != "127.0.0.1" || m["uagent"] != `agent "quoted"` || m["wid"] != 1.0 {
		t.Errorf("fields: %v", m)
	}
	if vars, _ := m["vars"].(map[string]any); vars["user_id"] != "7" {
		t.Errorf("vars: %v", m["vars"])
	}
	if _, err := time.Parse(time.RFC3339, m["time"].(string)); err != nil {
		t.Errorf("time %v: %v", m["time"], err)
	}
}

// print(), sys.stderr and logging reach the log in whole lines, with the worker's prefix;
// uwsgi.get_logvar answers for the request and None for a name never set.
func TestProdAppOutputInLog(t *testing.T) {
	s := Start(t, "--master", "--processes", "1", "--pypy-wsgi-file", testdata("prod_app.py"))
	s.Get("/print?abc")
	for _, want := range []string{"worker 1: printed abc\n", "worker 1: partial line abc\n", "worker 1: to stderr abc\n",
		"worker 1: second line abc\n", "worker 1: WARNING prodapp: logged abc\n"} {
		if !s.WaitLog(want, 10*time.Second) {
			t.Fatalf("the log lacks %q; output:\n%s", want, s.Log())
		}
	}
	got := getJSON(t, s.URL("/logvar?a=1&b=two"))
	if got["a"] != "1" || got["b"] != "two" || got["never_set"] != nil {
		t.Fatalf("get_logvar: %v", got)
	}
}

// logrotate's way: the file is renamed, then SIGUSR2 to the master makes the master and
// every worker write to a new file of the old name.
func TestProdLogReopenSIGUSR2(t *testing.T) {
	dir := t.TempDir()
	logfile := filepath.Join(dir, "uwsgo.log")
	s := Run(t, []string{"--logto", logfile, "--master", "--processes", "2", "--pypy-wsgi-file", testdata("prod_app.py")}, HTTP(), ReadyIn(logfile))
	waitFile(t, logfile, " ready (master")
	if err := os.Rename(logfile, logfile+".1"); err != nil {
		t.Fatal(err)
	}
	s.Cmd.Process.Signal(syscall.SIGUSR2)
	waitFile(t, logfile, "master: SIGUSR2: reopened the log file")
	waitFile(t, logfile, "worker 1: SIGUSR2: reopened the log file")
	waitFile(t, logfile, "worker 2: SIGUSR2: reopened the log file")
	for i := 0; i < 4; i++ {
		s.Get(fmt.Sprintf("/print?after-rotation-%d", i))
	}
	log := waitFile(t, logfile, "GET /print?after-rotation-3")
	for i := 0; i < 4; i++ {
		if !strings.Contains(log, fmt.Sprintf("printed after-rotation-%d", i)) {
			t.Errorf("the app's output of request %d is not in the new file:\n%s", i, log)
		}
	}
	old, _ := os.ReadFile(logfile + ".1")
	if strings.Contains(string(old), "after-rotation") {
		t.Errorf("the rotated file still receives lines:\n%s", old)
	}
}

// --touch-logreopen in a single process.
func TestProdLogReopenTouch(t *testing.T) {
	dir := t.TempDir()
	logfile, trigger := filepath.Join(dir, "uwsgo.log"), filepath.Join(dir, "reopen")
	if err := os.WriteFile(trigger, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := Run(t, []string{"--logto", logfile, "--touch-logreopen", trigger, "--pypy-wsgi-file", testdata("prod_app.py")}, HTTP(), ReadyIn(logfile))
	waitFile(t, logfile, " ready (")
	os.Rename(logfile, logfile+".1")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(trigger, later, later); err != nil {
		t.Fatal(err)
	}
	waitFile(t, logfile, "--touch-logreopen "+trigger+": reopened the log file")
	s.Get("/print?after-touch")
	waitFile(t, logfile, "printed after-touch")
}

// --log-reopen: a reload reopens the log file as well.
func TestProdLogReopenOnReload(t *testing.T) {
	logfile := filepath.Join(t.TempDir(), "uwsgo.log")
	s := Run(t, []string{"--logto", logfile, "--log-reopen", "--master", "--processes", "1", "--pypy-wsgi-file", testdata("prod_app.py")}, HTTP(), ReadyIn(logfile))
	os.Rename(logfile, logfile+".1")
	s.Cmd.Process.Signal(syscall.SIGHUP)
	waitFile(t, logfile, "master: SIGHUP: reopened the log file")
	waitFile(t, logfile, "reload done")
	s.Get("/print?after-reload")
	waitFile(t, logfile, "worker 1: printed after-reload")
}
