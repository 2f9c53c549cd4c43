package e2e

// The uwsgi Python module, complete: information, control, locks, caches, uWSGI signals,
// shared areas, metrics, uwsgidecorators, under a master with two workers. The app is
// testdata/uwsgimod_app.py: its /exec route runs the Python code a test sends, in the
// worker the test asks for, and answers with what the code left in `out`.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// umodReply is what /exec answers.
type umodReply struct {
	PID       int             `json:"pid"`
	WID       int             `json:"wid"`
	TID       int64           `json:"tid"`
	Error     *string         `json:"error"`
	Traceback string          `json:"traceback"`
	Repr      string          `json:"repr"`
	Out       json.RawMessage `json:"out"`
}

// Err is the exception the code raised ("" for none).
func (r umodReply) Err() string {
	if r.Error == nil {
		return ""
	}
	return *r.Error
}

// umodClient opens a new connection for every request, so that each may land on either
// worker (a kept-alive connection would stay with one).
var umodClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

// umodStart runs testdata/uwsgimod_app.py under a master with two workers.
func umodStart(t *testing.T, extra ...string) *Server {
	t.Helper()
	args := []string{"--master", "--processes", "2", "--pypy-wsgi-file", testdata("uwsgimod_app.py")}
	return Start(t, append(args, extra...)...)
}

// umodTryExec runs code in the worker wid (0: any), with a deadline; it reports
// errors instead of failing, so goroutines may use it. A 409 means another worker took
// the connection (wrong is then true).
func umodTryExec(s *Server, wid int, code string, timeout time.Duration) (r umodReply, wrong bool, err error) {
	req, err := http.NewRequest("POST", s.URL("/exec"), strings.NewReader(code))
	if err != nil {
		return r, false, err
	}
	if wid > 0 {
		req.Header.Set("X-Want-Worker", strconv.Itoa(wid))
	}
	c := &http.Client{Transport: umodClient.Transport, Timeout: timeout}
	resp, err := c.Do(req)
	if err != nil {
		return r, false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, false, err
	}
	if resp.StatusCode != 200 && resp.StatusCode != 409 {
		return r, false, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, false, fmt.Errorf("%v in %q", err, b)
	}
	return r, resp.StatusCode == 409, nil
}

// umodTryExecOn is umodTryExec in worker wid: it opens connections until that worker takes
// one, for at most a minute. For goroutines.
func umodTryExecOn(s *Server, wid int, code string, timeout time.Duration) (umodReply, error) {
	for deadline := time.Now().Add(time.Minute); ; {
		r, wrong, err := umodTryExec(s, wid, code, timeout)
		if err != nil || !wrong {
			return r, err
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("worker %d took no connection in a minute", wid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// umodExec runs code in whichever worker takes the connection.
func umodExec(t *testing.T, s *Server, code string) umodReply {
	t.Helper()
	r, _, err := umodTryExec(s, 0, code, 30*time.Second)
	if err != nil {
		t.Fatalf("exec %q: %v\nserver output:\n%s", code, err, s.Log())
	}
	return r
}

// umodExecOn runs code in worker wid: connections are opened until that worker takes
// one (the other answers 409 without running the code).
func umodExecOn(t *testing.T, s *Server, wid int, code string) umodReply {
	t.Helper()
	return umodExecOnWithin(t, s, wid, code, 60*time.Second)
}

// umodExecOnBusy is umodExecOn while the other worker is busy: a connection it takes waits
// for it, so each try has a short deadline and is abandoned. A try abandoned by the
// client may still run later in the right worker: the code must be quick and idempotent.
func umodExecOnBusy(t *testing.T, s *Server, wid int, code string) umodReply {
	t.Helper()
	return umodExecOnWithin(t, s, wid, code, 2*time.Second)
}

func umodExecOnWithin(t *testing.T, s *Server, wid int, code string, try time.Duration) umodReply {
	t.Helper()
	var last error
	tries := 0
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); tries++ {
		r, wrong, err := umodTryExec(s, wid, code, try)
		if err == nil && !wrong {
			if r.WID != wid {
				t.Fatalf("asked for worker %d, worker %d ran the code", wid, r.WID)
			}
			return r
		}
		if err != nil {
			last = err
		}
		time.Sleep(10 * time.Millisecond) // a worker that is starting gets its turn
	}
	t.Fatalf("worker %d never took a connection in %d tries (last error: %v)\nserver output:\n%s", wid, tries, last, s.Log())
	return umodReply{}
}

// umodOK fails the test if the code raised.
func umodOK(t *testing.T, s *Server, r umodReply) umodReply {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("worker %d raised %s\n%s", r.WID, *r.Error, r.Traceback)
	}
	return r
}

// umodRepr runs code (anywhere, or in worker wid > 0) and returns repr(out), failing if
// it raised.
func umodRepr(t *testing.T, s *Server, wid int, code string) string {
	t.Helper()
	var r umodReply
	if wid > 0 {
		r = umodExecOn(t, s, wid, code)
	} else {
		r = umodExec(t, s, code)
	}
	umodOK(t, s, r)
	return r.Repr
}

// umodInt runs code and returns out as an integer.
func umodInt(t *testing.T, s *Server, wid int, code string) int64 {
	t.Helper()
	v := umodRepr(t, s, wid, code)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%q left out = %s, want an integer", code, v)
	}
	return n
}

// umodEq checks that code leaves out with the repr want; an exception is an error too,
// and the test goes on.
func umodEq(t *testing.T, s *Server, wid int, code, want string) {
	t.Helper()
	var r umodReply
	if wid > 0 {
		r = umodExecOn(t, s, wid, code)
	} else {
		r = umodExec(t, s, code)
	}
	if r.Error != nil {
		t.Errorf("%s\n raised %s (want out = %s)\n%s", code, *r.Error, want, r.Traceback)
	} else if r.Repr != want {
		t.Errorf("%s\n got out = %s\nwant out = %s", code, r.Repr, want)
	}
}

// umodRaises checks that code raises an exception of type typ whose message has every
// part.
func umodRaises(t *testing.T, s *Server, code, typ string, parts ...string) {
	t.Helper()
	r := umodExec(t, s, code)
	got := r.Err()
	if !strings.HasPrefix(got, typ+": ") {
		t.Errorf("%s\n raised %q, want %s", code, got, typ)
		return
	}
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Errorf("%s\n raised %q, want it to mention %q", code, got, p)
		}
	}
}

// umodWorker is one entry of uwsgi.workers().
type umodWorker struct {
	ID            int    `json:"id"`
	PID           int    `json:"pid"`
	Requests      int64  `json:"requests"`
	Status        string `json:"status"`
	RSS           int64  `json:"rss"`
	HarakiriCount int64  `json:"harakiri_count"`
	RespawnCount  int64  `json:"respawn_count"`
}

// umodWorkers asks a worker for uwsgi.workers().
func umodWorkers(t *testing.T, s *Server) []umodWorker {
	t.Helper()
	r := umodOK(t, s, umodExec(t, s, "out = list(uwsgi.workers())"))
	var ws []umodWorker
	if err := json.Unmarshal(r.Out, &ws); err != nil {
		t.Fatalf("uwsgi.workers(): %v in %s", err, r.Out)
	}
	return ws
}

// umodPIDs maps worker id to pid, from uwsgi.workers().
func umodPIDs(t *testing.T, s *Server) map[int]int {
	t.Helper()
	m := map[int]int{}
	for _, w := range umodWorkers(t, s) {
		m[w.ID] = w.PID
	}
	return m
}

// umodStream starts a streamed GET and returns its first line (a JSON object) and the
// reader for the rest.
func umodStream(t *testing.T, s *Server, path string) (map[string]any, *bufio.Reader) {
	t.Helper()
	c, r := s.Dial()
	c.SetDeadline(time.Now().Add(120 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("GET %s: %v\nserver output:\n%s", path, err, s.Log())
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadBytes('\n')
	if err != nil {
		t.Fatalf("GET %s: first line: %v (%q)\nserver output:\n%s", path, err, line, s.Log())
	}
	var first map[string]any
	if err := json.Unmarshal(line, &first); err != nil {
		t.Fatalf("GET %s: first line %q: %v", path, line, err)
	}
	return first, br
}

// umodAlive says whether process pid exists (and is not a zombie).
func umodAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// umodKill sends SIGKILL to a worker.
func umodKill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
}
