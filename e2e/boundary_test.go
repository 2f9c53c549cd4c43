package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBoundaryRefusesBadCalls: an app makes the raw calls a careless --pypy-setup could
// make (unknown operation, wrong argument count, a word for a number, negative lengths
// and descriptors, missing result pointers). Each comes back as a refusal naming the
// operation, and the worker goes on serving: none reaches an index out of range in Go.
func TestBoundaryRefusesBadCalls(t *testing.T) {
	t.Parallel()
	code, embedded := Run(t, []string{"--print-sym", "uwsgi_pypy_setup"}, NoWait()).ExitWithin(10 * time.Second)
	if code != 0 {
		t.Fatalf("--print-sym: exit %d: %s", code, embedded)
	}
	setup := filepath.Join(t.TempDir(), "raw_setup.py")
	startupWrite(t, setup, embedded+"\nuwsgi._uwsgo_raw = (api, ffi, uwsgi._go, globals())\n")
	s := Start(t, "--pypy-setup", setup, "--pypy-wsgi-file", testdata("boundary_badcalls.py"))

	var got map[string]any
	for round := 0; round < 2; round++ { // the second round shows the worker survived the first
		resp, body := s.Get("/")
		if resp.StatusCode != 200 {
			t.Fatalf("round %d: status %d, body %q\nserver output:\n%s", round, resp.StatusCode, body, s.Log())
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("round %d: %v in %q", round, err, body)
		}
	}
	text := func(key string) string {
		b, _ := json.Marshal(got[key])
		return string(b)
	}
	for key, want := range map[string]string{
		"op_lock":                    "1",
		"unknown_op":                 "ValueError: no uwsgi operation 999",
		"few_args":                   "ValueError: OP_CACHE_GET (operation 10) takes 2 arguments (cache key), not 1",
		"many_args":                  "ValueError: OP_RELOAD (operation 50) takes 0 arguments (), not 1",
		"not_a_number":               `OP_LOCK (operation 1): argument 1 (lock) must be a decimal integer, not \"one\"`,
		"negative_length":            `[-1,"OP_LOCK (operation 1): the arguments' length is -5"]`,
		"stray_bytes":                `[-1,"OP_LOCK (operation 1): argument 1 says 5 bytes, but 2 are left"]`,
		"short_prefix":               `[-1,"OP_LOCK (operation 1): the arguments end in 2 stray bytes`,
		"no_result_pointer":          "-2",
		"send_negative_length":       "-4",
		"send_length_without_memory": "-4",
		"send_bad_handle":            "-1",
		"sendfile_negative_fd":       "-4",
		"sendfile_negative_offset":   "-4",
		"signal_zero":                "-1",
		"signal_bad_disposition":     "-1",
		"rpc_call_negative":          "-1",
		"rpc_call_no_result":         "-1",
		"rpc_reply_negative":         "-1",
		"good_call":                  "1", // lock 0 is free: is_locked is false
	} {
		if !strings.Contains(text(key), want) {
			t.Errorf("%s: got %s, want %s", key, text(key), want)
		}
	}
}
