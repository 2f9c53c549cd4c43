package e2e

// ASGI frameworks from Debian's packages, serving fw_common's small app like the WSGI
// frameworks of frameworks_test.go: Quart and Django's ASGI handler on Debian 12's PyPy
// 3.9; Starlette (whose Debian 12 package needs Python 3.10), Quart and Django in the
// trixie root on Debian 13's PyPy 3.11.

import (
	"bytes"
	"net/http"
	"os"
	"testing"
)

func TestASGIFrameworks(t *testing.T) {
	t.Parallel()
	type fw struct{ name, module, pkg string }
	list := []fw{{"quart", "fw_quart", "quart/__init__.py"}, {"django", "fw_django_asgi", "django/core/asgi.py"}}
	if root != "" {
		list = append(list, fw{"starlette", "fw_starlette", "starlette/__init__.py"})
	}
	for _, f := range list {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(inRoot("/usr/lib/python3/dist-packages/" + f.pkg)); err != nil {
				t.Fatalf("%s is not installed (Debian package python3-%s; scripts/install-deps and scripts/trixie-root install it): %v", f.name, f.name, err)
			}
			s := Start(t, "--need-app", "--pypy-pp", testdata("frameworks"), "--pypy-asgi", f.module)
			frameworkCheck(t, s, f.name, 32)
			if f.name != "django" { // Django's ASGI handler has no WebSockets
				w := ureqWSDial(t, s, "/ws")
				if w.resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("WebSocket /ws: status %d\n%s", w.resp.StatusCode, s.Log())
				}
				for _, msg := range []string{"one", "twö", string(bytes.Repeat([]byte("x"), 70000))} {
					w.send(ureqOpText, []byte(msg))
					w.expect(ureqOpText, []byte(msg))
				}
				w.close()
			}
		})
	}
}
