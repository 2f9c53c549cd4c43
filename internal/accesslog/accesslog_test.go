package accesslog

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"uwsgo/internal/proto"
)

func entry() *Entry {
	var vars []byte
	for _, kv := range [][2]string{
		{"REQUEST_METHOD", "GET"}, {"REMOTE_ADDR", "10.1.2.3"}, {"HTTP_HOST", "example.com"},
		{"HTTP_USER_AGENT", "curl/8 \"quoted\"\x01"}, {"HTTP_X_FORWARDED_FOR", " 203.0.113.9 , 10.0.0.1"},
		{"HTTP_REFERER", "http://r/\xff"},
	} {
		vars = proto.AppendVar(vars, kv[0], kv[1])
	}
	return &Entry{
		Method: []byte("GET"), URI: []byte("/a?b=c"), Proto: []byte("HTTP/1.1"),
		Status: 404, BodyBytes: 100, HeadBytes: 50, RequestBodyBytes: -1,
		Start:    time.Date(2026, 11, 26, 2, 46, 53, 0, time.UTC),
		Duration: 1500 * time.Microsecond,
		Vars:     vars, Logvars: []Var{{[]byte("user_id"), []byte("42")}},
		PID: 77, WorkerID: 3,
	}
}

func TestFormatVariables(t *testing.T) {
	for _, c := range []struct{ format, want string }{
		{"%(method) %(uri) %(proto) %(status)", "GET /a?b=c HTTP/1.1 404"},
		{"%(size)/%(rsize)/%(hsize) cl=%(cl)", "150/100/50 cl=0"},
		{"%(msecs) %(micros) %(secs)", "1 1500 0.001500"},
		{"[%(addr)] pid %(pid) wid %(wid)", "[10.1.2.3] pid 77 wid 3"},
		{"%(host) %(var.HTTP_HOST) %(var.NOPE)|", "example.com example.com |"},
		{"%(time) %(tmsecs) %(ltime)", "1795661213 1795661213000 26/Nov/2026:02:46:53 +0000"},
		{"%(ctime)", "Thu Nov 26 02:46:53 2026"},
		{"user=%(user_id) unset=%(other).", "user=42 unset=."},
		{"no variables at all", "no variables at all"},
		{"100%", "100%"},
	} {
		f, err := Compile(c.format, false)
		if err != nil {
			t.Fatalf("%q: %v", c.format, err)
		}
		if got := string(f.Append(nil, entry())); got != c.want+"\n" {
			t.Errorf("%q rendered %q, want %q", c.format, got, c.want+"\n")
		}
	}
}

func TestXForwardedFor(t *testing.T) {
	f, _ := Compile("%(addr)", true)
	if got := string(f.Append(nil, entry())); got != "203.0.113.9\n" {
		t.Fatalf("with --log-x-forwarded-for %%(addr) is %q", got)
	}
	e := entry()
	e.Vars = proto.AppendVar(nil, "REMOTE_ADDR", "10.1.2.3")
	if got := string(f.Append(nil, e)); got != "10.1.2.3\n" {
		t.Fatalf("without the header %%(addr) is %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, bad := range []string{"%(method", "x %()"} {
		if _, err := Compile(bad, false); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestJSON(t *testing.T) {
	f, _ := Compile("json", false)
	line := f.Append(nil, entry())
	if !strings.HasSuffix(string(line), "}\n") || strings.Count(string(line), "\n") != 1 {
		t.Fatalf("not one line: %q", line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	want := map[string]any{
		"time": "2026-11-26T02:46:53.000Z", "addr": "10.1.2.3", "method": "GET", "uri": "/a?b=c",
		"proto": "HTTP/1.1", "status": 404.0, "size": 150.0, "rsize": 100.0, "msecs": 1.0, "micros": 1500.0,
		"host": "example.com", "referer": "http://r/\ufffd", "uagent": "curl/8 \"quoted\"\x01",
		"pid": 77.0, "wid": 3.0, "vars": map[string]any{"user_id": "42"},
	}
	for k, v := range want {
		if got, _ := json.Marshal(m[k]); string(got) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, got, mustJSON(v))
		}
	}
	if len(m) != len(want) {
		t.Errorf("keys %v", m)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Rendering into a reused buffer allocates nothing.
func TestNoAllocations(t *testing.T) {
	for _, format := range []string{"%(addr) %(method) %(uri) %(status) %(size) %(msecs) %(host) %(user_id) %(ltime)", "json"} {
		f, _ := Compile(format, true)
		e := entry()
		buf := make([]byte, 0, 1024)
		if n := testing.AllocsPerRun(100, func() { buf = f.Append(buf[:0], e) }); n != 0 {
			t.Errorf("%q: %v allocations per line", format, n)
		}
	}
}
