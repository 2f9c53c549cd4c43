package e2e

// End-to-end tests of the master/worker process model (issue "Master and workers:
// uWSGI's process model, in Go"): this file has the process-model tests and the helpers
// the other master_*_test.go files share.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// masterApp is the app of these tests.
func masterApp() string { return testdata("master_app.py") }

// masterFacts is what master_app.py's / answers.
type masterFacts struct {
	PID          int      `json:"pid"`
	PPID         int      `json:"ppid"`
	NumProc      int      `json:"numproc"`
	WorkerID     int      `json:"worker_id"`
	MasterPID    int      `json:"masterpid"`
	MultiProcess bool     `json:"multiprocess"`
	MultiThread  bool     `json:"multithread"`
	Events       []string `json:"events"`
	Cwd          string   `json:"cwd"`
	UID          int      `json:"uid"`
}

// masterNewClient is a client whose every request opens a new connection: each one is
// accepted again, by whichever worker wins it.
func masterNewClient() *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// masterFetch GETs url with client and returns the status and body.
func masterFetch(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, string(b), err
	}
	return resp.StatusCode, string(b), nil
}

// masterGetFacts asks the app at base ("http://host:port") for its facts on a new connection.
func masterGetFacts(t *testing.T, client *http.Client, base string) masterFacts {
	t.Helper()
	code, body, err := masterFetch(client, base+"/")
	if err != nil || code != 200 {
		t.Fatalf("GET /: %d %q %v", code, body, err)
	}
	var f masterFacts
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("GET /: %v in %q", err, body)
	}
	return f
}

// masterFactsByPid asks for the facts over new connections, 4 at a time, until want
// distinct processes answered or 400 requests were made.
func masterFactsByPid(t *testing.T, base string, want int) map[int]masterFacts {
	t.Helper()
	client := masterNewClient()
	var mu sync.Mutex
	seen := map[int]masterFacts{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				mu.Lock()
				enough := len(seen) >= want
				mu.Unlock()
				if enough {
					return
				}
				code, body, err := masterFetch(client, base+"/")
				if err != nil || code != 200 {
					t.Errorf("GET /: %d %q %v", code, body, err)
					return
				}
				var f masterFacts
				if err := json.Unmarshal([]byte(body), &f); err != nil {
					t.Errorf("GET /: %v in %q", err, body)
					return
				}
				mu.Lock()
				seen[f.PID] = f
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return seen
}

// masterProcStat reads a process's parent pid and state from /proc ("" state: no process).
func masterProcStat(pid int) (ppid int, state string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0]
}

// masterAlive says whether pid is a running process (a zombie is not).
func masterAlive(pid int) bool {
	_, st := masterProcStat(pid)
	return st != "" && st != "Z" && st != "X"
}

// masterChildren lists the live processes whose parent is pid, as ps would show them.
func masterChildren(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, st := masterProcStat(p); pp == pid && st != "Z" && st != "X" && st != "" && !isLoader(p) {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// isLoader says whether pid is a pre-fork loader, the master's child that is no worker.
func isLoader(pid int) bool {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return bytes.HasPrefix(b, []byte("uwsgo loader"))
}

// masterWaitChildren waits up to d until the children of pid satisfy ok, and returns them.
func masterWaitChildren(pid int, d time.Duration, ok func([]int) bool) ([]int, bool) {
	var c []int
	done := eventually(d, func() bool { c = masterChildren(pid); return ok(c) })
	return c, done
}

// masterWorkers waits until the master has n worker processes (at most 10 s) and returns them.
func masterWorkers(t *testing.T, s *Server, n int) []int {
	t.Helper()
	c, ok := masterWaitChildren(s.Cmd.Process.Pid, 10*time.Second, func(c []int) bool { return len(c) == n })
	if !ok {
		t.Fatalf("the master (pid %d) should have %d worker processes, has %v; output:\n%s", s.Cmd.Process.Pid, n, c, s.Log())
	}
	return c
}

// masterAllNew waits until the master has n workers and none of them is in old.
func masterAllNew(t *testing.T, s *Server, n int, old []int, d time.Duration) []int {
	t.Helper()
	c, ok := masterWaitChildren(s.Cmd.Process.Pid, d, func(c []int) bool {
		if len(c) != n {
			return false
		}
		for _, p := range c {
			if masterIn(p, old) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("expected %d workers, all new (old ones: %v); the master's children are %v; output:\n%s", n, old, c, s.Log())
	}
	return c
}

func masterIn(p int, list []int) bool {
	for _, q := range list {
		if p == q {
			return true
		}
	}
	return false
}

var masterReadyRE = regexp.MustCompile(`master: worker (\d+) \(pid (\d+)\) is ready: (.*)`)

// masterReadyLines maps each pid the master said was ready to its worker id and what it loaded.
func masterReadyLines(log string) map[int]struct {
	ID   int
	What string
} {
	out := map[int]struct {
		ID   int
		What string
	}{}
	for _, m := range masterReadyRE.FindAllStringSubmatch(log, -1) {
		id, _ := strconv.Atoi(m[1])
		pid, _ := strconv.Atoi(m[2])
		out[pid] = struct {
			ID   int
			What string
		}{id, m[3]}
	}
	return out
}

// masterWaitReadyPid waits until the master says a worker not in old is ready, and returns its pid.
func masterWaitReadyPid(t *testing.T, s *Server, old []int, d time.Duration) int {
	t.Helper()
	var pid int
	if !eventually(d, func() bool {
		for pid = range masterReadyLines(s.Log()) {
			if !masterIn(pid, old) {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no new worker became ready within %v (old: %v); output:\n%s", d, old, s.Log())
	}
	return pid
}

// masterLoad is bounded steady load: a few goroutines, each with its own keep-alive
// client, GET a path in a loop until stopped (or a safety bound of requests is reached).
type masterLoad struct {
	url  string
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	ok    int
	fails []string
	pids  map[int]int // pid that answered -> how many times
	last  time.Time   // when the last success came back
}

const masterLoadClients = 4

func masterStartLoad(t *testing.T, url string) *masterLoad {
	return masterStartLoadWith(t, url, false)
}

// masterStartNewConnLoad is masterStartLoad with a new connection for every request, so
// that each one is accepted again (and a failure is never hidden by a client's retry).
func masterStartNewConnLoad(t *testing.T, url string) *masterLoad {
	return masterStartLoadWith(t, url, true)
}

func masterStartLoadWith(t *testing.T, url string, newConns bool) *masterLoad {
	l := &masterLoad{url: url, stop: make(chan struct{}), pids: map[int]int{}}
	for g := 0; g < masterLoadClients; g++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: newConns}
			defer tr.CloseIdleConnections()
			client := &http.Client{Timeout: 30 * time.Second, Transport: tr}
			for i := 0; i < 20000; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				code, body, err := masterFetch(client, l.url)
				l.mu.Lock()
				switch {
				case err != nil:
					l.fails = append(l.fails, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
				case code != 200:
					l.fails = append(l.fails, fmt.Sprintf("%s: status %d: %q", time.Now().Format("15:04:05.000"), code, body))
				default:
					l.ok++
					l.last = time.Now()
					if pid, err := strconv.Atoi(body); err == nil {
						l.pids[pid]++
					}
				}
				l.mu.Unlock()
				time.Sleep(2 * time.Millisecond) // steady, not a flood: the machine has 2 cores
			}
		}()
	}
	t.Cleanup(l.Stop)
	return l
}

// Stop ends the load (idempotent) and waits for the goroutines.
func (l *masterLoad) Stop() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// counts returns successes, failures and the distinct pids that answered so far.
func (l *masterLoad) counts() (ok int, fails []string, pids []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := range l.pids {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	return l.ok, append([]string(nil), l.fails...), pids
}

// waitOK waits until n more requests succeeded than had when it was called.
func (l *masterLoad) waitOK(n int, d time.Duration) bool {
	start, _, _ := l.counts()
	return eventually(d, func() bool { ok, _, _ := l.counts(); return ok >= start+n })
}

// waitPid waits until a pid not in old answered.
func (l *masterLoad) waitPid(old []int, d time.Duration) (int, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		_, _, pids := l.counts()
		for _, p := range pids {
			if !masterIn(p, old) {
				return p, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, false
}

// masterReadyInstanceRE is the line an instance prints once it serves (master or single process).
var masterReadyInstanceRE = regexp.MustCompile(`uwsgo \S+ ready \((master pid|pid) \d+`)

// masterWaitFile waits until file contains substr.
func masterWaitFile(file, substr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(file); strings.Contains(string(b), substr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func masterReadFile(file string) string {
	b, _ := os.ReadFile(file)
	return string(b)
}

// masterUnixClient is an HTTP client that reaches a UNIX socket whatever the URL's host.
func masterUnixClient(path string) *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// masterWaitGone waits until none of pids is a running process.
func masterWaitGone(pids []int, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		var alive []int
		for _, p := range pids {
			if masterAlive(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --master --processes 2 --threads 2: two worker processes, children of the master, both
// accepting, and the app sees uWSGI's view of it; every worker runs the start-up steps
// in order (--pypy-eval, the app, --pypy-eval-post-fork, uwsgi.post_fork_hook once);
// the start-up log names the mode, and each worker's pid and app.
func TestMasterPreforkingThreaded(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2",
		"--pypy-eval", "import builtins; builtins.MASTER_EVENTS = ['eval']",
		"--pypy-eval-post-fork", "import builtins; builtins.MASTER_EVENTS.append('post-fork-eval')",
		"--pypy-wsgi-file", masterApp())
	master := s.Cmd.Process.Pid
	log := s.Log()
	if !strings.Contains(log, fmt.Sprintf("master (pid %d): preforking+threaded, 2 processes of 2 threads", master)) {
		t.Errorf("the master should announce its mode (preforking+threaded, 2 processes of 2 threads); output:\n%s", log)
	}
	if strings.Contains(log, "dynamic mode") {
		t.Errorf("the app loaded, yet the log mentions dynamic mode:\n%s", log)
	}
	workers := masterWorkers(t, s, 2)
	ready := masterReadyLines(log)
	ids := map[int]bool{}
	for _, pid := range workers {
		r, ok := ready[pid]
		if !ok {
			t.Errorf("no \"master: worker N (pid %d) is ready\" line for child %d; output:\n%s", pid, pid, log)
			continue
		}
		ids[r.ID] = true
		if want := "app " + masterApp() + ":application"; r.What != want {
			t.Errorf("worker %d (pid %d) is ready with %q, want %q", r.ID, pid, r.What, want)
		}
	}
	if !ids[1] || !ids[2] {
		t.Errorf("the ready lines should name workers 1 and 2, got %v", ids)
	}

	seen := masterFactsByPid(t, "http://"+s.Addr, 2)
	if len(seen) != 2 {
		t.Fatalf("over up to 400 new connections, %d process(es) answered (%v), want both workers %v", len(seen), seen, workers)
	}
	for pid, f := range seen {
		if !masterIn(pid, workers) {
			t.Errorf("pid %d answered but is not one of the master's children %v", pid, workers)
		}
		if f.PPID != master || f.MasterPID != master {
			t.Errorf("pid %d: os.getppid() %d, uwsgi.masterpid() %d, want the master %d", pid, f.PPID, f.MasterPID, master)
		}
		if f.NumProc != 2 || !f.MultiProcess || !f.MultiThread {
			t.Errorf("pid %d: uwsgi.numproc %d, wsgi.multiprocess %v, wsgi.multithread %v; want 2, true, true", pid, f.NumProc, f.MultiProcess, f.MultiThread)
		}
		if f.WorkerID != ready[pid].ID || (f.WorkerID != 1 && f.WorkerID != 2) {
			t.Errorf("pid %d: uwsgi.worker_id() %d, but the master calls it worker %d", pid, f.WorkerID, ready[pid].ID)
		}
		if want := []string{"eval", "app", "post-fork-eval", "hook"}; fmt.Sprint(f.Events) != fmt.Sprint(want) {
			t.Errorf("pid %d: start-up steps ran as %v, want %v (--pypy-eval, the app, --pypy-eval-post-fork, uwsgi.post_fork_hook once)", pid, f.Events, want)
		}
	}
	if a, b := seen[workers[0]].WorkerID, seen[workers[1]].WorkerID; a == b {
		t.Errorf("both workers say uwsgi.worker_id() == %d", a)
	}
}

// The other ways to ask for processes: --processes 2 alone (uwsgo always supervises, so a
// master runs), its alias --workers, and --processes 1 alone, which is one process that
// serves by itself with no master at all.
func TestMasterProcessesOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		procs  int // worker processes; 0: single process
		mode   string
		thread bool
	}{
		{"processes 2 without --master", []string{"--processes", "2"}, 2, "preforking, 2 processes of 1 threads", false},
		{"workers alias", []string{"--workers", "2"}, 2, "preforking, 2 processes of 1 threads", false},
		{"master processes 2 threads 1", []string{"--master", "-p", "2", "--threads", "1"}, 2, "preforking, 2 processes of 1 threads", false},
		{"processes 1 without --master", []string{"--processes", "1"}, 0, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, append(c.args, "--pypy-wsgi-file", masterApp())...)
			pid := s.Cmd.Process.Pid
			log := s.Log()
			if c.procs == 0 {
				if regexp.MustCompile(`(?m)\bmaster(:| \(pid)`).MatchString(log) {
					t.Errorf("a single process should print no master lines; output:\n%s", log)
				}
				if !strings.Contains(log, fmt.Sprintf("ready (pid %d, single process", pid)) {
					t.Errorf("the single process should say it is ready as one process; output:\n%s", log)
				}
				f := masterGetFacts(t, masterNewClient(), "http://"+s.Addr)
				if f.PID != pid || f.NumProc != 1 || f.MultiProcess || f.MasterPID != 0 || f.WorkerID != 1 {
					t.Errorf("single process: the app sees %+v; want pid %d (the process started), numproc 1, multiprocess false, masterpid 0, worker_id 1", f, pid)
				}
				if c := masterChildren(pid); len(c) != 0 {
					t.Errorf("a single process should start no worker processes, has children %v", c)
				}
				return
			}
			if !strings.Contains(log, fmt.Sprintf("master (pid %d): %s", pid, c.mode)) {
				t.Errorf("the master should announce %q; output:\n%s", c.mode, log)
			}
			workers := masterWorkers(t, s, c.procs)
			seen := masterFactsByPid(t, "http://"+s.Addr, c.procs)
			if len(seen) != c.procs {
				t.Errorf("%d distinct worker(s) answered, want %d (children %v)", len(seen), c.procs, workers)
			}
			for p, f := range seen {
				if !masterIn(p, workers) || f.MasterPID != pid || f.NumProc != c.procs || !f.MultiProcess || f.MultiThread != c.thread {
					t.Errorf("worker pid %d sees %+v; want a child of %d among %v, masterpid %d, numproc %d, multiprocess true, multithread %v",
						p, f, pid, workers, pid, c.procs, c.thread)
				}
			}
		})
	}
}

// masterSignal sends sig to the master, failing the test if it cannot.
func masterSignal(t *testing.T, s *Server, sig syscall.Signal) {
	t.Helper()
	if err := s.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v to the master: %v", sig, err)
	}
}

// masterTempDir is a short temporary directory (UNIX socket paths are limited to 108 bytes).
func masterTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "uwm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d, _ := filepath.EvalSymlinks(dir)
	return d
}
