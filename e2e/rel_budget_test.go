package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
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
	if !wsgiPoll(10*time.Second, func() bool { return post() == 503 }) {
		t.Fatalf("a body that does not fit the budget beside another was never refused with 503")
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
