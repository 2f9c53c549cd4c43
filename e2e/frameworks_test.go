package e2e

// Web frameworks from Debian's packages (python3-flask, -django, -bottle, -falcon,
// -pyramid), each serving the same small app (testdata/frameworks), checked alike: a
// route with a non-ASCII path parameter and a query, a 300 KB request body read through
// the framework, its 404, and concurrent requests on four threads. They run on Debian 12's
// PyPy 3.9 and, in the trixie root, on Debian 13's PyPy 3.11 with Debian 13's frameworks.

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

// frameworkCompat are the options Debian 13's Pyramid needs on PyPy 3.11: it imports
// pkg_resources, which imports backports.tarfile below Python 3.12, a module Debian 13
// (whose CPython is 3.13) does not package. testdata/debian13_compat gives it the
// standard tarfile (README, "Finding PyPy").
func frameworkCompat() []string {
	if root == "" {
		return nil
	}
	return []string{"--pypy-pp", testdata("debian13_compat")}
}

type frameworkReply struct {
	Framework string
	Hello     *string
	Q         *string
	Len       int
	SHA256    string
}

func TestFrameworks(t *testing.T) {
	t.Parallel()
	for _, fw := range []struct{ name, pkg string }{
		{"flask", "flask/__init__.py"},
		{"django", "django/__init__.py"},
		{"bottle", "bottle.py"},
		{"falcon", "falcon/__init__.py"},
		{"pyramid", "pyramid/__init__.py"},
	} {
		t.Run(fw.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(inRoot("/usr/lib/python3/dist-packages/" + fw.pkg)); err != nil {
				t.Fatalf("%s is not installed (Debian package python3-%s; scripts/install-deps and scripts/trixie-root install it): %v", fw.name, fw.name, err)
			}
			args := append(frameworkCompat(), "--threads", "4", "--need-app",
				"--pypy-pp", testdata("frameworks"), "--pypy-wsgi", "fw_"+fw.name)
			s := Start(t, args...)
			frameworkCheck(t, s, fw.name, 16)
		})
	}
}

// frameworkCheck checks the app fw_common describes, served by s with the framework name:
// a route with a non-ASCII path parameter and a query, a 300 KB request body read through
// the framework, its 404, and n concurrent requests.
func frameworkCheck(t *testing.T, s *Server, name string, n int) {
	t.Helper()
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
	if code != 200 || r.Framework != name || r.Hello == nil || *r.Hello != "Wörld" || r.Q == nil || *r.Q != "a b&c" {
		t.Errorf("GET /hello: %d %q, want %s's hello Wörld with q %q\nserver output:\n%s", code, raw, name, "a b&c", s.Log())
	}
	if got := hdr.Get("X-Framework"); got != name {
		t.Errorf("GET /hello: X-Framework %q", got)
	}

	body := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 300000/18)
	sum := sha256.Sum256(body)
	code, _, r, raw = do("POST", "/echo", body)
	if code != 200 || r.Len != len(body) || r.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("POST /echo of %d bytes: %d %.200q", len(body), code, raw)
	}

	code, hdr, _, raw = do("GET", "/no/such/page", nil)
	if code != 404 || hdr.Get("X-Framework") != name {
		t.Errorf("GET /no/such/page: %d (X-Framework %q) %.200q, want the framework's 404", code, hdr.Get("X-Framework"), raw)
	}

	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
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
}
