package trustedproxy

import (
	"testing"

	"uwsgo/internal/proto"
)

func TestForwarded(t *testing.T) {
	trusted, err := Parse([]string{"127.0.0.1", "10.0.0.0/8,::1"})
	if err != nil {
		t.Fatal(err)
	}
	peer := proto.ConnInfo{Scheme: "http", RemoteAddr: "127.0.0.1"}
	for _, c := range []struct {
		headers      [][2]string
		addr, scheme string
	}{
		{nil, "127.0.0.1", "http"},
		{[][2]string{{"X-Forwarded-For", "203.0.113.5"}}, "203.0.113.5", "http"},
		{[][2]string{{"x-forwarded-for", "203.0.113.5, 10.1.2.3"}, {"X-Forwarded-Proto", "HTTPS"}}, "203.0.113.5", "https"},
		// A client's own claim before the real client is never believed.
		{[][2]string{{"X-Forwarded-For", "1.2.3.4, 203.0.113.5, 10.1.2.3"}}, "203.0.113.5", "http"},
		// Two fields: the later one was added by the nearer proxy.
		{[][2]string{{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "10.0.0.2"}}, "198.51.100.1", "http"},
		// Every hop trusted: the first one.
		{[][2]string{{"X-Forwarded-For", "10.0.0.1, 10.0.0.2"}}, "10.0.0.1", "http"},
		// Garbage stops the walk at the last address a trusted proxy vouched for.
		{[][2]string{{"X-Forwarded-For", "203.0.113.9, not-an-ip, 10.0.0.3"}}, "10.0.0.3", "http"},
		{[][2]string{{"X-Forwarded-For", "[2001:db8::7]:4711"}, {"X-Forwarded-Proto", "https, http"}}, "2001:db8::7", "https"},
		{[][2]string{{"X-Forwarded-Proto", "gopher"}}, "127.0.0.1", "http"},
	} {
		req := &proto.Request{}
		for _, h := range c.headers {
			req.Headers = append(req.Headers, proto.Header{Name: []byte(h[0]), Value: []byte(h[1])})
		}
		ci := trusted.Forwarded(req, peer)
		if ci.RemoteAddr != c.addr || ci.Scheme != c.scheme {
			t.Errorf("%v: got %s %s, want %s %s", c.headers, ci.RemoteAddr, ci.Scheme, c.addr, c.scheme)
		}
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"localhost", "10.0.0.0/33", ""} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	tr, err := Parse([]string{"unix", "::ffff:127.0.0.1"})
	if err != nil || !tr.unix || len(tr.prefixes) != 1 || tr.prefixes[0].String() != "127.0.0.1/32" {
		t.Fatalf("%+v %v", tr, err)
	}
}
