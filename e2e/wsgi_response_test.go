package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// wsgiFileClosed asks the app whether the file object it wrapped for token was closed.
func wsgiFileClosed(t *testing.T, s *Server, token string) bool {
	t.Helper()
	var st struct{ Known, Closed bool }
	wsgiJSON(t, s, "GET", "/file-closed?token="+token, nil, &st)
	if !st.Known {
		t.Fatalf("the app never saw a file for token %s", token)
	}
	return st.Closed
}

// TestWSGIFileWrapper sends real files (from the start and from an offset, with and
// without the app's Content-Length, with a block size), a BytesIO and a read()-only object
// through wsgi.file_wrapper: every byte arrives, and the file-like's close() is called.
func TestWSGIFileWrapper(t *testing.T) {
	t.Parallel()
	data := wsgiRandom(3<<20+123, 3)
	path := url.QueryEscape(wsgiWriteFile(t, data))
	small := url.QueryEscape(wsgiWriteFile(t, wsgiRandom(300_000, 4)))
	smallData := wsgiRandom(300_000, 4)
	s := wsgiStart(t)
	cases := []struct {
		name      string
		query     string
		want      []byte
		appLength bool // the app set Content-Length
		closes    bool // the wrapped object has a close() to check
	}{
		{"file", "kind=file&cl=1&path=" + path, data, true, true},
		{"file-no-length", "kind=file&path=" + path, data, false, true},
		{"file-offset", "kind=file&cl=1&offset=12345&path=" + path, data[12345:], true, true},
		{"file-offset-no-length", "kind=file&offset=1048577&path=" + path, data[1048577:], false, true},
		{"file-blksize", "kind=file&cl=1&blksize=1000&path=" + path, data, true, true},
		{"bytesio", "kind=bytesio&path=" + small, smallData, false, true},
		{"bytesio-length-blksize", "kind=bytesio&cl=1&blksize=777&path=" + small, smallData, true, true},
		{"readonly", "kind=readonly&path=" + small, smallData, false, false},
	}
	for _, tc := range cases {
		token := tc.name
		resp, b := wsgiDo(t, s, "GET", "/file?token="+token+"&"+tc.query, nil, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d %q", tc.name, resp.StatusCode, wsgiShort(string(b)))
			continue
		}
		if len(b) != len(tc.want) || wsgiSHA(b) != wsgiSHA(tc.want) {
			t.Errorf("%s: got %d bytes (sha %s), want %d (sha %s)", tc.name, len(b), wsgiSHA(b), len(tc.want), wsgiSHA(tc.want))
		}
		if tc.appLength && resp.ContentLength != int64(len(tc.want)) {
			t.Errorf("%s: Content-Length %d, want %d", tc.name, resp.ContentLength, len(tc.want))
		}
		if resp.ContentLength >= 0 && resp.ContentLength != int64(len(tc.want)) {
			t.Errorf("%s: the server's Content-Length %d is not the body's %d", tc.name, resp.ContentLength, len(tc.want))
		}
		if resp.Header.Get("X-Kind") == "" {
			t.Errorf("%s: the app's X-Kind header is missing: %v", tc.name, resp.Header)
		}
		if tc.closes && !eventually(5*time.Second, func() bool { return wsgiFileClosed(t, s, token) }) {
			t.Errorf("%s: the wrapped file object was not closed", tc.name)
		}
	}
}

// TestWSGIFileWrapperHEAD: HEAD on a file_wrapper response sends its head and no byte of
// the file, both at the end of a connection and before a pipelined request.
func TestWSGIFileWrapperHEAD(t *testing.T) {
	t.Parallel()
	data := wsgiRandom(1<<20, 6)
	path := url.QueryEscape(wsgiWriteFile(t, data))
	s := wsgiStart(t)
	for _, tc := range []struct{ name, query string }{
		{"file", "kind=file&cl=1&path=" + path},
		{"file-no-length", "kind=file&path=" + path},
		{"bytesio", "kind=bytesio&cl=1&path=" + path},
	} {
		raw := s.Raw("HEAD /file?token=head-" + tc.name + "&" + tc.query + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		head, rest := wsgiSplitHead(t, raw)
		if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
			t.Errorf("%s: HEAD answered %q", tc.name, wsgiShort(head))
			continue
		}
		if rest != "" {
			t.Errorf("%s: HEAD sent %d body bytes", tc.name, len(rest))
		}
		resp, _, _ := wsgiParse(t, raw, "HEAD")
		if resp.Header.Get("X-Kind") == "" {
			t.Errorf("%s: HEAD lost the app's headers: %q", tc.name, head)
		}
		if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(data)) {
			t.Errorf("%s: HEAD has Content-Length %s, want %d (that of GET)", tc.name, cl, len(data))
		}
		if !eventually(5*time.Second, func() bool { return wsgiFileClosed(t, s, "head-"+tc.name) }) {
			t.Errorf("%s: HEAD did not close the wrapped file", tc.name)
		}
	}
	c, br := wsgiRawConn(t, s, 10*time.Second)
	io.WriteString(c, "HEAD /file?token=pipelined&kind=file&path="+path+" HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("pipelined HEAD: %v %v", resp, err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("the response after a HEAD of a file does not parse (body bytes sent?): %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "pong" {
		t.Errorf("GET /ping after HEAD: %q", b)
	}
}

// TestWSGIHead: HEAD keeps the app's headers and sends no body, for list and generator
// responses (no chunk terminator either: the pipelined next response parses).
func TestWSGIHead(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, path := range []string{"/body-list", "/body-gen"} {
		get, getBody := wsgiDo(t, s, "GET", path, nil, nil)
		raw := s.Raw("HEAD " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		head, rest := wsgiSplitHead(t, raw)
		if rest != "" {
			t.Errorf("HEAD %s sent a body: %q", path, rest)
		}
		resp, _, _ := wsgiParse(t, raw, "HEAD")
		if resp.StatusCode != 200 || resp.Header.Get("X-App") != get.Header.Get("X-App") || resp.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("HEAD %s: head %q lacks the app's status or headers (GET had %v)", path, head, get.Header)
		}
		if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(getBody)) {
			t.Errorf("HEAD %s: Content-Length %s, but GET's body is %d bytes", path, cl, len(getBody))
		}
		if strings.Contains(strings.ToLower(head), "transfer-encoding: chunked") {
			// Allowed by HTTP, but then no chunk may follow: checked by rest == "" above.
			t.Logf("HEAD %s announces chunked framing", path)
		}

		c, br := wsgiRawConn(t, s, 10*time.Second)
		io.WriteString(c, "HEAD "+path+" HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
		if r, err := http.ReadResponse(br, &http.Request{Method: "HEAD"}); err != nil || r.StatusCode != 200 {
			t.Fatalf("pipelined HEAD %s: %v %v", path, r, err)
		}
		r, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Errorf("after a pipelined HEAD %s the next response does not parse: %v", path, err)
			continue
		}
		if b, _ := io.ReadAll(r.Body); string(b) != "pong" {
			t.Errorf("GET /ping after HEAD %s: %q", path, b)
		}
	}
}

// TestWSGIStartResponseExcInfo: start_response(..., exc_info) before anything was sent
// replaces the status and headers, also when the app had yielded only empty chunks.
func TestWSGIStartResponseExcInfo(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/sr/replace", 503, "replaced"},
		{"/sr/replace-gen", 502, "replaced in generator"},
	} {
		resp, b := wsgiDo(t, s, "GET", tc.path, nil, nil)
		if resp.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("%s: got %d %q, want %d %q", tc.path, resp.StatusCode, b, tc.status, tc.body)
		}
		if resp.Header.Get("X-Second") != "2" || resp.Header.Get("X-First") != "" {
			t.Errorf("%s: headers %v, want the second call's (X-Second) only", tc.path, resp.Header)
		}
	}
}

// TestWSGIStartResponseExcInfoAfterSent: once the head went out, start_response with
// exc_info re-raises: the connection is cut mid-body, the log has the traceback, and the
// server goes on serving.
func TestWSGIStartResponseExcInfoAfterSent(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, route := range []string{"/sr/after-write", "/sr/after-yield"} {
		mark := "reraised-" + strings.TrimPrefix(route, "/sr/")
		off := len(s.Log())
		raw := s.Raw("GET " + route + "?mark=" + mark + " HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body, err := wsgiParse(t, raw, "GET")
		if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "already sent\n") {
			t.Errorf("%s: got %d %q, want 200 and the part sent before the error", route, resp.StatusCode, wsgiShort(string(body)))
		}
		if err == nil {
			t.Errorf("%s: the response ended cleanly (%q); the connection must be cut", route, wsgiShort(raw))
		}
		if strings.Contains(raw, "must never be sent") {
			t.Errorf("%s: data after the re-raise reached the client", route)
		}
		if !wsgiWaitLogFrom(s, off, "ValueError: "+mark, 10*time.Second) || !strings.Contains(s.Log()[off:], "Traceback") {
			t.Errorf("%s: no traceback with %q in the log:\n%s", route, mark, s.Log()[off:])
		}
		wsgiPing(t, s)
	}
}

// TestWSGIStartResponseTwice: a second start_response without exc_info is an error (500).
func TestWSGIStartResponseTwice(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	off := len(s.Log())
	resp, b := wsgiDo(t, s, "GET", "/sr/twice", nil, nil)
	if resp.StatusCode != 500 {
		t.Errorf("start_response twice: %d %q, want 500", resp.StatusCode, b)
	}
	if strings.Contains(string(b), "must never be sent") {
		t.Errorf("the app's body was sent: %q", b)
	}
	if !wsgiWaitLogFrom(s, off, "Traceback", 10*time.Second) {
		t.Errorf("no traceback in the log:\n%s", s.Log()[off:])
	}
	wsgiPing(t, s)
}

// TestWSGIWriteCallable: bytes given to the legacy write() and those returned arrive in
// order, with a list, an empty list, a generator, and the app's own Content-Length.
func TestWSGIWriteCallable(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, mode := range []string{"list", "empty", "gen", "cl"} {
		resp, b := wsgiDo(t, s, "GET", "/write?mode="+mode, nil, nil)
		if resp.StatusCode != 200 || string(b) != "one,two,three,four" {
			t.Errorf("write() then %s: %d %q, want 200 %q", mode, resp.StatusCode, b, "one,two,three,four")
		}
		if mode == "cl" && resp.ContentLength != 18 {
			t.Errorf("write() with the app's Content-Length: framed as %d", resp.ContentLength)
		}
	}
}

type wsgiCloseState struct {
	Closed   bool
	Produced int
}

func wsgiClosed(t *testing.T, s *Server, token string) wsgiCloseState {
	t.Helper()
	var st wsgiCloseState
	wsgiJSON(t, s, "GET", "/closed?token="+token, nil, &st)
	return st
}

// TestWSGICloseCalled: the iterable's close() runs after a normal response (an iterable
// object and a list subclass) and after the iterator raised mid-way.
func TestWSGICloseCalled(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t)
	for _, mode := range []string{"normal", "list"} {
		token := "close-" + mode
		resp, b := wsgiDo(t, s, "GET", "/iter?mode="+mode+"&token="+token, nil, nil)
		if resp.StatusCode != 200 || string(b) != "one\ntwo\nthree\n" {
			t.Errorf("%s: %d %q", mode, resp.StatusCode, b)
		}
		if !eventually(5*time.Second, func() bool { return wsgiClosed(t, s, token).Closed }) {
			t.Errorf("%s: close() was not called", mode)
		}
	}
	raw := s.Raw("GET /iter?mode=raise&token=close-raise HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body, err := wsgiParse(t, raw, "GET")
	if resp.StatusCode != 200 || string(body) != strings.Repeat("one\n", wsgiStreamed) || err == nil {
		t.Errorf("iterator raising after one chunk: %d %q, body error %v; want 200, the chunk, then a cut", resp.StatusCode, wsgiShort(string(body)), err)
	}
	if !eventually(5*time.Second, func() bool { return wsgiClosed(t, s, "close-raise").Closed }) {
		t.Error("close() was not called after the iterator raised")
	}
	if !s.WaitLog("tracked iterable fails on purpose", 5*time.Second) {
		t.Errorf("the iterator's exception is not in the log:\n%s", s.Log())
	}
	wsgiPing(t, s)
}

// TestWSGICloseOnDisconnect: a client that goes away mid-stream makes the server stop
// iterating and call close(), long before the generator would have ended by itself.
func TestWSGICloseOnDisconnect(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t, "--threads", "2")
	c, br := wsgiRawConn(t, s, 10*time.Second)
	io.WriteString(c, "GET /iter?mode=slow&token=gone HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len("chunk 0\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "chunk 0\n" {
		t.Fatalf("first chunk: %q %v", first, err)
	}
	c.Close()
	var st wsgiCloseState
	if !eventually(15*time.Second, func() bool { st = wsgiClosed(t, s, "gone"); return st.Closed }) {
		t.Fatalf("close() not called within 15 s of the client leaving (%d chunks produced)", st.Produced)
	}
	if st.Produced >= 400 {
		t.Errorf("the generator ran to its end (%d chunks) although the client had gone", st.Produced)
	}
	wsgiPing(t, s)
}

// TestWSGIStreaming: a generator's first chunk reaches the client while the generator is
// still blocked: the test reads it, then releases the generator with another request, and
// the generator's next chunk says it was released (not timed out).
func TestWSGIStreaming(t *testing.T) {
	t.Parallel()
	s := wsgiStart(t, "--threads", "2")
	c, br := wsgiRawConn(t, s, 15*time.Second)
	io.WriteString(c, "GET /gate?token=stream HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len("first\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first\n" {
		t.Fatalf("first chunk: %q %v", first, err)
	}
	if r, b := wsgiDo(t, s, "GET", "/release?token=stream", nil, nil); r.StatusCode != 200 {
		t.Fatalf("release: %d %q", r.StatusCode, b)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "released\n" {
		t.Errorf("after the first chunk: %q %v; want %q (the first chunk came only after the generator gave up waiting?)", rest, err, "released\n")
	}
}

// TestWSGIConcurrency: with --threads 4, 20 concurrent requests all succeed and the app sees
// more than one (and at most 4) in flight at once; with --threads 1 never more than one.
func TestWSGIConcurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		threads  string
		wait     string
		min, max int
	}{
		{"4", "1", 2, 4},
		{"1", "0", 1, 1},
	} {
		t.Run("threads="+tc.threads, func(t *testing.T) {
			t.Parallel()
			s := wsgiStart(t, "--threads", tc.threads)
			var wg sync.WaitGroup
			errs := make(chan string, 20)
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := wsgiClient.Get(s.URL("/conc?wait=" + tc.wait))
					if err != nil {
						errs <- err.Error()
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- resp.Status + " " + string(b)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Errorf("concurrent request failed: %s", e)
			}
			var st struct{ Max, Count, Inflight int }
			wsgiJSON(t, s, "GET", "/conc-stats", nil, &st)
			if st.Count != 20 {
				t.Errorf("the app saw %d requests, want 20", st.Count)
			}
			if st.Max < tc.min || st.Max > tc.max {
				t.Errorf("--threads %s: at most %d requests were in the app at once; want %d..%d", tc.threads, st.Max, tc.min, tc.max)
			}
		})
	}
}
