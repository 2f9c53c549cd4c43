package e2e

import (
	"fmt"
	"testing"
)

// Reloads lose no keep-alive request: a connection idle when its worker starts draining
// is closed only after a grace period without a request, and a request that arrives is
// answered, with Connection: close. Before, the idle connections were closed at once,
// racing the requests their clients had just sent (49 of 85,725 failed over 3 reloads).
func TestRelReloadLosesNoKeepAliveRequest(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--master", "--processes", "2")
	l := relStartLoad(s.URL("/post"), 16)
	relReload(t, s, l, 3)
	l.end(t, "3 reloads under 16 keep-alive clients")
}

// Behind nginx, with keep-alive connections to uwsgo's HTTP socket (proxy_pass) and with
// the uwsgi protocol (uwsgi_pass), a reload costs no request: nginx does not retry a POST
// that failed upstream, it answers 502.
func TestRelReloadBehindNginxLosesNoRequest(t *testing.T) {
	t.Parallel()
	httpAddr, uwsgiAddr := freeAddr(t), freeAddr(t)
	s := StartWith(t, "--http-socket", httpAddr, "--socket", uwsgiAddr, "--pypy-wsgi-file", testdata("rel_app.py"),
		"--master", "--processes", "2")
	n := uwsgiTStartNginx(t, fmt.Sprintf(`
		location /http/ {
			proxy_pass http://keep/;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
		location /uwsgi/ {
			include /etc/nginx/uwsgi_params;
			uwsgi_pass %s;
		}
	}
	upstream keep {
		server %s;
		keepalive 32;`, uwsgiAddr, httpAddr))
	for _, path := range []string{"/http/post", "/uwsgi/post"} {
		l := relStartLoad(n.URL(path), 16)
		relReload(t, s, l, 2)
		l.end(t, "2 reloads behind nginx, "+path)
		if t.Failed() {
			t.Logf("nginx error log:\n%s", n.ErrorLog())
		}
	}
}
