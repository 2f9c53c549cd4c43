package e2e

// ASGI frameworks from Debian's packages, serving fw_common's small app like the WSGI
// frameworks of frameworks_test.go: Quart and Django's ASGI handler on Debian 12's PyPy
// 3.9; Starlette (whose Debian 12 package needs Python 3.10), Quart and Django in the
// trixie root on Debian 13's PyPy 3.11.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
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
			do := func(method, path string, body []byte) (int, http.Header, frameworkReply, string) {
				t.Helper()
				req, err := http.NewRequest(method, s.URL(path), bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v\nserver output:\n%s", method, path, err, s.Log())
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				var r frameworkReply
				if resp.StatusCode == 200 {
					if err := json.Unmarshal(b, &r); err != nil {
						t.Fatalf("%s %s: %q is not the app's JSON: %v", method, path, b, err)
					}
				}
				return resp.StatusCode, resp.Header, r, string(b)
			}

			code, hdr, r, raw := do("GET", "/hello/W%C3%B6rld?q=a%20b%26c", nil)
			if code != 200 || r.Framework != f.name || r.Hello == nil || *r.Hello != "Wörld" || r.Q == nil || *r.Q != "a b&c" {
				t.Errorf("GET /hello: %d %q, want %s's hello Wörld with q %q\nserver output:\n%s", code, raw, f.name, "a b&c", s.Log())
			}
			if got := hdr.Get("X-Framework"); got != f.name {
				t.Errorf("GET /hello: X-Framework %q", got)
			}
			// 300 KB: more than the 64 KiB read whole, so it reaches the framework in pieces.
			body := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 300000/18)
			sum := sha256.Sum256(body)
			code, _, r, raw = do("POST", "/echo", body)
			if code != 200 || r.Len != len(body) || r.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("POST /echo of %d bytes: %d %.200q", len(body), code, raw)
			}
			code, hdr, _, raw = do("GET", "/no/such/page", nil)
			if code != 404 || hdr.Get("X-Framework") != f.name {
				t.Errorf("GET /no/such/page: %d (X-Framework %q) %.200q, want the framework's 404", code, hdr.Get("X-Framework"), raw)
			}
			var wg sync.WaitGroup
			errs := make(chan string, 32)
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := fmt.Sprintf("n%d", i)
					resp, err := http.Get(s.URL("/hello/" + name))
					if err != nil {
						errs <- err.Error()
						return
					}
					defer resp.Body.Close()
					var r frameworkReply
					if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Hello == nil || *r.Hello != name {
						errs <- fmt.Sprintf("GET /hello/%s: %d %+v", name, resp.StatusCode, r)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
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
