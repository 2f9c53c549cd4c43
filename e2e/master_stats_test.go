package e2e

// The stats server: uWSGI's JSON document on a plain TCP connection, and over HTTP with
// Prometheus metrics beside it.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// masterStats reads the stats document from a plain TCP connection to addr.
func masterStats(t *testing.T, addr string) map[string]any {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to the stats server %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the stats document: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the stats server sent no JSON document (%v): %q", err, b)
	}
	return doc
}

// masterStatsWorkers is the document's workers[] list.
func masterStatsWorkers(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	list, ok := doc["workers"].([]any)
	if !ok {
		t.Fatalf("workers is not a list: %v", doc["workers"])
	}
	var out []map[string]any
	for _, w := range list {
		m, ok := w.(map[string]any)
		if !ok {
			t.Fatalf("a worker is not an object: %v", w)
		}
		out = append(out, m)
	}
	return out
}

// masterStatsSum adds up a numeric key over the workers.
func masterStatsSum(t *testing.T, doc map[string]any, key string) float64 {
	t.Helper()
	sum := 0.0
	for _, w := range masterStatsWorkers(t, doc) {
		v, ok := w[key].(float64)
		if !ok {
			t.Fatalf("worker %v: %s is not a number: %v", w["id"], key, w[key])
		}
		sum += v
	}
	return sum
}

// masterCheckStatsDocument checks the uWSGI keys of a stats document of an instance of
// two workers of two threads whose master is masterPID and whose worker pids are workers.
func masterCheckStatsDocument(t *testing.T, doc map[string]any, masterPID int, workers []int, socket string) {
	t.Helper()
	for _, k := range []string{"version", "pid", "uid", "gid", "cwd", "listen_queue", "load", "sockets", "workers"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("the stats document has no %q key: %v", k, doc)
		}
	}
	if doc["pid"] != float64(masterPID) {
		t.Errorf("stats pid %v, want the master's %d", doc["pid"], masterPID)
	}
	if doc["uid"] != float64(os.Getuid()) || doc["gid"] != float64(os.Getgid()) {
		t.Errorf("stats uid/gid %v/%v, want %d/%d", doc["uid"], doc["gid"], os.Getuid(), os.Getgid())
	}
	if v, _ := doc["version"].(string); v == "" {
		t.Errorf("stats version %v, want a version string", doc["version"])
	}
	if cwd, _ := os.Getwd(); doc["cwd"] != cwd {
		t.Errorf("stats cwd %v, want %s", doc["cwd"], cwd)
	}
	sockets, _ := doc["sockets"].([]any)
	if len(sockets) != 1 {
		t.Errorf("stats sockets %v, want one", doc["sockets"])
	} else if s0, _ := sockets[0].(map[string]any); s0["name"] != socket {
		t.Errorf("stats sockets[0] %v, want name %s", s0, socket)
	}
	ws := masterStatsWorkers(t, doc)
	if len(ws) != 2 {
		t.Fatalf("stats has %d workers, want 2: %v", len(ws), ws)
	}
	for i, w := range ws {
		for _, k := range []string{"id", "pid", "requests", "exceptions", "status", "rss", "vsz", "running_time", "last_spawn", "respawn_count", "tx", "avg_rt", "apps", "cores"} {
			if _, ok := w[k]; !ok {
				t.Errorf("stats worker %d has no %q key: %v", i+1, k, w)
			}
		}
		if w["id"] != float64(i+1) {
			t.Errorf("stats worker %d has id %v", i+1, w["id"])
		}
		if pid, _ := w["pid"].(float64); !masterIn(int(pid), workers) {
			t.Errorf("stats worker %d has pid %v, not one of the workers %v", i+1, w["pid"], workers)
		}
		if rss, _ := w["rss"].(float64); rss <= 0 {
			t.Errorf("stats worker %d rss %v, want the process's resident size", i+1, w["rss"])
		}
		if vsz, _ := w["vsz"].(float64); vsz <= 0 {
			t.Errorf("stats worker %d vsz %v, want the process's virtual size", i+1, w["vsz"])
		}
		if spawn, _ := w["last_spawn"].(float64); spawn < float64(time.Now().Add(-time.Minute).Unix()) || spawn > float64(time.Now().Unix()+1) {
			t.Errorf("stats worker %d last_spawn %v, want a unix time from the last minute", i+1, w["last_spawn"])
		}
		if st := w["status"]; st != "idle" && st != "busy" {
			t.Errorf("stats worker %d status %v, want idle or busy", i+1, st)
		}
		apps, _ := w["apps"].([]any)
		if len(apps) != 1 {
			t.Errorf("stats worker %d apps %v, want the one app", i+1, w["apps"])
		} else if a, _ := apps[0].(map[string]any); a["callable"] != masterApp()+":application" {
			t.Errorf("stats worker %d apps[0] %v, want callable %s:application", i+1, a, masterApp())
		}
		if cores, _ := w["cores"].([]any); len(cores) != 2 {
			t.Errorf("stats worker %d cores %v, want one per thread (2)", i+1, w["cores"])
		}
	}
}

// masterWaitStats polls the document until ok says yes (10 s at most); counters are
// updated once the response is on its way, so a read right after a response may lag.
func masterWaitStats(t *testing.T, get func() map[string]any, ok func(map[string]any) bool) (map[string]any, bool) {
	t.Helper()
	var doc map[string]any
	done := eventually(10*time.Second, func() bool { doc = get(); return ok(doc) })
	return doc, done
}

// --stats ADDR: a plain TCP connection gets uWSGI's stats JSON with uWSGI's keys; the
// request counters grow with requests, and an app exception counts in exceptions.
func TestMasterStatsJSON(t *testing.T) {
	t.Parallel()
	statsAddr := freeAddr(t)
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--stats", statsAddr, "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	get := func() map[string]any { return masterStats(t, statsAddr) }
	doc := get()
	masterCheckStatsDocument(t, doc, s.Cmd.Process.Pid, workers, s.Addr)
	before, beforeExc, beforeTx := masterStatsSum(t, doc, "requests"), masterStatsSum(t, doc, "exceptions"), masterStatsSum(t, doc, "tx")

	client := masterNewClient()
	for i := 0; i < 10; i++ {
		if code, body, err := masterFetch(client, s.URL("/pid")); err != nil || code != 200 {
			t.Fatalf("GET /pid: %d %q %v", code, body, err)
		}
	}
	doc, ok := masterWaitStats(t, get, func(d map[string]any) bool { return masterStatsSum(t, d, "requests") >= before+10 })
	if !ok {
		t.Errorf("after 10 requests the workers' requests add up to %v, want at least %v", masterStatsSum(t, doc, "requests"), before+10)
	}
	if tx := masterStatsSum(t, doc, "tx"); tx <= beforeTx {
		t.Errorf("tx did not grow with 10 responses: %v then %v", beforeTx, tx)
	}
	if code, _, err := masterFetch(client, s.URL("/raise")); err != nil || code != 500 {
		t.Fatalf("GET /raise should be a 500: %d %v", code, err)
	}
	doc, ok = masterWaitStats(t, get, func(d map[string]any) bool { return masterStatsSum(t, d, "exceptions") == beforeExc+1 })
	if !ok {
		t.Errorf("after one exception in the app the workers' exceptions add up to %v, want %v", masterStatsSum(t, doc, "exceptions"), beforeExc+1)
	}
	for _, w := range masterStatsWorkers(t, doc) {
		if w["requests"].(float64) > 0 && w["avg_rt"].(float64) <= 0 {
			t.Errorf("worker %v served %v requests but avg_rt is %v", w["id"], w["requests"], w["avg_rt"])
		}
	}
}

var masterMetricRE = regexp.MustCompile(`(?m)^uwsgo_worker_requests_total\{worker="(\d+)",pid="(\d+)"\} (\d+)$`)

// --stats ADDR --stats-http: GET / gives the same document; GET /metrics gives Prometheus
// text with a uwsgo_worker_requests_total line per worker.
func TestMasterStatsHTTP(t *testing.T) {
	t.Parallel()
	statsAddr := freeAddr(t)
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--stats", statsAddr, "--stats-http", "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	client := masterNewClient()
	code, body, err := masterFetch(client, "http://"+statsAddr+"/")
	if err != nil || code != 200 {
		t.Fatalf("GET / on the stats server: %d %q %v", code, body, err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("GET / on the stats server is not JSON: %v: %q", err, body)
	}
	masterCheckStatsDocument(t, doc, s.Cmd.Process.Pid, workers, s.Addr)

	for i := 0; i < 6; i++ {
		masterFetch(client, s.URL("/pid"))
	}
	resp, err := http.Get("http://" + statsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !regexp.MustCompile(`^text/plain`).MatchString(resp.Header.Get("Content-Type")) {
		t.Errorf("GET /metrics: %d, Content-Type %q; want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := masterMetricRE.FindAllStringSubmatch(string(b), -1)
	ids := map[string]bool{}
	for _, l := range lines {
		ids[l[1]] = true
		if pid, _ := strconv.Atoi(l[2]); !masterIn(pid, workers) {
			t.Errorf("metrics line %q names pid %d, not a worker (%v)", l[0], pid, workers)
		}
	}
	if len(lines) != 2 || !ids["1"] || !ids["2"] {
		t.Errorf("want one uwsgo_worker_requests_total line for each of workers 1 and 2, got %v in:\n%s", lines, b)
	}
	if !regexp.MustCompile(`(?m)^# TYPE uwsgo_worker_requests_total counter$`).Match(b) {
		t.Errorf("the metrics should declare uwsgo_worker_requests_total a counter:\n%s", b)
	}
}

// --listen 7 sets the listen queue of the socket: the stats document's sockets[0].max_queue.
func TestMasterListenQueue(t *testing.T) {
	t.Parallel()
	for _, backlog := range []int{7, 33} {
		t.Run(fmt.Sprint(backlog), func(t *testing.T) {
			t.Parallel()
			statsAddr := freeAddr(t)
			s := Start(t, "--master", "--processes", "2", "--listen", fmt.Sprint(backlog), "--stats", statsAddr, "--pypy-wsgi-file", masterApp())
			sockets, _ := masterStats(t, statsAddr)["sockets"].([]any)
			if len(sockets) != 1 {
				t.Fatalf("stats sockets: %v", sockets)
			}
			s0, _ := sockets[0].(map[string]any)
			if s0["max_queue"] != float64(backlog) {
				t.Errorf("--listen %d: sockets[0].max_queue is %v", backlog, s0["max_queue"])
			}
			if code, _, err := masterFetch(masterNewClient(), s.URL("/pid")); err != nil || code != 200 {
				t.Errorf("the instance should serve with --listen %d: %d %v", backlog, code, err)
			}
		})
	}
}
