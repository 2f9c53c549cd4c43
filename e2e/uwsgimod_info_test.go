package e2e

// The uwsgi module's information and control functions, and the names it refuses.

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestUwsgiModInfo(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--threads", "3", "--buffer-size", "8192",
		"--cache2", "name=c1,items=10", "--cache2", "name=c2,items=5", "--locks", "4")
	masterPID := s.Cmd.Process.Pid
	host, _ := os.Hostname()
	before := time.Now().Unix()

	for _, c := range []struct{ code, want string }{
		{"out = type(uwsgi.version).__name__", "'bytes'"},
		{"out = uwsgi.version.decode().count('.') >= 2", "True"},
		{"out = uwsgi.version_info[:3] == tuple(int(x) for x in uwsgi.version.decode().split('.')[:3])", "True"},
		{"out = uwsgi.hostname", fmt.Sprintf("b'%s'", host)},
		{"out = uwsgi.numproc", "2"},
		{"out = uwsgi.buffer_size", "8192"},
		{"out = uwsgi.cores", "3"},
		{"out = uwsgi.masterpid()", strconv.Itoa(masterPID)},
		{"out = uwsgi.mule_id()", "0"},
		{"out = uwsgi.worker_id() in (1, 2)", "True"},
		{"out = type(uwsgi.started_on).__name__", "'int'"},
		// Every option given; a repeated one as a list in the order given; values bytes.
		{"out = uwsgi.opt['processes']", "b'2'"},
		{"out = uwsgi.opt['threads']", "b'3'"},
		{"out = uwsgi.opt['locks']", "b'4'"},
		{"out = uwsgi.opt['buffer-size']", "b'8192'"},
		{"out = uwsgi.opt['cache2']", "[b'name=c1,items=10', b'name=c2,items=5']"},
		{"out = uwsgi.opt['pypy-wsgi-file']", fmt.Sprintf("b'%s'", testdata("uwsgimod_app.py"))},
		{"out = uwsgi.opt['http-socket']", fmt.Sprintf("b'%s'", s.Addr)},
		{"out = bool(uwsgi.opt['master'])", "True"},
		{"out = 'harakiri' in uwsgi.opt", "False"}, // not given: not there
		{"out = list(uwsgi.applist)", fmt.Sprintf("['%s:application']", testdata("uwsgimod_app.py"))},
		{"out = list(uwsgi.applications) == [''] and callable(uwsgi.applications[''])", "True"},
		{"out = uwsgi.listen_queue() >= 0", "True"},
		{"out = uwsgi.ready()", "True"},
		{"uwsgi.accepting(); out = 'ok'", "'ok'"},
	} {
		umodEq(t, s, 0, c.code, c.want)
	}
	started := umodInt(t, s, 0, "out = uwsgi.started_on")
	if started > before || started < before-120 {
		t.Errorf("uwsgi.started_on = %d, want the start time (the test started it at about %d)", started, before)
	}

	// Both worker ids answer, each with its own pid; workers() knows them both.
	seen := map[int]int{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		r := umodExec(t, s, "out = [uwsgi.worker_id(), os.getpid()]")
		var idPID [2]int
		json.Unmarshal(r.Out, &idPID)
		seen[idPID[0]] = idPID[1]
	}
	if len(seen) != 2 || seen[1] == 0 || seen[2] == 0 || seen[1] == seen[2] {
		t.Fatalf("worker_id() and pids seen in 200 requests: %v, want ids 1 and 2 with two pids", seen)
	}
	ws := umodWorkers(t, s)
	if len(ws) != 2 {
		t.Fatalf("uwsgi.workers() has %d entries, want 2: %+v", len(ws), ws)
	}
	for _, w := range ws {
		if seen[w.ID] != w.PID {
			t.Errorf("uwsgi.workers() says worker %d is pid %d; the worker itself says %d", w.ID, w.PID, seen[w.ID])
		}
		if w.RSS <= 0 || w.Status == "" || w.Requests < 1 {
			t.Errorf("uwsgi.workers() entry %+v: want rss > 0, a status, requests >= 1", w)
		}
	}
	r := umodOK(t, s, umodExec(t, s, "out = sorted(uwsgi.workers()[0])"))
	for _, key := range []string{"id", "pid", "requests", "status", "rss", "vsz", "exceptions", "harakiri_count", "respawn_count", "running_time", "avg_rt", "tx", "cores", "apps"} {
		if !strings.Contains(r.Repr, "'"+key+"'") {
			t.Errorf("uwsgi.workers() entries have keys %s; %q is missing", r.Repr, key)
		}
	}
	umodEq(t, s, 0, "out = type(uwsgi.workers()).__name__", "'tuple'")

	// total_requests() counts every worker's requests and grows with them.
	n1 := umodInt(t, s, 0, "out = uwsgi.total_requests()")
	for i := 0; i < 5; i++ {
		umodExec(t, s, "out = 1")
	}
	n2 := umodInt(t, s, 0, "out = uwsgi.total_requests()")
	if n2 < n1+5 {
		t.Errorf("uwsgi.total_requests() went from %d to %d over 6 requests, want at least +5", n1, n2)
	}
	var sum int64
	for _, w := range umodWorkers(t, s) {
		sum += w.Requests
	}
	if sum < n2 {
		t.Errorf("the workers' requests add up to %d, less than total_requests() %d said before", sum, n2)
	}
}

func TestUwsgiModInfoSingleProcess(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("uwsgimod_app.py"))
	for _, c := range []struct{ code, want string }{
		{"out = uwsgi.masterpid()", "0"},
		{"out = uwsgi.numproc", "1"},
		{"out = uwsgi.worker_id()", "1"},
		{"out = uwsgi.cores", "1"},
		{"out = len(uwsgi.workers())", "1"},
		{"out = uwsgi.workers()[0]['pid'] == os.getpid()", "True"},
	} {
		umodEq(t, s, 0, c.code, c.want)
	}
	// uwsgidecorators refuses to work without a master, as in uWSGI.
	umodRaises(t, s, "import uwsgidecorators", "Exception", "master")
}

func TestUwsgiModLog(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	umodOK(t, s, umodExec(t, s, "uwsgi.log('umod-log-marker %d' % uwsgi.worker_id())"))
	if !s.WaitLog("umod-log-marker ", 5*time.Second) {
		t.Fatalf("uwsgi.log() did not reach the log:\n%s", s.Log())
	}
}

func TestUwsgiModReload(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	old := umodPIDs(t, s)
	if len(old) != 2 {
		t.Fatalf("workers before the reload: %v", old)
	}
	umodEq(t, s, 0, "out = uwsgi.reload()", "True")
	var now map[int]int
	ok := eventually(30*time.Second, func() bool {
		now = umodPIDs(t, s)
		return len(now) == 2 && now[1] != old[1] && now[2] != old[2] && now[1] != old[2] && now[2] != old[1]
	})
	if !ok {
		t.Fatalf("after uwsgi.reload() the workers are %v, were %v: want two new pids\n%s", now, old, s.Log())
	}
	for id, pid := range old {
		if !eventually(15*time.Second, func() bool { return !umodAlive(pid) }) {
			t.Errorf("old worker %d (pid %d) still runs after the reload", id, pid)
		}
	}
	if !strings.Contains(s.Log(), "uwsgi.reload()") {
		t.Errorf("the log does not say the reload came from uwsgi.reload():\n%s", s.Log())
	}
	// Still serving.
	umodEq(t, s, 0, "out = 'alive'", "'alive'")
}

func TestUwsgiModStop(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	pids := umodPIDs(t, s)
	umodEq(t, s, 0, "out = uwsgi.stop()", "True")
	if st := s.Exited(20 * time.Second); st != 0 {
		t.Fatalf("after uwsgi.stop() the instance exit status is %d, want 0 (-1: still running)\n%s", st, s.Log())
	}
	for id, pid := range pids {
		if umodAlive(pid) {
			t.Errorf("worker %d (pid %d) outlived the master", id, pid)
		}
	}
}

func TestUwsgiModStopSingleProcess(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("uwsgimod_app.py"))
	umodEq(t, s, 0, "out = uwsgi.stop()", "True")
	if st := s.Exited(20 * time.Second); st != 0 {
		t.Fatalf("after uwsgi.stop() the single process exit status is %d, want 0\n%s", st, s.Log())
	}
}

func TestUwsgiModReloadSingleProcessRefused(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("uwsgimod_app.py"))
	umodRaises(t, s, "uwsgi.reload()", "ValueError", "--master")
	umodEq(t, s, 0, "out = 'still serving'", "'still serving'")
}

func TestUwsgiModUserHarakiri(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	first, rest := umodStream(t, s, "/harakiri?secs=2&sleep=10")
	pid, wid := int(first["pid"].(float64)), int(first["wid"].(float64))
	if !s.WaitLog("HARAKIRI", 15*time.Second) {
		t.Fatalf("no HARAKIRI in the log 15 s after set_user_harakiri(2):\n%s", s.Log())
	}
	line := ""
	for _, l := range strings.Split(s.Log(), "\n") {
		if strings.Contains(l, "HARAKIRI") {
			line = l
		}
	}
	for _, want := range []string{"set_user_harakiri", strconv.Itoa(pid), "/harakiri"} {
		if !strings.Contains(line, want) {
			t.Errorf("the HARAKIRI line %q does not mention %q", line, want)
		}
	}
	if b, _ := rest.ReadString(0); strings.Contains(b, "survived") {
		t.Errorf("the request survived its harakiri: %q", b)
	}
	if !eventually(10*time.Second, func() bool { return !umodAlive(pid) }) {
		t.Errorf("worker pid %d still runs after its harakiri", pid)
	}
	var ws []umodWorker
	ok := eventually(20*time.Second, func() bool {
		ws = umodWorkers(t, s)
		for _, w := range ws {
			if w.ID == wid && w.PID != pid && w.HarakiriCount == 1 {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Errorf("worker %d was not respawned with harakiri_count 1: %+v", wid, ws)
	}
}

// A user harakiri belongs to its request: set in a request that ends in time, it does
// not kill a later request of the same worker.
func TestUwsgiModUserHarakiriEndsWithRequest(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	r := umodOK(t, s, umodExecOn(t, s, 1, "uwsgi.set_user_harakiri(1); out = os.getpid()"))
	r2 := umodOK(t, s, umodExecOn(t, s, 1, "time.sleep(3); out = os.getpid()"))
	if r2.PID != r.PID {
		t.Fatalf("worker 1 changed pid from %d to %d", r.PID, r2.PID)
	}
	if strings.Contains(s.Log(), "HARAKIRI") {
		t.Errorf("a harakiri set by an earlier, finished request killed a later one:\n%s", s.Log())
	}
}

func TestUwsgiModSetprocname(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	r := umodOK(t, s, umodExec(t, s, "uwsgi.setprocname('umod-procname'); out = os.getpid()"))
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", r.PID))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "umod-procname" {
		t.Errorf("/proc/%d/comm is %q after setprocname('umod-procname')", r.PID, got)
	}
}

// Names of uWSGI subsystems uwsgo has not: a NotImplementedError that names the
// feature; a plain typo stays an AttributeError.
func TestUwsgiModAbsentNames(t *testing.T) {
	t.Parallel()
	s := umodStart(t)
	for _, c := range []struct{ name, feature string }{
		{"erlang_register_process", "Erlang"},
		{"snmp_set_counter32", "SNMP"},
		{"queue_push", "queue"},
		{"cluster_nodes", "cluster"},
	} {
		umodRaises(t, s, "uwsgi."+c.name+"('x')", "NotImplementedError", "uwsgi."+c.name, c.feature)
	}
	umodRaises(t, s, "uwsgi.no_such_thing", "AttributeError", "no_such_thing")
	umodEq(t, s, 0, "out = getattr(uwsgi, 'no_such_thing', 'default')", "'default'")
}
