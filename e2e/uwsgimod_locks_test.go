package e2e

// uwsgi.lock(n), unlock(n), is_locked(n): locks between the workers and between the
// threads of a worker, that survive the death of their holder.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Read-modify-write of a cache counter under uwsgi.lock() from 2 workers x 4 threads:
// not one increment lost, and never two holders at once (cache_set on an existing key
// fails, so it is a test-and-set of the "holder" key).
func TestUwsgiModLockCounter(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--threads", "4", "--locks", "4", "--cache2", "name=c1,items=10")
	const requests, rounds = 32, 5
	code := fmt.Sprintf(`
tag = '%%d-%%d' %% (os.getpid(), threading.get_ident())
bad = 0
for i in range(%d):
    uwsgi.lock(2)
    try:
        if uwsgi.cache_set('holder', tag, 0, 'c1') is None:
            bad += 1
        v = int(uwsgi.cache_get('count', 'c1') or b'0')
        time.sleep(0.002)
        uwsgi.cache_update('count', str(v + 1), 0, 'c1')
        uwsgi.cache_del('holder', 'c1')
    finally:
        uwsgi.unlock(2)
out = bad
`, rounds)
	var wg sync.WaitGroup
	var mu sync.Mutex
	threads := map[string]bool{}
	pids := map[int]bool{}
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := umodTryExecOn(s, 1+i%2, code, 60*time.Second) // half in each worker
			if err != nil {
				t.Errorf("request: %v", err)
				return
			}
			if r.Err() != "" || r.Repr != "0" {
				t.Errorf("worker %d: raised %q, found the lock held by someone else %s times", r.WID, r.Err(), r.Repr)
			}
			mu.Lock()
			threads[fmt.Sprintf("%d/%d", r.PID, r.TID)] = true
			pids[r.PID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.Fatalf("server output:\n%s", s.Log())
	}
	umodEq(t, s, 0, "out = uwsgi.cache_get('count', 'c1')", fmt.Sprintf("b'%d'", requests*rounds))
	if len(pids) != 2 || len(threads) < 3 {
		t.Errorf("the requests ran in %d processes and %d threads, want 2 processes and more threads: the lock was not contended", len(pids), len(threads))
	}
	umodEq(t, s, 0, "out = uwsgi.is_locked(2)", "False")
}

// A lock held in one worker: the other sees it held, cannot unlock it, and gets it only
// after the holder released it. Two threads per worker, so that the holder's other
// thread turns away the requests meant for the other worker.
func TestUwsgiModLockAcrossWorkers(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--locks", "4", "--threads", "2")
	dir := t.TempDir()
	release, waiting := filepath.Join(dir, "release"), filepath.Join(dir, "waiting")
	first, rest := umodStream(t, s, "/hold?lock=1&secs=60&until="+release)
	holder := int(first["wid"].(float64))
	other := 3 - holder

	umodEq(t, s, other, "out = [uwsgi.is_locked(1), uwsgi.is_locked(2), uwsgi.is_locked()]", "[True, False, False]")
	umodEq(t, s, holder, "out = [uwsgi.is_locked(1), uwsgi.is_locked(2)]", "[True, False]")
	if r := umodExecOn(t, s, other, "uwsgi.unlock(1)"); r.Err() == "" {
		t.Errorf("worker %d unlocked lock 1, which worker %d holds", other, holder)
	}
	umodEq(t, s, other, "out = uwsgi.is_locked(1)", "True")

	// lock(1) in the other worker waits for the holder's release.
	got := make(chan umodReply, 1)
	go func() {
		for {
			r, wrong, err := umodTryExec(s, other, fmt.Sprintf("open(%q, 'w').close(); t0 = time.time(); uwsgi.lock(1); out = [t0, time.time()]; uwsgi.unlock(1)", waiting), 60*time.Second)
			if err != nil {
				r.Repr = err.Error()
			}
			if !wrong {
				got <- r
				return
			}
		}
	}()
	if !eventually(30*time.Second, func() bool { _, err := os.Stat(waiting); return err == nil }) {
		t.Fatalf("worker %d never started its lock(1) request", other)
	}
	// Whether it got the lock before the release is told by the times below (asked <
	// released <= got), not by waiting a while.
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	line, err := rest.ReadBytes('\n')
	if err != nil {
		t.Fatalf("the holder's last line: %v (%q)", err, line)
	}
	var last struct{ Released float64 }
	if err := json.Unmarshal(line, &last); err != nil || last.Released == 0 {
		t.Fatalf("the holder's last line %q: %v", line, err)
	}
	var r umodReply
	select {
	case r = <-got:
	case <-time.After(15 * time.Second):
		t.Fatalf("worker %d did not get lock 1 within 15 s of its release", other)
	}
	var times [2]float64
	if err := json.Unmarshal(r.Out, &times); err != nil || r.Err() != "" {
		t.Fatalf("worker %d's lock(1): %s %s", other, r.Repr, r.Err())
	}
	if !(times[0] < last.Released && last.Released <= times[1]) {
		t.Errorf("worker %d asked for lock 1 at %.6f and got it at %.6f; worker %d released it at %.6f: want asked < released <= got",
			other, times[0], times[1], holder, last.Released)
	}
	umodEq(t, s, 0, "out = uwsgi.is_locked(1)", "False")
}

func TestUwsgiModLockErrors(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--locks", "4")
	umodRaises(t, s, "uwsgi.lock(99)", "ValueError", "99", "--locks")
	umodRaises(t, s, "uwsgi.unlock(99)", "ValueError", "99")
	umodRaises(t, s, "uwsgi.is_locked(99)", "ValueError", "99")
	umodRaises(t, s, "uwsgi.lock(-1)", "ValueError")
	umodRaises(t, s, "uwsgi.unlock(0)", "ValueError", "not held")
	// Lock, is_locked, unlock in one request; the default lock is 0.
	umodEq(t, s, 0, "uwsgi.lock(); a = uwsgi.is_locked(0); uwsgi.unlock(); out = [a, uwsgi.is_locked()]", "[True, False]")
	umodEq(t, s, 0, "uwsgi.lock(3); a = uwsgi.is_locked(3); uwsgi.unlock(3); out = a", "True")
}

// uWSGI's --locks N makes the user locks 0 to N (N+1 locks: uwsgi.lock() checks
// "lock_num > uwsgi.locks"), so an app written for uWSGI may use lock N.
func TestUwsgiModLockNumbering(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--locks", "4")
	umodEq(t, s, 0, "uwsgi.lock(4); a = uwsgi.is_locked(4); uwsgi.unlock(4); out = a", "True")
	umodRaises(t, s, "uwsgi.lock(5)", "ValueError")
}

// A worker killed with SIGKILL while it holds a lock does not deadlock the others.
func TestUwsgiModLockHolderKilled(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--locks", "4", "--threads", "2")
	first, _ := umodStream(t, s, "/hold?lock=3&secs=600")
	pid, holder := int(first["pid"].(float64)), int(first["wid"].(float64))
	other := 3 - holder
	r := umodExecOn(t, s, other, "out = uwsgi.is_locked(3)")
	if r.Repr != "True" {
		t.Fatalf("worker %d: is_locked(3) = %s while worker %d holds it", other, r.Repr, holder)
	}
	umodKill(t, pid)
	// lock() in the survivor: a holder that is gone does not count.
	done := make(chan umodReply, 1)
	go func() {
		for {
			r, wrong, err := umodTryExec(s, other, "uwsgi.lock(3); out = uwsgi.is_locked(3); uwsgi.unlock(3)", 30*time.Second)
			if err != nil {
				r.Repr = err.Error()
			}
			if !wrong {
				done <- r
				return
			}
		}
	}()
	select {
	case r := <-done:
		if r.Err() != "" || r.Repr != "True" || r.WID != other {
			t.Fatalf("lock(3) in worker %d after its holder was killed: worker %d raised %q, out %s", other, r.WID, r.Err(), r.Repr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("lock(3) in worker %d still waits 15 s after its holder (pid %d) was killed\n%s", other, pid, s.Log())
	}
	// And it is an ordinary lock again, in every worker.
	for _, wid := range []int{1, 2} {
		umodEq(t, s, wid, "uwsgi.lock(3); a = uwsgi.is_locked(3); uwsgi.unlock(3); out = [a, uwsgi.is_locked(3)]", "[True, False]")
	}
}
