package e2e

import (
	"strings"
	"testing"
)

func TestServesWSGIFile(t *testing.T) {
	s := Start(t, "--pypy-wsgi-file", testdata("app.py"))
	resp, body := s.Get("/environ")
	if resp.StatusCode != 200 || !strings.Contains(body, `"PATH_INFO": "/environ"`) {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}
