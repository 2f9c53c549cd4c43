package e2e

// Faults of the master/worker model, each under bounded steady load: a worker killed,
// reload on SIGHUP, graceful and immediate stop, harakiri, an app that fails to load, a
// worker that dies while starting.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// masterWaitLogRE waits until the output matches re and returns the first match.
func masterWaitLogRE(s *Server, re *regexp.Regexp, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		if m := re.FindStringSubmatch(s.Log()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// masterResult is the outcome of one request made in the background.
type masterResult struct {
	code int
	body string
	err  error
}

// masterFetchAsync GETs url on a new connection in the background.
func masterFetchAsync(url string, timeout time.Duration) <-chan masterResult {
	ch := make(chan masterResult, 1)
	go func() {
		client := masterNewClient()
		client.Timeout = timeout
		code, body, err := masterFetch(client, url)
		ch <- masterResult{code, body, err}
	}()
	return ch
}

// kill -9 of one worker: the master says it died and starts another (a new pid, which
// serves); the only requests that may fail are those in flight on the killed worker, at
// most one per client goroutine; requests succeed again afterwards.
func TestMasterKill9Worker(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(50, 15*time.Second) {
		t.Fatalf("the load did not get going; output:\n%s", s.Log())
	}
	victim := workers[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	died := regexp.MustCompile(fmt.Sprintf(`master: worker (\d) \(pid %d\) was killed by [^\n]*: respawning it`, victim))
	if masterWaitLogRE(s, died, 10*time.Second) == nil {
		t.Fatalf("the master should log that worker pid %d was killed and is respawned; output:\n%s", victim, s.Log())
	}
	fresh := masterWaitReadyPid(t, s, workers, 15*time.Second)
	now := masterWorkers(t, s, 2)
	if !masterIn(fresh, now) || !masterIn(workers[1], now) || masterIn(victim, now) {
		t.Errorf("after the kill the workers should be %d (untouched) and %d (new), are %v", workers[1], fresh, now)
	}
	masterWaitAnswer(t, s, fresh)
	if !load.waitOK(50, 15*time.Second) {
		t.Errorf("requests did not succeed again after the worker was replaced; output:\n%s", s.Log())
	}
	load.Stop()
	ok, fails, pids := load.counts()
	t.Logf("%d requests succeeded, %d failed; pids that answered: %v", ok, len(fails), pids)
	if len(fails) > masterLoadClients {
		t.Errorf("%d requests failed, more than the %d that can be in flight on the killed worker:\n%s", len(fails), masterLoadClients, strings.Join(fails, "\n"))
	}
	masterStopsCleanly(t, s)
}

// masterWaitAnswer makes requests on new connections until pid answers one (at most 200).
func masterWaitAnswer(t *testing.T, s *Server, pid int) {
	t.Helper()
	client := masterNewClient()
	var got []string
	for i := 0; i < 200; i++ {
		code, body, err := masterFetch(client, s.URL("/pid"))
		if err == nil && code == 200 && body == strconv.Itoa(pid) {
			return
		}
		got = append(got, fmt.Sprint(code, " ", body, " ", err))
	}
	t.Errorf("worker pid %d answered none of 200 requests on new connections; answers: %v", pid, got)
}

// masterStopsCleanly sends SIGTERM to an idle master after the test's event: it must
// exit with status 0 within 15 s (its workers have nothing left to finish).
func masterStopsCleanly(t *testing.T, s *Server) {
	t.Helper()
	masterSignal(t, s, syscall.SIGTERM)
	if code := s.Exited(15 * time.Second); code != 0 {
		s.Cmd.Process.Kill()
		t.Errorf("after the event, an idle instance should stop on SIGTERM with status 0 within 15 s; got %d (-1: still running); output:\n%s", code, masterTail(s.Log(), 40))
	}
}

// masterTail is the last n lines of a log that are not per-request lines.
func masterTail(log string, n int) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, " => ") {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

// SIGHUP to the master reloads gracefully: not one request fails across the reload (the
// clients keep their connections alive), and afterwards every worker process is new.
func TestMasterSIGHUPReloadLosesNothing(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--pypy-wsgi-file", masterApp())
	old := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(50, 15*time.Second) {
		t.Fatalf("the load did not get going; output:\n%s", s.Log())
	}
	masterSignal(t, s, syscall.SIGHUP)
	if !s.WaitLog("master: SIGHUP: reloading the workers gracefully", 10*time.Second) {
		t.Fatalf("no reload logged after SIGHUP; output:\n%s", s.Log())
	}
	fresh := masterAllNew(t, s, 2, old, 30*time.Second)
	if alive := masterWaitGone(old, 10*time.Second); len(alive) != 0 {
		t.Errorf("old workers %v still run after the reload", alive)
	}
	if _, ok := load.waitPid(old, 15*time.Second); !ok {
		t.Errorf("no new worker (%v) answered after the reload", fresh)
	}
	if !load.waitOK(50, 15*time.Second) {
		t.Errorf("requests stopped succeeding after the reload; output:\n%s", s.Log())
	}
	load.Stop()
	ok, fails, pids := load.counts()
	t.Logf("%d requests succeeded across the reload; pids that answered: %v (old %v, new %v)", ok, pids, old, fresh)
	if len(fails) != 0 {
		t.Errorf("%d requests failed across a graceful reload, want 0:\n%s\noutput:\n%s", len(fails), strings.Join(fails, "\n"), s.Log())
	}
	for _, p := range pids {
		if !masterIn(p, old) && !masterIn(p, fresh) {
			t.Errorf("pid %d answered but is neither an old nor a new worker", p)
		}
	}
	if s.Exited(0) != -1 {
		t.Fatalf("the master exited on SIGHUP; output:\n%s", s.Log())
	}
}

// SIGTERM to the master while a 2-second request runs: the request completes with 200,
// then the master exits with status 0, and the log says it finished the requests.
func TestMasterSIGTERMFinishesRequests(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--pypy-wsgi-file", masterApp())
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 15*time.Second) {
		t.Fatalf("the load did not get going; output:\n%s", s.Log())
	}
	slow := masterFetchAsync(s.URL("/sleep?s=2"), 20*time.Second)
	if !s.WaitLog("master_app sleeping /sleep?s=2", 10*time.Second) {
		t.Fatalf("the slow request never started; output:\n%s", s.Log())
	}
	masterSignal(t, s, syscall.SIGTERM)
	select {
	case r := <-slow:
		if r.err != nil || r.code != 200 || !strings.HasPrefix(r.body, "slept ") {
			t.Errorf("the request in flight at SIGTERM should complete with 200, got %d %q %v; output:\n%s", r.code, r.body, r.err, s.Log())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the request in flight at SIGTERM never completed; output:\n%s", s.Log())
	}
	load.Stop()
	if code := s.Exited(15 * time.Second); code != 0 {
		t.Fatalf("the master should exit with status 0 after SIGTERM, got %d (-1: still running); output:\n%s", code, s.Log())
	}
	log := s.Log()
	for _, want := range []string{"master: terminated: finishing requests in flight", "every worker is gone, exiting with status 0"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log should say %q; output:\n%s", want, log)
		}
	}
}

// SIGQUIT stops at once: the master and its workers are gone within 10 s even with a
// 30-second request in flight, and no worker process is left behind.
func TestMasterSIGQUITStopsNow(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 15*time.Second) {
		t.Fatalf("the load did not get going; output:\n%s", s.Log())
	}
	slow := masterFetchAsync(s.URL("/sleep?s=30"), 40*time.Second)
	if !s.WaitLog("master_app sleeping /sleep?s=30", 10*time.Second) {
		t.Fatalf("the slow request never started; output:\n%s", s.Log())
	}
	masterSignal(t, s, syscall.SIGQUIT)
	code := s.Exited(10 * time.Second)
	load.Stop()
	if code == -1 {
		t.Fatalf("the master still runs 10 s after SIGQUIT; output:\n%s", s.Log())
	}
	if alive := masterWaitGone(workers, time.Second); len(alive) != 0 {
		t.Errorf("workers %v outlived the master's SIGQUIT", alive)
	}
	select {
	case r := <-slow:
		if r.err == nil && r.code == 200 {
			t.Errorf("the 30-second request completed although SIGQUIT stops at once")
		}
	case <-time.After(10 * time.Second):
		t.Errorf("the 30-second request's connection is still open after the master exited")
	}
}

// --harakiri 2: a request that sleeps 30 s gets its worker killed (the log says HARAKIRI
// and names the request), the client gets no 200, the worker is respawned and the
// requests that follow succeed.
func TestMasterHarakiri(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--harakiri", "2", "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	load := masterStartLoad(t, s.URL("/pid"))
	if !load.waitOK(20, 15*time.Second) {
		t.Fatalf("the load did not get going; output:\n%s", s.Log())
	}
	slow := masterFetchAsync(s.URL("/sleep?s=30"), 25*time.Second)
	m := masterWaitLogRE(s, regexp.MustCompile(`master_app sleeping /sleep\?s=30 pid (\d+)`), 10*time.Second)
	if m == nil {
		t.Fatalf("the slow request never started; output:\n%s", s.Log())
	}
	stuck, _ := strconv.Atoi(m[1])
	select {
	case r := <-slow:
		if r.err == nil && r.code == 200 {
			t.Errorf("the request harakiri should have cut got 200 %q", r.body)
		}
		t.Logf("the cut request got: %d %v", r.code, r.err)
	case <-time.After(25 * time.Second):
		t.Fatalf("the 30-second request was not cut by --harakiri 2; output:\n%s", s.Log())
	}
	hk := regexp.MustCompile(fmt.Sprintf(`HARAKIRI[^\n]*pid %d[^\n]*GET /sleep\?s=30`, stuck))
	if masterWaitLogRE(s, hk, 5*time.Second) == nil {
		t.Errorf("the log should report HARAKIRI for pid %d running GET /sleep?s=30; output:\n%s", stuck, s.Log())
	}
	fresh := masterWaitReadyPid(t, s, workers, 15*time.Second)
	if alive := masterWaitGone([]int{stuck}, 5*time.Second); len(alive) != 0 {
		t.Errorf("the worker harakiri killed (pid %d) still runs", stuck)
	}
	masterWaitAnswer(t, s, fresh)
	if !load.waitOK(50, 15*time.Second) {
		t.Errorf("requests did not succeed after the harakiri; output:\n%s", s.Log())
	}
	load.Stop()
	ok, fails, _ := load.counts()
	t.Logf("%d requests succeeded, %d failed", ok, len(fails))
	if len(fails) > masterLoadClients {
		t.Errorf("%d requests failed around the harakiri, more than the %d that can be in flight on the killed worker:\n%s", len(fails), masterLoadClients, strings.Join(fails, "\n"))
	}
	masterStopsCleanly(t, s)
}

// An app that cannot be loaded: with --need-app the whole instance exits with status 22
// and prints the exception; without it, the workers serve 500s and say no app is loaded.
func TestMasterAppFailsToLoad(t *testing.T) {
	t.Parallel()
	broken := testdata("master_broken.py")
	for _, mode := range [][]string{{"--master", "--processes", "2"}, {"--processes", "1"}} {
		t.Run("need-app "+strings.Join(mode, " "), func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--http-socket", freeAddr(t)}, mode...)
			code, out := Run(t, append(args, "--need-app", "--pypy-wsgi-file", broken), NoWait()).ExitWithin(30 * time.Second)
			if code != 22 {
				t.Errorf("--need-app with an app that raises at import: exit status %d, want 22; output:\n%s", code, out)
			}
			for _, want := range []string{"Traceback", "ImportError: master_broken exploded at import: no database here"} {
				if !strings.Contains(out, want) {
					t.Errorf("the output should contain %q:\n%s", want, out)
				}
			}
		})
	}
	t.Run("dynamic mode", func(t *testing.T) {
		t.Parallel()
		s := Start(t, "--master", "--processes", "2", "--pypy-wsgi-file", broken)
		log := s.Log()
		for _, want := range []string{"master_broken exploded at import", "no app loaded", "dynamic mode"} {
			if !strings.Contains(log, want) {
				t.Errorf("the log should say %q; output:\n%s", want, log)
			}
		}
		client := masterNewClient()
		for i := 0; i < 6; i++ {
			if code, body, err := masterFetch(client, s.URL("/")); err != nil || code != 500 {
				t.Fatalf("a request without an app should get 500, got %d %q %v", code, body, err)
			}
		}
		if s.Exited(0) != -1 {
			t.Fatalf("without --need-app the instance should keep running")
		}
	})
}

// The process that loads the app: worker 1, or with pre-fork the loader.
var masterRespawnRE = regexp.MustCompile(`master: (?:worker 1|loader) \(pid \d+\) exited with status 3 during start-up \((\d+) time\(s\) in a row\): respawning in (\S+)`)

// A worker that dies at every start is respawned with growing delays: the log says
// "respawning in" with increasing durations, and there are never more than 6 starts in
// any 5 seconds.
func TestMasterCrashLoopBacksOff(t *testing.T) {
	t.Parallel()
	dir := masterTempDir(t)
	s := Run(t, []string{"--http-socket", freeAddr(t), "--master", "--processes", "1",
		"--pypy-eval", fmt.Sprintf("import builtins; builtins.MASTER_CRASH = (%q, -1)", dir),
		"--pypy-wsgi-file", testdata("master_crash.py")}, NoWait())
	deadline := time.Now().Add(20 * time.Second)
	var lines [][]string
	for time.Now().Before(deadline) {
		if lines = masterRespawnRE.FindAllStringSubmatch(s.Log(), -1); len(lines) >= 4 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(lines) < 4 {
		t.Fatalf("expected 4 \"respawning in\" lines within 20 s, got %d; output:\n%s", len(lines), s.Log())
	}
	var prev time.Duration
	for i, m := range lines {
		n, _ := strconv.Atoi(m[1])
		d, err := time.ParseDuration(m[2])
		if err != nil || n != i+1 {
			t.Errorf("respawn line %d says %q times in a row, delay %q (%v)", i+1, m[1], m[2], err)
		}
		if d <= prev {
			t.Errorf("respawn delays should grow: %v after %v", d, prev)
		}
		prev = d
	}
	if masterReadyInstanceRE.MatchString(s.Log()) {
		t.Errorf("a worker that never starts must not make the instance ready; output:\n%s", s.Log())
	}
	var starts []float64
	for _, f := range strings.Fields(masterReadFile(dir + "/starts")) {
		v, _ := strconv.ParseFloat(f, 64)
		starts = append(starts, v)
	}
	if len(starts) < 4 {
		t.Fatalf("the app recorded %d starts, want at least 4", len(starts))
	}
	for i := range starts {
		n := 0
		for j := i; j < len(starts) && starts[j]-starts[i] < 5; j++ {
			n++
		}
		if n > 6 {
			t.Errorf("%d worker starts within 5 s from %.3f: %v", n, starts[i], starts)
		}
	}
	t.Logf("starts after the first (s): %v", masterRelative(starts))
}

func masterRelative(ts []float64) []float64 {
	out := make([]float64, len(ts))
	for i, v := range ts {
		out[i] = math.Round((v-ts[0])*100) / 100
	}
	return out
}

// A worker that dies at its first two starts and then loads: the master backs off
// (500ms, then 1s), and the instance becomes ready and serves from the third start.
func TestMasterCrashThenRecover(t *testing.T) {
	t.Parallel()
	dir := masterTempDir(t)
	// Not Start: the instance only becomes ready after the crashes, and the test reads
	// the log from the first line on.
	addr := freeAddr(t)
	s := Run(t, []string{"--http-socket", addr, "--master", "--processes", "1",
		"--pypy-eval", fmt.Sprintf("import builtins; builtins.MASTER_CRASH = (%q, 2)", dir),
		"--pypy-wsgi-file", testdata("master_crash.py")}, ReadyWhen(masterReadyInstanceRE), Within(30*time.Second))
	s.Addr = addr
	lines := masterRespawnRE.FindAllStringSubmatch(s.Log(), -1)
	if len(lines) != 2 || lines[0][2] != "500ms" || lines[1][2] != "1s" {
		t.Errorf("expected two respawn lines, in 500ms then in 1s; got %v; output:\n%s", lines, s.Log())
	}
	workers := masterWorkers(t, s, 1)
	code, body, err := masterFetch(masterNewClient(), s.URL("/"))
	if err != nil || code != 200 || body != strconv.Itoa(workers[0]) {
		t.Errorf("the third start should serve: got %d %q %v, want 200 from pid %d", code, body, err, workers[0])
	}
	if n := len(strings.Fields(masterReadFile(dir + "/starts"))); n != 3 {
		t.Errorf("the app was started %d times, want 3", n)
	}
}

// Reloads under load that opens a new connection for every request (so that every one
// is accepted afresh, and a client never hides a failure by retrying): across three
// SIGHUP reloads not one request fails, and each time the old workers are gone within
// 10 s, well before --worker-reload-mercy (60 s) would have them killed.
func TestMasterSIGHUPReloadNewConnections(t *testing.T) {
	t.Parallel()
	s := Start(t, "--master", "--processes", "2", "--threads", "2", "--disable-logging", "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	load := masterStartNewConnLoad(t, s.URL("/pid"))
	if !load.waitOK(50, 15*time.Second) {
		t.Fatalf("the load did not get going; output:\n%s", s.Log())
	}
	for i := 1; i <= 3; i++ {
		masterSignal(t, s, syscall.SIGHUP)
		fresh := masterAllNew(t, s, 2, workers, 30*time.Second)
		if alive := masterWaitGone(workers, 10*time.Second); len(alive) != 0 {
			t.Errorf("reload %d: old workers %v still run 10 s after their replacements were ready; output:\n%s", i, alive, masterTail(s.Log(), 30))
		}
		workers = fresh
		if !load.waitOK(30, 15*time.Second) {
			t.Fatalf("reload %d: requests stopped succeeding; output:\n%s", i, masterTail(s.Log(), 30))
		}
	}
	load.Stop()
	ok, fails, _ := load.counts()
	t.Logf("%d requests on new connections across 3 reloads, %d failed", ok, len(fails))
	if len(fails) != 0 {
		t.Errorf("%d requests failed across graceful reloads, want 0:\n%s\noutput:\n%s", len(fails), strings.Join(fails, "\n"), masterTail(s.Log(), 40))
	}
	masterStopsCleanly(t, s)
}

// A worker started through a --binary-path wrapper that takes 2 s before it runs uwsgo
// (a slow disk, a busy machine, a wrapper that sets things up): while it starts, the
// surviving worker keeps serving new connections, and afterwards SIGTERM still stops the
// whole instance promptly. The sockets every worker shares must stay non-blocking: a
// worker caught in a blocking accept(2) cannot close its listener and never finishes.
func TestMasterStopAfterSlowRespawn(t *testing.T) {
	t.Parallel()
	wrapper := filepath.Join(masterTempDir(t), "slow-uwsgo")
	script := fmt.Sprintf("#!/bin/sh\nsleep 2\nexec %s \"$@\"\n", binary)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// --lazy-apps: a forked worker would not go through the wrapper again.
	s := Start(t, "--master", "--lazy-apps", "--processes", "2", "--threads", "2", "--binary-path", wrapper, "--pypy-wsgi-file", masterApp())
	workers := masterWorkers(t, s, 2)
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !s.WaitLog(fmt.Sprintf("(pid %d) was killed by", workers[0]), 10*time.Second) {
		t.Fatalf("the master did not notice the kill; output:\n%s", s.Log())
	}
	// While the replacement starts, the survivor answers new connections.
	client := masterNewClient()
	for i := 0; i < 5; i++ {
		code, body, err := masterFetch(client, s.URL("/pid"))
		if err != nil || code != 200 || body != strconv.Itoa(workers[1]) {
			t.Fatalf("while worker 1 restarts, worker 2 (pid %d) should serve: %d %q %v", workers[1], code, body, err)
		}
	}
	masterWaitReadyPid(t, s, workers, 20*time.Second)
	masterStopsCleanly(t, s)
}
