package shm

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The helper process: the test binary run again with these variables takes lock 0 of
// the segment it inherits as descriptor 3, says "locked", then obeys its stdin: "unlock"
// releases it, end of input exits (still holding it, if it was not told to unlock).
const (
	helperEnv  = "UWSGO_SHM_TEST_HELPER"
	helperSize = 4096
)

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return
	}
	seg, err := Map(os.NewFile(3, "segment"), helperSize)
	if err != nil {
		fmt.Println("map:", err)
		os.Exit(2)
	}
	l := seg.Lock(0)
	l.Lock()
	fmt.Println("locked")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "unlock" {
			fmt.Println("unlocked", l.Unlock())
		}
	}
	os.Exit(0)
}

type helper struct {
	cmd *exec.Cmd
	in  *os.File
	out *bufio.Reader
}

// startHolder runs a helper process that holds lock 0 of seg.
func startHolder(t *testing.T, seg *Segment) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.ExtraFiles = []*os.File{seg.File()}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = inR
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	h := &helper{cmd: cmd, in: inW, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		h.in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := h.readLine(10 * time.Second)
	if err != nil || line != "locked" {
		t.Fatalf("the helper said %q, %v; want locked", line, err)
	}
	return h
}

func (h *helper) readLine(d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := h.out.ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(d):
		return "", fmt.Errorf("nothing in %v", d)
	}
}

func newSegment(t *testing.T) *Segment {
	t.Helper()
	seg, err := Create("shm-test", helperSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.File().Close() })
	return seg
}

func TestLockInProcess(t *testing.T) {
	seg := newSegment(t)
	l := seg.Lock(0)
	if l.Locked() {
		t.Fatal("a new lock is locked")
	}
	if l.Unlock() {
		t.Error("Unlock of a free lock reported true")
	}
	if !l.TryLock() || !l.Locked() {
		t.Fatal("TryLock of a free lock failed")
	}
	if l.TryLock() {
		t.Error("TryLock of a held lock succeeded")
	}
	if !l.Unlock() || l.Locked() {
		t.Fatal("Unlock of a held lock failed")
	}
	l.Lock()
	if !l.Locked() {
		t.Fatal("Lock did not lock")
	}
	// Another goroutine waits, and gets it once it is released.
	got := make(chan struct{})
	go func() { l.Lock(); close(got) }()
	select {
	case <-got:
		t.Fatal("a second Lock got a held lock")
	case <-time.After(300 * time.Millisecond):
	}
	l.Unlock()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not get the lock within 5 s of its release")
	}
	l.Unlock()
	// Locks are separate.
	l2 := seg.Lock(LockSize)
	l.Lock()
	if l2.Locked() || !l2.TryLock() {
		t.Error("lock 2 is affected by lock 1")
	}
	l2.Unlock()
	l.Unlock()
}

func TestLockExcludesGoroutines(t *testing.T) {
	seg := newSegment(t)
	l := seg.Lock(0)
	counter := 0
	inside := 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 300; j++ {
				l.Lock()
				inside++
				if inside != 1 {
					t.Errorf("%d holders at once", inside)
				}
				c := counter
				if j%50 == 0 {
					time.Sleep(time.Millisecond)
				}
				counter = c + 1
				inside--
				l.Unlock()
			}
		}()
	}
	wg.Wait()
	if counter != 2400 {
		t.Errorf("counter = %d, want 2400", counter)
	}
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	seg := newSegment(t)
	l := seg.Lock(0)
	h := startHolder(t, seg)
	if !l.Locked() {
		t.Error("Locked is false while the helper holds it")
	}
	if l.TryLock() {
		t.Fatal("TryLock took a lock a live process holds")
	}
	if l.Unlock() {
		t.Error("this process unlocked a lock the helper holds")
	}
	if !l.Locked() {
		t.Fatal("a refused Unlock released the lock")
	}
	// Lock waits for the holder's Unlock.
	got := make(chan struct{})
	go func() { l.Lock(); close(got) }()
	select {
	case <-got:
		t.Fatal("Lock returned while the helper holds the lock")
	case <-time.After(300 * time.Millisecond):
	}
	fmt.Fprintln(h.in, "unlock")
	if line, err := h.readLine(5 * time.Second); line != "unlocked true" {
		t.Fatalf("the helper said %q, %v", line, err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not return within 5 s of the helper's Unlock")
	}
	if !l.Unlock() {
		t.Error("Unlock after taking the lock failed")
	}
}

// A holder killed with SIGKILL: the lock is taken over, by Lock (which was waiting) and
// by TryLock.
func TestLockDeadHolder(t *testing.T) {
	for _, how := range []string{"Lock", "TryLock"} {
		t.Run(how, func(t *testing.T) {
			seg := newSegment(t)
			l := seg.Lock(0)
			h := startHolder(t, seg)
			if !l.Locked() {
				t.Fatal("not locked while the helper holds it")
			}
			got := make(chan struct{})
			if how == "Lock" {
				go func() { l.Lock(); close(got) }()
				time.Sleep(200 * time.Millisecond) // waiting on the futex
			}
			h.cmd.Process.Signal(syscall.SIGKILL)
			h.cmd.Wait() // reaped, as the master reaps its workers
			// The waiting Lock may take the lock over at once; only without it is the
			// lock free now.
			if how == "TryLock" && l.Locked() {
				t.Error("Locked is true with its holder dead")
			}
			if how == "Lock" {
				select {
				case <-got:
				case <-time.After(5 * time.Second):
					t.Fatal("Lock still waits 5 s after its holder was killed")
				}
			} else if !l.TryLock() {
				t.Fatal("TryLock refused a lock whose holder is dead")
			}
			if !l.Locked() || l.TryLock() {
				t.Error("the lock taken over is not held")
			}
			if !l.Unlock() || l.Locked() {
				t.Error("the lock taken over does not unlock")
			}
		})
	}
}

func TestSegmentShared(t *testing.T) {
	seg := newSegment(t)
	other, err := Map(seg.File(), helperSize)
	if err != nil {
		t.Fatal(err)
	}
	copy(seg.Bytes(100, 5), "hello")
	if got := string(other.Bytes(100, 5)); got != "hello" {
		t.Errorf("the other mapping reads %q", got)
	}
	seg.Int64(8).Store(42)
	if got := other.Int64(8).Add(1); got != 43 {
		t.Errorf("Int64 through the other mapping: %d", got)
	}
	// A lock taken through one mapping is held through the other.
	seg.Lock(LockSize).Lock()
	if !other.Lock(LockSize).Locked() {
		t.Error("a lock held through one mapping is free through the other")
	}
	if !other.Lock(LockSize).Unlock() {
		t.Error("the same process could not unlock through the other mapping")
	}
	// Created segments are zeroed and at least a page.
	small, err := Create("shm-test-small", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer small.File().Close()
	if b := small.Bytes(0, 4096); len(b) != 4096 || strings.Trim(string(b), "\x00") != "" {
		t.Error("a new segment is not a zeroed page")
	}
}
