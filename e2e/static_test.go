package e2e

// End-to-end tests of static files (--static-map and its family): real files in a
// temporary directory, a real HTTP client, and testdata/static_app.py behind them, which
// answers "app:PATH" so that a test tells a file from a request the app got.

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// staticTree writes files (path relative to the returned directory: content).
func staticTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func staticStart(t *testing.T, args ...string) *Server {
	t.Helper()
	return Start(t, append([]string{"--pypy-wsgi-file", testdata("static_app.py")}, args...)...)
}

// staticGet fetches path with the given headers ("Name: value"). Accept-Encoding is
// always sent (identity when not given), so that the client neither asks for gzip nor
// decompresses on its own.
func staticGet(t *testing.T, s *Server, method, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	hdr := map[string]string{"Accept-Encoding": "identity"}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		hdr[k] = v
	}
	resp, body := wsgiDo(t, s, method, path, nil, hdr)
	return resp, string(body)
}

// staticWant checks that each path gets the body given (from a file, or "app:..." from
// the app).
func staticWant(t *testing.T, s *Server, want map[string]string) {
	t.Helper()
	for path, body := range want {
		resp, got := staticGet(t, s, "GET", path)
		if resp.StatusCode != 200 || got != body {
			t.Errorf("GET %s: %d %q; want 200 %q", path, resp.StatusCode, got, body)
		}
	}
}

func TestStaticMap(t *testing.T) {
	a := staticTree(t, map[string]string{"a.css": "body{}", "both.txt": "from a", "img/logo.png": "PNG"})
	b := staticTree(t, map[string]string{"b.txt": "from b", "both.txt": "from b"})
	deep := staticTree(t, map[string]string{"x.txt": "deep"})
	icon := filepath.Join(staticTree(t, map[string]string{"icon.ico": "ICO"}), "icon.ico")
	s := staticStart(t,
		"--static-map", "/s="+a, "--static-map", "/s="+b, // one mountpoint, searched in order
		"--static-map", "/s/deep="+deep, // longer: tried first, though given later
		"--static-map", "/favicon.ico="+icon,
		"--offload-threads", "4") // accepted, and changes nothing
	staticWant(t, s, map[string]string{
		"/s/a.css":        "body{}",
		"/s/img/logo.png": "PNG",
		"/s/both.txt":     "from a",
		"/s/b.txt":        "from b",
		"/s/deep/x.txt":   "deep",
		"/favicon.ico":    "ICO",
		"/s/missing.css":  "app:/s/missing.css", // a missing file goes to the app
		"/s/deep/a.css":   "app:/s/deep/a.css",  // the longest prefix wins, and has no a.css
		"/sa.css":         "app:/sa.css",        // a prefix is matched by whole segments
		"/favicon.ico/x":  "app:/favicon.ico/x",
		"/other":          "app:/other",
	})
	resp, _ := staticGet(t, s, "GET", "/s/a.css")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type of a.css: %q", ct)
	}
	if resp.Header.Get("Last-Modified") == "" || resp.Header.Get("Etag") == "" {
		t.Errorf("no Last-Modified or ETag: %v", resp.Header)
	}
}

func TestStaticMap2AndCheckStatic(t *testing.T) {
	m2 := staticTree(t, map[string]string{"media/a.txt": "map2", "a.txt": "not this"})
	root := staticTree(t, map[string]string{"robots.txt": "robots", "media/b.txt": "docroot"})
	s := staticStart(t, "--static-map2", "/media="+m2, "--check-static", root)
	staticWant(t, s, map[string]string{
		"/media/a.txt": "map2",         // the whole path under the directory
		"/robots.txt":  "robots",       // check-static: any path naming a file
		"/media/b.txt": "docroot",      // not under the map2 directory: check-static has it
		"/nothing":     "app:/nothing", // in neither
		"/":            "app:/",        // a directory, and no --static-index
	})
}

func TestStaticIndexAndSkipExt(t *testing.T) {
	dir := staticTree(t, map[string]string{
		"docs/index.html": "<h1>docs</h1>", "docs/page.html": "page", "only/home.htm": "home",
		"plain/file.txt": "x", "app.py": "print('source')", "x.php": "<?php",
	})
	s := staticStart(t, "--static-map", "/d="+dir, "--static-index", "index.html", "--static-index", "home.htm",
		"--static-skip-ext", ".py", "--static-skip-ext", ".php")
	staticWant(t, s, map[string]string{
		"/d/docs/":  "<h1>docs</h1>",
		"/d/docs":   "<h1>docs</h1>",
		"/d/only/":  "home",
		"/d/plain/": "app:/d/plain/", // no index there, and never a listing
		"/d/app.py": "app:/d/app.py",
		"/d/x.php":  "app:/d/x.php",
	})
	resp, _ := staticGet(t, s, "GET", "/d/docs/")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type of the index: %q", ct)
	}
}

// Nothing outside a static directory is ever served, however the path is spelt; such
// requests go to the app, as from uWSGI.
func TestStaticSafety(t *testing.T) {
	outside := staticTree(t, map[string]string{"secret.txt": "SECRET"})
	safe := staticTree(t, map[string]string{"shared.txt": "shared"})
	dir := staticTree(t, map[string]string{"pub/a.txt": "a", ".env": "DOTENV", "pub/.hidden": "HIDDEN", "a%2fb": "x"})
	for link, target := range map[string]string{
		"pub/out.txt":  filepath.Join(outside, "secret.txt"),
		"pub/rel.txt":  "../../" + filepath.Base(outside) + "/secret.txt",
		"pub/outdir":   outside,
		"pub/safe.txt": filepath.Join(safe, "shared.txt"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	s := staticStart(t, "--static-map", "/s="+dir+"/pub", "--static-map", "/r="+dir, "--static-safe", safe)
	for _, path := range []string{
		"/s/../" + filepath.Base(dir) + "/secret.txt",
		"/s/%2e%2e/.env", "/s/%2E%2E/%2E%2E/" + filepath.Base(outside) + "/secret.txt",
		"/s/..%2f.env", "/s/..%2F..%2F" + filepath.Base(outside) + "%2Fsecret.txt",
		"/s/..%5c.env", "/s/a.txt%00.png",
		"/s/out.txt", "/s/rel.txt", "/s/outdir/secret.txt",
		"/r/.env", "/s/.hidden", "/r/pub/%2ehidden", "/r/a%2fb",
	} {
		raw := s.Raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if strings.Contains(raw, "SECRET") || strings.Contains(raw, "DOTENV") || strings.Contains(raw, "HIDDEN") {
			t.Errorf("GET %s served a file it must not:\n%s", path, raw)
		}
		// The app answers (or the request line was refused as malformed): no file.
		if !strings.Contains(raw, "app:") && !strings.HasPrefix(raw, "HTTP/1.1 400") {
			t.Errorf("GET %s: neither the app's answer nor a 400:\n%s", path, raw)
		}
	}
	staticWant(t, s, map[string]string{"/s/safe.txt": "shared", "/s/a.txt": "a"}) // static-safe allows
	if !s.WaitLog("security error", 5*time.Second) {
		t.Errorf("no security error was logged for the links leading out; log:\n%s", s.Log())
	}

	dots := staticStart(t, "--static-map", "/r="+dir, "--static-dotfiles")
	staticWant(t, dots, map[string]string{"/r/.env": "DOTENV", "/r/pub/.hidden": "HIDDEN"})
	if raw := dots.Raw("GET /r/pub/%2e%2e/.env HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.Contains(raw, "app:") {
		t.Errorf("with --static-dotfiles, %%2e%%2e still must not be followed:\n%s", raw)
	}
}

func TestStaticCaching(t *testing.T) {
	dir := staticTree(t, map[string]string{"a.css": "css", "b.js": "js", "c.txt": "txt", "app.0123456789ab.css": "hashed", "n.txt": "n"})
	s := staticStart(t, "--static-map", "/s="+dir,
		"--static-expires-type", "text/css=3600",
		"--static-expires", `/b\.js$ 60`,
		"--static-expires-uri", `^/s/c\.txt\?v= 120`,
		"--static-immutable")
	for path, want := range map[string]string{
		"/s/a.css":                "max-age=3600",
		"/s/b.js":                 "max-age=60",
		"/s/c.txt?v=1":            "max-age=120",
		"/s/c.txt":                "",
		"/s/n.txt":                "",
		"/s/app.0123456789ab.css": "public, max-age=31536000, immutable",
	} {
		before := time.Now().Truncate(time.Second)
		resp, _ := staticGet(t, s, "GET", path)
		if got := resp.Header.Get("Cache-Control"); got != want {
			t.Errorf("GET %s: Cache-Control %q, want %q", path, got, want)
		}
		exp := resp.Header.Get("Expires")
		if !strings.HasPrefix(want, "max-age=") {
			if exp != "" {
				t.Errorf("GET %s: Expires %q, want none", path, exp)
			}
			continue
		}
		var secs int
		fmt.Sscanf(want, "max-age=%d", &secs)
		at, err := http.ParseTime(exp)
		if err != nil || at.Before(before.Add(time.Duration(secs)*time.Second)) || at.After(time.Now().Add(time.Duration(secs)*time.Second+5*time.Second)) {
			t.Errorf("GET %s: Expires %q, want about %d s from now", path, exp, secs)
		}
	}
}

func TestStaticGzip(t *testing.T) {
	dir := staticTree(t, map[string]string{
		"all/a.js": "plain", "all/a.js.gz": "GZ", "all/a.js.br": "BR", "all/g.css": "plain g", "all/g.css.gz": "GZ g",
		"z/x.txt": "plain x", "z/x.txt.gz": "GZ x", "n/y.txt": "plain y", "n/y.txt.gz": "GZ y",
	})
	s := staticStart(t, "--static-map", "/s="+dir, "--static-gzip-dir", filepath.Join(dir, "z"))
	for _, tc := range []struct{ path, ae, body, enc string }{
		{"/s/z/x.txt", "gzip", "GZ x", "gzip"},
		{"/s/z/x.txt", "", "plain x", ""},
		{"/s/z/x.txt", "gzip;q=0", "plain x", ""},
	} {
		staticCheckEncoding(t, s, tc.path, tc.ae, tc.body, tc.enc)
	}
	// Not under a --static-gzip-dir: never compressed, and nothing varies.
	if resp, body := staticGet(t, s, "GET", "/s/n/y.txt", "Accept-Encoding: gzip"); body != "plain y" || resp.Header.Get("Vary") != "" {
		t.Errorf("GET /s/n/y.txt: %q, Vary %q; want the plain file, no Vary", body, resp.Header.Get("Vary"))
	}
	all := staticStart(t, "--static-map", "/s="+dir, "--static-gzip-all")
	for _, tc := range []struct{ path, ae, body, enc string }{
		{"/s/all/a.js", "gzip, deflate, br", "BR", "br"},
		{"/s/all/a.js", "gzip", "GZ", "gzip"},
		{"/s/all/a.js", "identity", "plain", ""},
		{"/s/all/g.css", "br, gzip", "GZ g", "gzip"}, // no .br there
		{"/s/n/y.txt", "gzip", "GZ y", "gzip"},
	} {
		staticCheckEncoding(t, all, tc.path, tc.ae, tc.body, tc.enc)
	}
	resp, _ := staticGet(t, all, "GET", "/s/all/a.js", "Accept-Encoding: gzip")
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("the gzip variant of a.js is served as %q; want the type of a.js", ct)
	}
}

func staticCheckEncoding(t *testing.T, s *Server, path, ae, body, enc string) {
	t.Helper()
	var h []string
	if ae != "" {
		h = append(h, "Accept-Encoding: "+ae)
	}
	resp, got := staticGet(t, s, "GET", path, h...)
	if got != body || resp.Header.Get("Content-Encoding") != enc || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("GET %s (Accept-Encoding %q): %q, Content-Encoding %q, Vary %q; want %q, %q, Accept-Encoding",
			path, ae, got, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), body, enc)
	}
}

func TestStaticMimefile(t *testing.T) {
	types := filepath.Join(t.TempDir(), "mime.types")
	os.WriteFile(types, []byte("# local types\napplication/x-uwsgo-test  uwt  UWT2\n\ntext/x-custom-css css\n"), 0o644)
	dir := staticTree(t, map[string]string{"a.uwt": "1", "b.uwt2": "2", "c.css": "3", "d.unknownext": "4"})
	s := staticStart(t, "--static-map", "/s="+dir, "--mimefile", types)
	for path, want := range map[string]string{
		"/s/a.uwt": "application/x-uwsgo-test", "/s/b.uwt2": "application/x-uwsgo-test",
		"/s/c.css": "text/x-custom-css", "/s/d.unknownext": "application/octet-stream",
	} {
		if resp, _ := staticGet(t, s, "GET", path); resp.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, resp.Header.Get("Content-Type"), want)
		}
	}
}

// Conditional requests, ranges and HEAD, as http.ServeContent does them, on the
// connection uwsgo writes itself.
func TestStaticConditionalRangeHead(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: sent with sendfile
	dir := staticTree(t, map[string]string{"a.txt": "hello, world", "big.bin": string(big)})
	s := staticStart(t, "--static-map", "/s="+dir)

	resp, _ := staticGet(t, s, "GET", "/s/a.txt")
	etag, lastMod := resp.Header.Get("Etag"), resp.Header.Get("Last-Modified")
	for _, h := range []string{"If-None-Match: " + etag, "If-Modified-Since: " + lastMod} {
		if resp, body := staticGet(t, s, "GET", "/s/a.txt", h); resp.StatusCode != 304 || body != "" {
			t.Errorf("%s: %d %q; want 304 and no body", h, resp.StatusCode, body)
		}
	}
	if resp, body := staticGet(t, s, "GET", "/s/a.txt", `If-None-Match: "other"`); resp.StatusCode != 200 || body != "hello, world" {
		t.Errorf("a stale ETag: %d %q", resp.StatusCode, body)
	}
	if resp, _ := staticGet(t, s, "GET", "/s/a.txt", `If-Match: "other"`); resp.StatusCode != 412 {
		t.Errorf("If-Match of another ETag: %d, want 412", resp.StatusCode)
	}

	if resp, body := staticGet(t, s, "GET", "/s/a.txt", "Range: bytes=7-11"); resp.StatusCode != 206 || body != "world" || resp.Header.Get("Content-Range") != "bytes 7-11/12" {
		t.Errorf("Range 7-11: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	if resp, body := staticGet(t, s, "GET", "/s/big.bin", "Range: bytes=1000000-"); resp.StatusCode != 206 || body != string(big[1000000:]) {
		t.Errorf("Range of big.bin: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := staticGet(t, s, "GET", "/s/a.txt", "Range: bytes=50-60"); resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */12" {
		t.Errorf("an unsatisfiable Range: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	resp, body := staticGet(t, s, "GET", "/s/a.txt", "Range: bytes=0-4,7-11")
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != 206 || mt != "multipart/byteranges" {
		t.Fatalf("two ranges: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var parts []string
	mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
	for p, err := mr.NextPart(); err == nil; p, err = mr.NextPart() {
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Range")+"="+string(b))
	}
	if strings.Join(parts, " ") != "bytes 0-4/12=hello bytes 7-11/12=world" {
		t.Errorf("two ranges: parts %q", parts)
	}

	if resp, body := staticGet(t, s, "GET", "/s/big.bin"); resp.StatusCode != 200 || body != string(big) {
		t.Errorf("big.bin: %d, %d bytes, equal: %v", resp.StatusCode, len(body), body == string(big))
	}
	// HEAD: the length a GET gets, no body; the connection stays usable, so a second
	// request pipelined behind it is answered right after.
	raw := s.Raw("HEAD /s/big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /s/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.Contains(raw, "Content-Length: 1048576\r\n") || strings.Count(raw, "HTTP/1.1 200") != 2 || !strings.HasSuffix(raw, "\r\n\r\nhello, world") {
		t.Errorf("HEAD then GET, pipelined:\n%.600s", raw)
	}
}

// A static file is served while the app's only thread is busy: no Python is involved.
func TestStaticWithoutPython(t *testing.T) {
	dir := staticTree(t, map[string]string{"a.txt": "file"})
	s := staticStart(t, "--static-map", "/s="+dir, "--threads", "1")
	release := filepath.Join(t.TempDir(), "release")
	blocked := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.URL("/block?" + release))
		if err != nil {
			blocked <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		blocked <- string(b)
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(release + ".started"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/block never reached the app; log:\n%s", s.Log())
		}
	}
	staticWant(t, s, map[string]string{"/s/a.txt": "file"})
	select {
	case got := <-blocked:
		t.Fatalf("the blocking request ended before it was released: %q", got)
	default:
	}
	os.WriteFile(release, nil, 0o644)
	if got := <-blocked; got != "app:/block" {
		t.Errorf("/block: %q", got)
	}
}

// A client that stops reading a large file holds its connection's goroutine only: the
// app, with its one thread, answers others meanwhile.
func TestStaticSlowReader(t *testing.T) {
	dir := staticTree(t, map[string]string{"big.bin": strings.Repeat("x", 32<<20)})
	s := staticStart(t, "--static-map", "/s="+dir, "--threads", "1")
	c, r := s.Dial()
	if _, err := io.WriteString(c, "GET /s/big.bin HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The head arrives; the rest waits in the kernel's buffers, unread.
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("the big file's status line: %q, %v", line, err)
	}
	staticWant(t, s, map[string]string{"/app": "app:/app", "/s/missing": "app:/s/missing"})
	// The stalled response is whole once it is read.
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	n, err := io.CopyN(io.Discard, r, 32<<20)
	if err != nil || n != 32<<20 {
		t.Errorf("the big file after the stall: %d bytes, %v", n, err)
	}
}

// uWSGI serves static-map behind nginx's uwsgi_pass too; so does uwsgo.
func TestStaticThroughNginx(t *testing.T) {
	dir := staticTree(t, map[string]string{"a.css": "body{}", "b.txt": "bee"})
	sock := freeAddr(t)
	staticStart(t, "--socket", sock, "--static-map", "/static="+dir)
	n := uwsgiTStartNginx(t, fmt.Sprintf("location / { include /etc/nginx/uwsgi_params; uwsgi_pass %s; }", uwsgiTPass(sock)))
	get := func(path string, headers ...string) (*http.Response, string) {
		return staticGet(t, n.Server, "GET", path, headers...)
	}
	for path, want := range map[string]string{"/static/a.css": "body{}", "/static/b.txt": "bee", "/static/none": "app:/static/none", "/x": "app:/x"} {
		if resp, body := get(path); resp.StatusCode != 200 || body != want {
			t.Errorf("GET %s through nginx: %d %q, want %q\n%s", path, resp.StatusCode, body, want, n.ErrorLog())
		}
	}
	resp, _ := get("/static/a.css")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("Content-Type through nginx: %q", resp.Header.Get("Content-Type"))
	}
	if resp, body := get("/static/a.css", "If-None-Match: "+resp.Header.Get("Etag")); resp.StatusCode != 304 || body != "" {
		t.Errorf("a conditional GET through nginx: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("/static/b.txt", "Range: bytes=1-"); resp.StatusCode != 206 || body != "ee" {
		t.Errorf("a Range through nginx: %d %q", resp.StatusCode, body)
	}
}

func TestStaticBadOptions(t *testing.T) {
	for _, tc := range []struct{ args []string }{
		{[]string{"--static-map", "static=/srv"}},
		{[]string{"--static-map", "/s=/srv", "--static-expires", "([ 60"}},
		{[]string{"--static-map", "/s=/srv", "--static-expires-type", "text/css"}},
		{[]string{"--static-map", "/s=/srv", "--mimefile", "/nonexistent/mime.types"}},
	} {
		args := append([]string{"--http-socket", freeAddr(t), "--pypy-wsgi-file", testdata("static_app.py")}, tc.args...)
		code, out := Run(t, args, NoWait()).ExitWithin(30 * time.Second)
		if code == 0 || !strings.Contains(out, tc.args[len(tc.args)-2][2:]) {
			t.Errorf("%v: exit %d, want a failure naming the option; output:\n%s", tc.args, code, out)
		}
	}
}
