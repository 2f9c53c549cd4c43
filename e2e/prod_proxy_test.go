package e2e

import (
	"net"
	"testing"
)

// --trusted-proxy: X-Forwarded-For and X-Forwarded-Proto set REMOTE_ADDR and
// wsgi.url_scheme on connections from 127.0.0.1 (trusted), never on connections from ::1
// (not trusted), where the headers reach the app unchanged and change nothing.
func TestProdTrustedProxy(t *testing.T) {
	v4, v6 := freeAddr(t), freeV6Addr(t)
	s := Run(t, []string{"--http-socket", v4, "--http-socket", v6, "--trusted-proxy", "127.0.0.1",
		"--trusted-proxy", "10.0.0.0/8", "--pypy-wsgi-file", testdata("prod_app.py")})
	s.Addr = v4
	headers := map[string]string{"X-Forwarded-For": "192.0.2.66, 203.0.113.5, 10.1.2.3", "X-Forwarded-Proto": "https"}

	env := getJSONWith(t, "http://"+v4+"/env", headers)
	if env["REMOTE_ADDR"] != "203.0.113.5" || env["url_scheme"] != "https" {
		t.Errorf("from a trusted proxy: REMOTE_ADDR %v, wsgi.url_scheme %v (want 203.0.113.5: 10.1.2.3 is a trusted hop, 192.0.2.66 only a claim)", env["REMOTE_ADDR"], env["url_scheme"])
	}
	if env["HTTP_X_FORWARDED_FOR"] != headers["X-Forwarded-For"] || env["HTTP_X_FORWARDED_PROTO"] != "https" {
		t.Errorf("the headers must stay in environ: %v", env)
	}

	env = getJSONWith(t, "http://"+v6+"/env", headers)
	if env["REMOTE_ADDR"] != "::1" || env["url_scheme"] != "http" {
		t.Errorf("from an untrusted peer: REMOTE_ADDR %v, wsgi.url_scheme %v (want ::1, http)", env["REMOTE_ADDR"], env["url_scheme"])
	}
	if env["HTTP_X_FORWARDED_FOR"] != headers["X-Forwarded-For"] {
		t.Errorf("the headers must reach the app unchanged: %v", env)
	}

	env = getJSONWith(t, "http://"+v4+"/env", nil)
	if env["REMOTE_ADDR"] != "127.0.0.1" || env["url_scheme"] != "http" {
		t.Errorf("a trusted peer without the headers: %v", env)
	}
}

func freeV6Addr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatalf("::1 is needed for an untrusted peer: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
