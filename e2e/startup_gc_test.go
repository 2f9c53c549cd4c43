package e2e

import (
	"encoding/json"
	"testing"
)

// PyPy sizes its GC nursery from /proc/cpuinfo's cache size, which on virtual machines can
// be hundreds of megabytes: uwsgo gives it 4 MB unless PYPY_GC_NURSERY says otherwise, and
// the app's environment stays as it was given.
func TestStartupGCNursery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     []string
		nursery string
		seen    *string
	}{
		{"default", nil, "4.0MB", nil},
		{"the user's", []string{"PYPY_GC_NURSERY=8MB"}, "8.0MB", ptr("8MB")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Run(t, []string{"--pypy-wsgi-file", testdata("gc_app.py")}, HTTP(), Unset("PYPY_GC_NURSERY"), Env(tc.env...))
			resp, body := s.Get("/")
			var got struct {
				Nursery string
				Env     *string
			}
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			if got.Nursery != tc.nursery {
				t.Errorf("nursery %s, want %s", got.Nursery, tc.nursery)
			}
			if (got.Env == nil) != (tc.seen == nil) || got.Env != nil && *got.Env != *tc.seen {
				t.Errorf("the app sees PYPY_GC_NURSERY=%v, want %v", deref(got.Env), deref(tc.seen))
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "(unset)"
	}
	return *s
}
