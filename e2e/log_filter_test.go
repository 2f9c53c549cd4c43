package e2e

import (
	"strings"
	"testing"
	"time"
)

// uWSGI's log-4xx, log-5xx, log-slow and log-big: with --disable-logging, only the requests
// they name are logged. Each case is followed by a request that is logged (a 404 with its
// own mark), so that a line missing is seen once the next one is there, not by waiting.
func TestLogFilters(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("logfilter_app.py"), "--disable-logging",
		"--log-4xx", "--log-5xx", "--log-slow", "200", "--log-big", "50000")
	for i, c := range []struct {
		path   string
		logged bool
	}{
		{"/fast", false},
		{"/status/404", true},
		{"/status/503", true},
		{"/status/302", false},
		{"/slow", true},
		{"/big", true},
	} {
		if resp, _ := s.Get(c.path); resp == nil {
			t.Fatalf("GET %s failed", c.path)
		}
		mark := "/status/404?after=" + strings.Repeat("x", i+1)
		s.Get(mark)
		if !s.WaitLog(mark, 10*time.Second) {
			t.Fatalf("the 404 after %s was not logged:\n%s", c.path, s.Log())
		}
		if got := strings.Contains(s.Log(), "GET "+c.path+" "); got != c.logged {
			t.Errorf("GET %s logged: %v, want %v\n%s", c.path, got, c.logged, s.Log())
		}
	}
}
