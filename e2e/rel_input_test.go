package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Strict framing: a NUL in the path (nginx refuses it too), a version that does not exist,
// whitespace ending a chunk-size line. Before, all three reached the app.
func TestRelStrictRequests(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"))
	for _, tc := range []struct{ name, req, want string }{
		{"%00 in the path", "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", "HTTP/1.1 505 "},
		{"a chunk size with a trailing space", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "HTTP/1.1 400 "},
		{"%00 in the query is the app's", "GET /q?a=%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 "},
	} {
		if got := s.Raw(tc.req); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, wsgiShort(got), tc.want)
		}
	}
}

// The app's sys.argv is uWSGI's: the binary's path, not an empty list that runpy and
// argparse cannot take.
func TestRelSysArgv(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"))
	if _, body := s.Get("/argv"); body != binary {
		t.Fatalf("sys.argv is %q, want [%q]", body, binary)
	}
}

// Refused requests cannot flood the log: at most a few lines a second, then a count of
// those not logged. Before, each of the 500 wrote a line.
func TestRelRefusalsLogRateLimited(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"))
	const n = 500
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < n/10; j++ {
				if got := s.Raw("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
					t.Errorf("a bad request got %q", wsgiShort(got))
					return
				}
			}
		}()
	}
	wg.Wait()
	dropped := regexp.MustCompile(`(\d+) more refused requests or bad packets`)
	var lines, counted int
	accounted := eventually(10*time.Second, func() bool {
		log := s.Log()
		lines, counted = strings.Count(log, "refused with 400"), 0
		for _, m := range dropped.FindAllStringSubmatch(log, -1) {
			k, _ := strconv.Atoi(m[1])
			counted += k
		}
		return lines+counted == n
	})
	if !accounted || lines > n/2 {
		t.Fatalf("%d refusals: %d logged, %d counted as not logged", n, lines, counted)
	}
	t.Logf("%d refusals: %d lines, %d counted", n, lines, counted)
}
