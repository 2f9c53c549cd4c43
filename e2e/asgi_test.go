package e2e

// End-to-end tests of ASGI apps (--pypy-asgi, --pypy-asgi-file) over HTTP: the scope,
// request bodies in pieces, streamed responses, disconnects, failures, and many requests
// at once on one worker's event loop.

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// asgiStart serves asgi_app.py with args; it returns the server and the file the app
// records what it saw in.
func asgiStart(t *testing.T, args ...string) (*Server, string) {
	t.Helper()
	rec := filepath.Join(t.TempDir(), "record")
	return Start(t, append([]string{"--pypy-asgi-file", testdata("asgi_app.py"), "--env", "ASGI_RECORD=" + rec}, args...)...), rec
}

// asgiRecord is what the app recorded so far, a line per event ("EVENT PID").
func asgiRecord(t *testing.T, rec string) string {
	t.Helper()
	b, err := os.ReadFile(rec)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// asgiWaitRecord polls the record for substr (10 s at most).
func asgiWaitRecord(t *testing.T, rec, substr string) {
	t.Helper()
	if eventually(10*time.Second, func() bool { return strings.Contains(asgiRecord(t, rec), substr) }) {
		return
	}
	t.Fatalf("the app never recorded %q; its record:\n%s", substr, asgiRecord(t, rec))
}

func TestASGIHello(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	resp, body := s.Get("/")
	if resp.StatusCode != 200 || body != "Hello, ASGI!" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, body)
	}
	if resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("GET /: Content-Length %d, Content-Type %q", resp.ContentLength, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(s.Log(), "asgi_app.py:app (ASGI)") {
		t.Errorf("the start-up log does not name the ASGI app:\n%s", s.Log())
	}
	// What the module made as it loaded belongs to the loop that serves.
	if resp, body := s.Get("/module-event"); resp.StatusCode != 200 || body != "waited" {
		t.Errorf("GET /module-event: %d %q\n%s", resp.StatusCode, body, s.Log())
	}
}

// The scope has every key the spec names, with the values the request gave: the path
// percent-decoded (UTF-8), the raw path and query string as sent, headers lower-cased in
// order with duplicates kept, and lifespan's state.
func TestASGIScope(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	c := httpDial(t, "tcp", s.Addr)
	c.send("GET /scope/caf%C3%A9%20x?q=a%20b&r=1 HTTP/1.1\r\nHost: example.com:8080\r\nX-Dup: one\r\nX-Under_Score: u\r\nx-dup: two\r\n\r\n")
	resp, body := c.response("GET")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	sc := httpJSON(t, body)
	want := map[string]any{
		"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
		"path": "/scope/café x", "raw_path": "/scope/caf%C3%A9%20x", "query_string": "q=a%20b&r=1",
		"root_path": "", "body": "", "messages": 1.0, "running_loop": true, "in_all_tasks": true,
	}
	for k, v := range want {
		if sc[k] != v {
			t.Errorf("scope[%q] = %#v, want %#v", k, sc[k], v)
		}
	}
	if got := fmt.Sprint(sc["asgi"]); got != "map[spec_version:2.3 version:3.0]" {
		t.Errorf("scope['asgi'] = %s", got)
	}
	if got := fmt.Sprint(sc["headers"]); got != "[[host example.com:8080] [x-dup one] [x-under_score u] [x-dup two]]" {
		t.Errorf("scope['headers'] = %s", got)
	}
	if got := fmt.Sprint(sc["state"]); got != "map[greeting:hello from lifespan]" {
		t.Errorf("scope['state'] = %s: lifespan's state is not in the request's scope", got)
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	if got, want := fmt.Sprint(sc["server"]), fmt.Sprintf("[%s %s]", host, port); got != want {
		t.Errorf("scope['server'] = %s, want %s", got, want)
	}
	_, cport, _ := net.SplitHostPort(c.nc.LocalAddr().String())
	if got, want := fmt.Sprint(sc["client"]), fmt.Sprintf("[127.0.0.1 %s]", cport); got != want {
		t.Errorf("scope['client'] = %s, want %s", got, want)
	}
	if got := fmt.Sprint(sc["extensions"]); !strings.Contains(got, "http.response.pathsend") || !strings.Contains(got, "http.response.zerocopysend") || strings.Contains(got, "trailers") {
		t.Errorf("scope['extensions'] = %s: want pathsend and zerocopysend, and no trailers", got)
	}

	// HTTP/1.0, and a body with a Content-Length: one message.
	c = httpDial(t, "tcp", s.Addr)
	c.send("POST /scope HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello")
	_, body = c.response("POST")
	sc = httpJSON(t, body)
	if sc["http_version"] != "1.0" || sc["body"] != "hello" || sc["messages"] != 1.0 || sc["method"] != "POST" {
		t.Errorf("HTTP/1.0 POST: http_version %v, body %v in %v messages, method %v", sc["http_version"], sc["body"], sc["messages"], sc["method"])
	}
}

// 100 requests that each await asyncio.sleep(0.5) are served at once by one worker's
// loop: together they take about as long as one.
func TestASGIConcurrentSleeps(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	s.Get("/") // warm
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n}}
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(s.URL("/sleep"))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "slept" {
				errs <- fmt.Errorf("status %d, body %q", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d requests of asyncio.sleep(0.5) on one worker took %v", n, took)
	if took > 1500*time.Millisecond {
		t.Errorf("%d requests sleeping 0.5 s each took %v on one worker: they did not run at once", n, took)
	}
}

// A large body reaches the app in several http.request messages (more_body), whole and
// in order; a chunked one too, piece by piece as the client sends it; a small one in one.
func TestASGIRequestBodyPieces(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	big := strings.Repeat("0123456789abcdef", 3<<16) // 3 MiB
	sum := sha1.Sum([]byte(big))
	resp, err := http.Post(s.URL("/body"), "application/octet-stream", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	info := httpJSON(t, string(b))
	if info["length"] != float64(len(big)) || info["sha1"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("a %d-byte body: the app read %v bytes, sha1 %v", len(big), info["length"], info["sha1"])
	}
	if m := info["messages"].(float64); m < 2 {
		t.Errorf("a %d-byte body came in %v message(s): not streamed", len(big), m)
	}

	// Chunked: the app answers only after the last chunk, which is sent after the first
	// ones were read (the server cannot have waited for the whole body first).
	c := httpDial(t, "tcp", s.Addr)
	c.send("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	c.send("6\r\n world\r\n")
	c.send("0\r\n\r\n")
	_, body := c.response("POST")
	info = httpJSON(t, body)
	if info["length"] != 11.0 {
		t.Errorf("chunked: the app read %v bytes, want 11", info["length"])
	}
	// The connection goes on: the body was read exactly.
	c.send("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
	_, body = c.response("POST")
	if info = httpJSON(t, body); info["length"] != 3.0 || info["messages"] != 1.0 {
		t.Errorf("a 3-byte body after a chunked one: %v", info)
	}
}

// Over --limit-post, a body announced too large is refused before the app runs.
func TestASGILimitPost(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t, "--limit-post", "1000")
	resp, err := http.Post(s.URL("/body"), "text/plain", strings.NewReader(strings.Repeat("x", 2000)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2000-byte body over --limit-post 1000: status %d, want 413", resp.StatusCode)
	}
}

// A streamed response goes out as the app sends it: its first piece reaches the client
// while the app is still waiting to send the rest.
func TestASGIStreamedResponse(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	gate := filepath.Join(t.TempDir(), "gate")
	c := httpDial(t, "tcp", s.Addr)
	c.send("GET /stream?" + gate + " HTTP/1.1\r\nHost: x\r\n\r\n")
	status, h := c.head()
	if !strings.Contains(status, "200") || h.Get("Transfer-Encoding") != "chunked" {
		t.Fatalf("status %q, Transfer-Encoding %q", status, h.Get("Transfer-Encoding"))
	}
	if size, data := c.line(), c.line(); size != "5" || data != "first" {
		t.Fatalf("first chunk: size %q, data %q", size, data)
	}
	// Only now may the app go on.
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if rest := strings.Join(c.chunked(), ""); rest != "secondlast" {
		t.Errorf("after the first chunk: %q", rest)
	}
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := c.response("GET"); body != "Hello, ASGI!" {
		t.Errorf("the next request on the connection: %q", body)
	}
}

// When the client goes away, an app waiting in receive() gets http.disconnect; one
// streaming to it stops.
func TestASGIDisconnect(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t)

	c := httpDial(t, "tcp", s.Addr)
	c.send("GET /wait-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
	asgiWaitRecord(t, rec, "waiting")
	c.nc.Close()
	asgiWaitRecord(t, rec, "got http.disconnect")

	c = httpDial(t, "tcp", s.Addr)
	c.send("GET /stream-forever HTTP/1.1\r\nHost: x\r\n\r\n")
	if status, _ := c.head(); !strings.Contains(status, "200") {
		t.Fatalf("status %q", status)
	}
	c.line()
	c.nc.Close()
	asgiWaitRecord(t, rec, "watch http.disconnect")
	asgiWaitRecord(t, rec, "stopped streaming")
	// The worker goes on serving.
	if _, body := s.Get("/"); body != "Hello, ASGI!" {
		t.Errorf("after the disconnects: %q", body)
	}
}

// Failures: an exception before the response is a 500; a response never sent is a 500
// and a log line; an exception after the head cuts the connection; trailers, which uwsgo
// does not offer, are refused with a message that says so; a forged header never
// reaches the client.
func TestASGIAppFailures(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	for _, path := range []string{"/raise", "/no-response", "/trailers", "/bad-header"} {
		resp, body := s.Get(path)
		if resp.StatusCode != 500 {
			t.Errorf("GET %s: status %d (%q), want 500", path, resp.StatusCode, body)
		}
		if resp.Header.Get("Injected") != "" {
			t.Errorf("GET %s: a header was forged", path)
		}
	}
	for _, want := range []string{"the app failed on purpose", "returned without a response for GET /no-response", "does not send HTTP trailers"} {
		if !strings.Contains(s.Log(), want) {
			t.Errorf("the log does not say %q:\n%s", want, s.Log())
		}
	}

	c := httpDial(t, "tcp", s.Addr)
	c.send("GET /raise-midway HTTP/1.1\r\nHost: x\r\n\r\n")
	if status, _ := c.head(); !strings.Contains(status, "200") {
		t.Fatalf("status %q", status)
	}
	if b, err := io.ReadAll(c.br); err != nil || strings.Contains(string(b), "0\r\n\r\n") {
		t.Errorf("a body cut by an exception ended like a whole one (%q, %v)", b, err)
	}
	if _, body := s.Get("/"); body != "Hello, ASGI!" {
		t.Errorf("after the failures: %q", body)
	}
}

// http.response.pathsend and http.response.zerocopysend send a file (with sendfile(2)).
func TestASGIPathsend(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	f := filepath.Join(t.TempDir(), "file.txt")
	content := strings.Repeat("pathsend ", 10000)
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body := s.Get("/pathsend?" + f)
	if resp.StatusCode != 200 || body != content || resp.ContentLength != int64(len(content)) {
		t.Errorf("pathsend: status %d, %d bytes (Content-Length %d), want %d", resp.StatusCode, len(body), resp.ContentLength, len(content))
	}
	// zerocopysend from the file's position, whole (sendfile, with a Content-Length) and
	// in two pieces (read and sent, chunked).
	for _, q := range []string{"", "&pieces"} {
		resp, body = s.Get("/zerocopy?" + f + q)
		if resp.StatusCode != 200 || body != content[5:] {
			t.Errorf("zerocopysend%s: status %d, %d bytes, want %d", q, resp.StatusCode, len(body), len(content)-5)
		}
		if q == "" && resp.ContentLength != int64(len(content)-5) {
			t.Errorf("zerocopysend of a whole file: Content-Length %d, want %d", resp.ContentLength, len(content)-5)
		}
	}
}

// A sync function in the loop's executor (--threads 2) does not stall the loop: while it
// blocks its thread, another request is answered; then it ends and answers too.
func TestASGIExecutor(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t, "--threads", "2")
	gate := filepath.Join(t.TempDir(), "gate")
	done := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.URL("/blocking?" + gate))
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	asgiWaitRecord(t, rec, "in executor")
	if _, body := s.Get("/"); body != "Hello, ASGI!" {
		t.Fatalf("GET / while /blocking waits in the executor: %q", body)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if name := <-done; !strings.HasPrefix(name, "asgi") {
		t.Errorf("the sync function ran on thread %q, want the loop's executor (asgi_N)", name)
	}
}

// The context switches a request costs, all threads of the worker counted, with one
// keep-alive client sending requests one after another: an ASGI request costs about what
// a WSGI one does, whose path has no hand-off between threads (README.md, "ASGI"). A
// hand-off to a loop thread and back would add about two.
func TestASGIContextSwitches(t *testing.T) {
	t.Parallel()
	const n = 3000
	wsgi := Start(t, "--pypy-wsgi-file", testdata("../../examples/hello.py"), "--disable-logging")
	asgi, _ := asgiStart(t, "--disable-logging")
	perWSGI := switchesPerRequest(t, wsgi, n)
	perASGI := switchesPerRequest(t, asgi, n)
	t.Logf("context switches per request: WSGI %.2f, ASGI %.2f (%d requests on one keep-alive connection)", perWSGI, perASGI, n)
	if perASGI > max(2.5, perWSGI+1) {
		t.Errorf("an ASGI request costs %.2f context switches, a WSGI one %.2f: a hand-off crept in", perASGI, perWSGI)
	}
}

// switchesPerRequest sends n GET / on one connection, after as many to warm the JIT (a
// call into Python that is still slow lets Go's sysmon move the connection's goroutine to
// another thread), and counts the worker's context switches (voluntary and not, every
// thread) per request.
func switchesPerRequest(t *testing.T, s *Server, n int) float64 {
	t.Helper()
	c := httpDial(t, "tcp", s.Addr)
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	round := func() {
		for range n {
			c.nc.SetDeadline(time.Now().Add(10 * time.Second))
			c.send(get)
			if resp, _ := c.response("GET"); resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	round()
	before := contextSwitches(t, s.Cmd.Process.Pid)
	round()
	return float64(contextSwitches(t, s.Cmd.Process.Pid)-before) / float64(n)
}

// contextSwitches sums voluntary_ctxt_switches and nonvoluntary_ctxt_switches over the
// threads of pid.
func contextSwitches(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of %d in /proc: %v", pid, err)
	}
	total := 0
	for _, f := range tasks {
		fh, err := os.Open(f)
		if err != nil {
			continue // a thread that just ended
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if name, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.HasSuffix(name, "ctxt_switches") {
				k, _ := strconv.Atoi(strings.TrimSpace(v))
				total += k
			}
		}
		fh.Close()
	}
	return total
}

// Behind nginx's uwsgi_pass (the uwsgi protocol), the scope is made from the CGI
// variables nginx sends: the path decoded, the raw path, headers, the body; a streamed
// response and a long poll work there too.
func TestASGIBehindNginx(t *testing.T) {
	t.Parallel()
	sock := freeAddr(t)
	s, rec := asgiStart(t, "--socket", sock)
	n := uwsgiTStartNginx(t, fmt.Sprintf("location / { include /etc/nginx/uwsgi_params; uwsgi_pass %s; uwsgi_buffering off; }", uwsgiTPass(sock)))
	req, _ := http.NewRequest("POST", n.URL("/scope/caf%C3%A9?x=1"), strings.NewReader("through nginx"))
	req.Header.Set("X-Test", "yes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Log())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s\nnginx: %s\nuwsgo: %s", resp.StatusCode, b, n.ErrorLog(), s.Log())
	}
	sc := httpJSON(t, string(b))
	for k, v := range map[string]any{"path": "/scope/café", "raw_path": "/scope/caf%C3%A9", "query_string": "x=1",
		"method": "POST", "body": "through nginx", "http_version": "1.1", "scheme": "http"} {
		if sc[k] != v {
			t.Errorf("scope[%q] = %#v, want %#v", k, sc[k], v)
		}
	}
	if h := fmt.Sprint(sc["headers"]); !strings.Contains(h, "[x-test yes]") || !strings.Contains(h, "[content-length 13]") {
		t.Errorf("scope['headers'] = %s", h)
	}
	// A long poll: the app learns that nginx (for its client) went away.
	c := httpDial(t, "tcp", n.Addr)
	c.send("GET /wait-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
	asgiWaitRecord(t, rec, "waiting")
	c.nc.Close()
	asgiWaitRecord(t, rec, "got http.disconnect")
}

// Malformed input never reaches the app: a bad head is refused with 400 before it runs;
// a chunked body that turns malformed (or grows past --limit-post) while the app reads
// it ends the app's body with http.disconnect, and the client gets 400 (413), not the
// app's failure.
func TestASGIMalformedInput(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t, "--limit-post", "100000")
	for _, head := range []string{
		"GET /wait-disconnect HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
		"GET /wait-disconnect HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"GET /wait-disconnect HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	} {
		if got := s.Raw(head); !strings.HasPrefix(got, "HTTP/1.1 400 ") && !strings.HasPrefix(got, "HTTP/1.1 501 ") {
			t.Errorf("%q: answered %q, want 400", head, httpShort(got))
		}
	}
	if r := asgiRecord(t, rec); strings.Contains(r, "waiting") {
		t.Errorf("a malformed request reached the app: %s", r)
	}
	c := httpDial(t, "tcp", s.Addr)
	c.send("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n")
	if resp, body := c.response("POST"); resp.StatusCode != 400 {
		t.Errorf("a malformed chunk: %d %q, want 400", resp.StatusCode, body)
	}
	c = httpDial(t, "tcp", s.Addr)
	c.send("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 50000, strings.Repeat("z", 50000))
	c.send(chunk + chunk + chunk)
	if resp, body := c.response("POST"); resp.StatusCode != 413 {
		t.Errorf("a chunked body past --limit-post: %d %q, want 413", resp.StatusCode, body)
	}
	if !strings.Contains(s.Log(), "http.disconnect") {
		t.Errorf("the app was not told of the broken bodies:\n%s", s.Log())
	}
	if _, body := s.Get("/"); body != "Hello, ASGI!" {
		t.Errorf("after the malformed requests: %q", body)
	}
}

// --health-path is answered without the app, as for WSGI.
func TestASGIHealthPath(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t, "--health-path", "/healthz")
	if resp, body := s.Get("/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", resp.StatusCode, body)
	}
}

// A client that does not read makes the app's send() wait (back-pressure) once about a
// MiB waits for it beyond what the kernel's buffers hold: the handler is held, not the
// loop, which goes on serving; once the client reads, everything arrives.
func TestASGIBackPressure(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t)
	c := httpDial(t, "tcp", s.Addr)
	c.send("GET /flood?64 HTTP/1.1\r\nHost: x\r\n\r\n")
	asgiWaitRecord(t, rec, "send waited after ")
	var after int
	for _, l := range strings.Split(asgiRecord(t, rec), "\n") {
		if v, ok := strings.CutPrefix(l, "send waited after "); ok {
			after, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	t.Logf("the app's send() first waited after %d bytes of 64 MiB", after)
	if after > 24<<20 {
		t.Errorf("the app sent %d bytes to a client that reads nothing before it had to wait", after)
	}
	if strings.Contains(asgiRecord(t, rec), "flood done") {
		t.Fatalf("the app finished sending 64 MiB to a client that read nothing")
	}
	if _, body := s.Get("/"); body != "Hello, ASGI!" {
		t.Errorf("another request while the flood waits: %q", body)
	}
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	resp, body := c.response("GET")
	if resp.StatusCode != 200 || len(body) != 64<<20 {
		t.Errorf("the flood: status %d, %d bytes, want 64 MiB", resp.StatusCode, len(body))
	}
	asgiWaitRecord(t, rec, "flood done")
}

// The uwsgi module from an ASGI app: the shared state (a cache), and the request
// functions, which know the request a task serves even after it awaited
// (uwsgi.request_id, uwsgi.set_logvar into --log-format).
func TestASGIUwsgiModule(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t, "--cache2", "name=default,items=10", "--log-format", "%(method) %(uri) rid=%(rid)")
	if _, body := s.Get("/uwsgi-cache"); body != "cached by worker 1" {
		t.Errorf("GET /uwsgi-cache: %q", body)
	}
	if !s.WaitLog("GET /uwsgi-cache rid=1", 10*time.Second) {
		t.Errorf("the request's logvar is not in its log line:\n%s", s.Log())
	}
}
