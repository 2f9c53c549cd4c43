package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Request bodies have a disk budget per worker: a body announced larger than it gets 413
// at once (before, Content-Length 2^63-1 was accepted and spooled, 300 MiB in 1.6 s), and
// one that does not fit while another body holds the budget gets 503; once that body is
// done, the budget is back.
func TestRelBodyDiskBudget(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--threads", "4",
		"--post-buffering", "1024", "--body-disk-budget", "1000000")
	if got := s.Raw("POST /huge HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\nabc"); !strings.HasPrefix(got, "HTTP/1.1 413 ") {
		t.Fatalf("a body announced at 2^63-1 bytes: got %q", wsgiShort(got))
	}
	// A holds 800,000 bytes of the budget: its body is not finished.
	a, ar := s.Dial()
	a.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(a, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n")
	a.Write(bytes.Repeat([]byte("a"), 800000))
	post := func() int {
		resp, err := http.Post(s.URL("/b"), "text/plain", bytes.NewReader(bytes.Repeat([]byte("b"), 500000)))
		if err != nil {
			t.Fatalf("POST /b: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if !eventually(10*time.Second, func() bool { _, n := relTempFiles(s.Cmd.Process.Pid, "uwsgo-body-"); return n == 800000 }) {
		t.Fatalf("the first body never reached its temporary file")
	}
	if code := post(); code != 503 {
		t.Fatalf("a body that does not fit the budget beside another got %d, want 503", code)
	}
	a.Write(bytes.Repeat([]byte("a"), 100000))
	resp, err := http.ReadResponse(ar, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the body holding the budget: %v %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.HasSuffix(string(b), " 900000") {
		t.Fatalf("the app saw %q", b)
	}
	if code := post(); code != 200 {
		t.Fatalf("once the budget is back, a body that fits got %d", code)
	}
}

// relTempFiles is the number and total size of a process's unlinked temporary files whose
// name starts with prefix, seen through /proc/PID/fd.
func relTempFiles(pid int, prefix string) (files int, size int64) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.Contains(target, "/"+prefix) {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			files++
			size += st.Size()
		}
	}
	return files, size
}

// Responses waiting for slow readers have a memory and a disk budget per worker: past
// the memory budget a large list response or a streamed one waits on disk, and the disk it takes stays
// within its budget while the clients do not read. Every client still gets its whole
// body, and the disk is given back once they have. Before, each response waited in memory
// (300 slow readers of 8 MiB: RSS 89 MB to 959 MB, plus 1.55 GB of temporary files).
func TestRelResponseBudgets(t *testing.T) {
	t.Parallel()
	const clients, size, diskBudget = 12, 8 << 20, 24 << 20
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--threads", fmt.Sprint(clients),
		"--response-memory-budget", fmt.Sprint(4<<20), "--response-disk-budget", fmt.Sprint(diskBudget),
		"--socket-timeout", "120")
	pid := s.Cmd.Process.Pid
	var conns []net.Conn
	for i := 0; i < clients; i++ {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			// A small receive window, so that the kernel's buffers do not read for us.
			rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return nil
		}}
		c, err := d.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		path := []string{"/big", "/stream"}[i%2] // a list response, a generator's
		fmt.Fprintf(c, "GET %s?%d HTTP/1.1\r\nHost: x\r\n\r\n", path, size)
		conns = append(conns, c)
	}
	// The responses that do not fit in memory go to disk, up to its budget, and stay
	// within it while nobody reads.
	var peak int64
	if !eventually(30*time.Second, func() bool {
		_, n := relTempFiles(pid, "uwsgo-response-")
		peak = max(peak, n)
		return n >= diskBudget-size
	}) {
		t.Fatalf("the responses did not go to disk past the memory budget (at most %d bytes seen)", peak)
	}
	for i := 0; i < 20; i++ {
		_, n := relTempFiles(pid, "uwsgo-response-")
		peak = max(peak, n)
		time.Sleep(50 * time.Millisecond)
	}
	if peak > diskBudget {
		t.Fatalf("%d bytes of responses on disk, past the budget of %d", peak, diskBudget)
	}
	t.Logf("with %d clients not reading %d-byte responses: %d bytes on disk at most (budget %d), RSS %s", clients, size, peak, diskBudget, relRSS(pid))
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Errorf("reading a response: %v", err)
				return
			}
			n, err := io.Copy(io.Discard, resp.Body) // chunked or not, the body's bytes
			if err != nil || n != size {
				t.Errorf("a client got %d bytes of %d: %v", n, size, err)
			}
		}()
	}
	wg.Wait()
	if !eventually(10*time.Second, func() bool { f, _ := relTempFiles(pid, "uwsgo-response-"); return f == 0 }) {
		f, n := relTempFiles(pid, "uwsgo-response-")
		t.Fatalf("%d spill files (%d bytes) still open once every client read its response", f, n)
	}
}

func relRSS(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}
