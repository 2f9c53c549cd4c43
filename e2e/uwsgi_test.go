package e2e

// The uwsgi protocol on --socket: behind a real nginx (uwsgi_pass over TCP and UNIX
// sockets), malformed and oversized packets, refused modifiers, and the warning for a
// socket reachable from every interface. RPC is in uwsgi_rpc_test.go.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// uwsgiTEnv is what testdata/uwsgi_app.py's /env route answers.
type uwsgiTEnv struct {
	Environ map[string]string `json:"environ"`
	Len     int               `json:"len"`
	SHA256  string            `json:"sha256"`
}

func uwsgiTSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// uwsgiTDo sends one request through nginx and returns the response with its body.
func uwsgiTDo(t *testing.T, method, url string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, b
}

// TestUwsgiNginx puts a real nginx in front of uwsgo's --socket, over TCP and over a
// UNIX socket: query strings, small and 3 MiB bodies (checked by sha256 in the app),
// request headers as HTTP_* without HTTP_CONTENT_TYPE/HTTP_CONTENT_LENGTH, the stock
// uwsgi_params SCRIPT_NAME/PATH_INFO and an explicit SCRIPT_NAME location, a streamed
// response, and the app's response headers.
func TestUwsgiNginx(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"tcp", "unix"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			sock := freeAddr(t)
			if transport == "unix" {
				sock = uwsgiTUnixPath(t, "uwsgo.sock")
			}
			s := Start(t, "--socket", sock, "--pypy-wsgi-file", testdata("uwsgi_app.py"))
			if !strings.Contains(s.Log(), "uwsgi protocol on "+sock) {
				t.Errorf("no \"uwsgi protocol on %s\" in the log:\n%s", sock, s.Log())
			}
			pass := uwsgiTPass(sock)
			ng := uwsgiTStartNginx(t, fmt.Sprintf(`
		location / {
			include /etc/nginx/uwsgi_params;
			uwsgi_pass %[1]s;
		}
		location ~ ^/mnt(/.*)?$ {
			%[2]s
			uwsgi_param SCRIPT_NAME /mnt;
			uwsgi_param PATH_INFO $1;
			uwsgi_pass %[1]s;
		}`, pass, uwsgiTParams))
			uwsgiTNginxChecks(t, s, ng)
		})
	}
}

func uwsgiTNginxChecks(t *testing.T, s *Server, ng *uwsgiTNginx) {
	env := func(resp *http.Response, b []byte) uwsgiTEnv {
		t.Helper()
		var e uwsgiTEnv
		if resp.StatusCode != 200 || json.Unmarshal(b, &e) != nil {
			t.Fatalf("%s %s: %d %q\nuwsgo log:\n%s\nnginx error.log:\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, uwsgiTHead(b, 500), s.Log(), ng.ErrorLog())
		}
		return e
	}
	want := func(what string, e uwsgiTEnv, vars map[string]string) {
		t.Helper()
		for k, v := range vars {
			got, ok := e.Environ[k]
			switch {
			case v == "<absent>" && ok:
				t.Errorf("%s: environ has %s=%q, want no such key", what, k, got)
			case v != "<absent>" && (!ok || got != v):
				t.Errorf("%s: environ[%s] = %q (present: %v), want %q", what, k, got, ok, v)
			}
		}
	}
	_, port, _ := strings.Cut(ng.Addr, ":")

	// GET with a query string, an encoded path and headers of all kinds.
	resp, b := uwsgiTDo(t, "GET", ng.URL("/env/x%20y/z?q=1&r=%20s+t&q=2"), nil, map[string]string{
		"X-Custom-Header": "hello there", "Accept": "text/x-test", "Cookie": "c=1; d=2", "User-Agent": "uwsgo-e2e/1",
		"X-Dup": "one",
	})
	e := env(resp, b)
	want("GET", e, map[string]string{
		"REQUEST_METHOD": "GET", "QUERY_STRING": "q=1&r=%20s+t&q=2", "REQUEST_URI": "/env/x%20y/z?q=1&r=%20s+t&q=2",
		"PATH_INFO": "/env/x y/z", "SCRIPT_NAME": "", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_PORT": port,
		"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", "HTTP_X_CUSTOM_HEADER": "hello there",
		"HTTP_ACCEPT": "text/x-test", "HTTP_COOKIE": "c=1; d=2", "HTTP_USER_AGENT": "uwsgo-e2e/1", "HTTP_X_DUP": "one",
		"wsgi.url_scheme": "http", "HTTP_CONTENT_TYPE": "<absent>", "HTTP_CONTENT_LENGTH": "<absent>",
	})
	if e.Len != 0 {
		t.Errorf("GET: the app read %d body bytes", e.Len)
	}
	if resp.Header.Get("X-App") != "uwsgi_app" || strings.Join(resp.Header.Values("Set-Cookie"), ",") != "a=1; Path=/,b=2; Path=/" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET: response headers did not pass through nginx: %v", resp.Header)
	}

	// POST with a small body.
	small := []byte("name=uwsgo&lang=go+pypy")
	resp, b = uwsgiTDo(t, "POST", ng.URL("/env/form"), small, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	e = env(resp, b)
	want("small POST", e, map[string]string{
		"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": fmt.Sprint(len(small)),
		"HTTP_CONTENT_TYPE": "<absent>", "HTTP_CONTENT_LENGTH": "<absent>", "PATH_INFO": "/env/form", "QUERY_STRING": "",
	})
	if e.Len != len(small) || e.SHA256 != uwsgiTSHA(small) {
		t.Errorf("small POST: the app read %d bytes (sha %s), want %d", e.Len, e.SHA256, len(small))
	}

	// POST with 3 MiB: nginx buffers it to a file, uwsgo spills it past --post-buffering.
	large := make([]byte, 3<<20)
	rand.New(rand.NewSource(3)).Read(large)
	resp, b = uwsgiTDo(t, "POST", ng.URL("/env/upload?big=1"), large, map[string]string{"Content-Type": "application/octet-stream"})
	e = env(resp, b)
	want("3 MiB POST", e, map[string]string{
		"CONTENT_LENGTH": "3145728", "CONTENT_TYPE": "application/octet-stream", "QUERY_STRING": "big=1",
		"HTTP_CONTENT_TYPE": "<absent>", "HTTP_CONTENT_LENGTH": "<absent>",
	})
	if e.Len != len(large) || e.SHA256 != uwsgiTSHA(large) {
		t.Errorf("3 MiB POST: the app read %d bytes (sha %s), want %d (sha %s)", e.Len, e.SHA256, len(large), uwsgiTSHA(large))
	}

	// A chunked upload: nginx buffers it and sends its length.
	req, _ := http.NewRequest("POST", ng.URL("/env/chunked"), io.MultiReader(bytes.NewReader(large[:100_000]), strings.NewReader("end")))
	req.Header.Set("Content-Type", "application/octet-stream")
	if cresp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req); err != nil {
		t.Errorf("chunked POST: %v", err)
	} else {
		cb, _ := io.ReadAll(cresp.Body)
		cresp.Body.Close()
		e = env(cresp, cb)
		sent := append(append([]byte{}, large[:100_000]...), "end"...)
		want("chunked POST", e, map[string]string{"CONTENT_LENGTH": "100003", "HTTP_CONTENT_LENGTH": "<absent>", "HTTP_TRANSFER_ENCODING": "chunked"})
		if e.Len != len(sent) || e.SHA256 != uwsgiTSHA(sent) {
			t.Errorf("chunked POST: the app read %d bytes (sha %s), want %d", e.Len, e.SHA256, len(sent))
		}
	}

	// A location that sets SCRIPT_NAME and PATH_INFO itself.
	for path, pi := range map[string]string{"/mnt/sub/path?z=9": "/sub/path", "/mnt": ""} {
		resp, b = uwsgiTDo(t, "GET", ng.URL(path), nil, nil)
		e = env(resp, b)
		q := ""
		if strings.Contains(path, "?") {
			q = "z=9"
		}
		want("GET "+path, e, map[string]string{"SCRIPT_NAME": "/mnt", "PATH_INFO": pi, "QUERY_STRING": q, "REQUEST_URI": path})
	}

	// A generator response arrives whole, with its headers.
	const chunks = 300
	resp, b = uwsgiTDo(t, "GET", ng.URL("/stream?n=300"), nil, nil)
	var expect bytes.Buffer
	for i := 0; i < chunks; i++ {
		fmt.Fprintf(&expect, "%06d:%s\n", i, strings.Repeat("s", 993))
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Streamed") != "yes" || !bytes.Equal(b, expect.Bytes()) {
		t.Errorf("streamed response: %d, headers %v, %d bytes (want %d): starts %q, ends %q",
			resp.StatusCode, resp.Header, len(b), expect.Len(), uwsgiTHead(b, 80), b[max(0, len(b)-40):])
	}

	if strings.Contains(s.Log(), "Traceback") {
		t.Errorf("uwsgo logged a traceback:\n%s", s.Log())
	}
}

// TestUwsgiNginxValidator runs an app wrapped in wsgiref.validate (warnings made errors)
// behind nginx: GET and POST pass, and uwsgo's log holds no AssertionError or warning.
func TestUwsgiNginxValidator(t *testing.T) {
	t.Parallel()
	s, sock := uwsgiTStart(t, "uwsgi_validated.py")
	ng := uwsgiTStartNginx(t, fmt.Sprintf(`
		location / {
			include /etc/nginx/uwsgi_params;
			uwsgi_pass %s;
		}`, sock))
	type answer struct {
		Method, Path, Script, Query, SHA256 string
		Len                                 int
	}
	body := bytes.Repeat([]byte("validated body\n"), 10_000)
	for _, c := range []struct {
		method, path string
		body         []byte
		want         answer
	}{
		{"GET", "/v/hello?a=1&b=2", nil, answer{Method: "GET", Path: "/v/hello", Query: "a=1&b=2", SHA256: uwsgiTSHA(nil)}},
		{"GET", "/", nil, answer{Method: "GET", Path: "/", SHA256: uwsgiTSHA(nil)}},
		{"POST", "/v/digest", body, answer{Method: "POST", Path: "/v/digest", SHA256: uwsgiTSHA(body), Len: len(body)}},
		{"POST", "/v/empty", []byte{}, answer{Method: "POST", Path: "/v/empty", SHA256: uwsgiTSHA(nil)}},
	} {
		resp, b := uwsgiTDo(t, c.method, ng.URL(c.path), c.body, map[string]string{"Content-Type": "text/plain"})
		var got answer
		if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil || got != c.want {
			t.Errorf("%s %s: %d %q, want %+v", c.method, c.path, resp.StatusCode, uwsgiTHead(b, 300), c.want)
		}
	}
	for _, bad := range []string{"AssertionError", "Warning", "Traceback"} {
		if strings.Contains(s.Log(), bad) {
			t.Errorf("uwsgo's log has %q: the validator objected to something:\n%s", bad, s.Log())
		}
	}
}

// TestUwsgiBufferSize: a packet larger than --buffer-size is logged and its connection
// closed without an answer, and the server goes on serving.
func TestUwsgiBufferSize(t *testing.T) {
	t.Parallel()
	s, sock := uwsgiTStart(t, "uwsgi_app.py", "--buffer-size", "1024")
	request := func(pad int) []byte {
		return uwsgiTPacket(0, 0, uwsgiTVars("REQUEST_METHOD", "GET", "REQUEST_URI", "/env", "PATH_INFO", "/env",
			"SERVER_PROTOCOL", "HTTP/1.0", "HTTP_X_PAD", strings.Repeat("p", pad)))
	}
	for _, c := range []struct {
		name   string
		packet []byte
	}{
		{"request of 2000 bytes", request(2000)},
		{"request of 1025 bytes", request(1025 - len(request(0)) + 4)},
		{"RPC call of 5000 bytes", uwsgiTCall("sizes", strings.Repeat("a", 5000))},
		{"header only, size 65535", []byte{0, 0xff, 0xff, 0}},
	} {
		size := int(c.packet[1]) | int(c.packet[2])<<8
		got, local, _ := uwsgiTExchange(t, sock, c.packet)
		if len(got) != 0 {
			t.Errorf("%s: answered %q, want the connection closed", c.name, uwsgiTHead(got, 100))
		}
		line := fmt.Sprintf("%s: uwsgi packet of %d bytes is larger than --buffer-size 1024", local, size)
		if !s.WaitLog(line, 5*time.Second) {
			t.Errorf("%s: no %q in the log:\n%s", c.name, line, s.Log())
		}
	}
	// Just under the limit is served, and so is everything after.
	got, _, _ := uwsgiTExchange(t, sock, request(1000-len(request(0))))
	if !bytes.HasPrefix(got, []byte("HTTP/1.")) || !bytes.Contains(got, []byte(`"HTTP_X_PAD": "ppp`)) {
		t.Errorf("a request packet within --buffer-size: %q", uwsgiTHead(got, 300))
	}
	got, _, _ = uwsgiTExchange(t, sock, uwsgiTCall("upper", "still", "here"))
	if string(got) != "\xad\x0a\x00\x00STILL|HERE" {
		t.Errorf("RPC after the refusals: % x", got)
	}

	// Behind nginx: a request whose head does not fit is a 502, the next one is served.
	ng := uwsgiTStartNginx(t, fmt.Sprintf(`
		location / {
			include /etc/nginx/uwsgi_params;
			uwsgi_pass %s;
		}`, sock))
	before := strings.Count(s.Log(), "is larger than --buffer-size 1024")
	resp, b := uwsgiTDo(t, "GET", ng.URL("/env/big"), nil, map[string]string{"X-Big": strings.Repeat("b", 2000)})
	if resp.StatusCode != 502 {
		t.Errorf("a 2000-byte header through nginx: %d %q, want 502", resp.StatusCode, uwsgiTHead(b, 200))
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(s.Log(), "is larger than --buffer-size 1024") == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Count(s.Log(), "is larger than --buffer-size 1024") == before {
		t.Errorf("no log line for nginx's oversized packet:\n%s", s.Log())
	}
	if resp, b := uwsgiTDo(t, "GET", ng.URL("/env/small"), nil, nil); resp.StatusCode != 200 {
		t.Errorf("a small request through nginx after the refusal: %d %q", resp.StatusCode, uwsgiTHead(b, 200))
	}
	if s.Exited(0) != -1 {
		t.Errorf("uwsgo exited:\n%s", s.Log())
	}
}

// TestUwsgiMalformed sends broken packets and modifiers uwsgo does not serve: each
// connection is closed without an answer, a log line names the peer and the reason, and
// the server keeps serving (over the uwsgi socket and HTTP) after each.
func TestUwsgiMalformed(t *testing.T) {
	t.Parallel()
	s, sock := uwsgiTStart(t, "uwsgi_app.py")
	random := make([]byte, 300)
	rand.New(rand.NewSource(42)).Read(random)
	random[0] = 0x5a // a modifier uWSGI has nothing for either, with a size that fits
	random[1], random[2] = byte(len(random)-4), byte((len(random)-4)>>8)
	post := func(cl string, body string) []byte {
		return append(uwsgiTPacket(0, 0, uwsgiTVars("REQUEST_METHOD", "POST", "REQUEST_URI", "/env", "PATH_INFO", "/env",
			"CONTENT_LENGTH", cl, "SERVER_PROTOCOL", "HTTP/1.0")), body...)
	}
	psgi := uwsgiTGet("/env") // a good request for another language's plugin
	psgi[0] = 5
	overrun := uwsgiTVars("REQUEST_METHOD", "GET", "PATH_INFO", "/env")
	overrun = append(overrun, 10, 0, 'K', 'E', 'Y', 0xff, 0x7f, 'v') // key length 10, 5 bytes follow
	for _, c := range []struct {
		name string
		data []byte
		log  string // what the log line says after "<peer>: "
	}{
		{"truncated header", []byte{0, 0x10}, "uwsgi packet"},
		{"packet cut short", append([]byte{0, 100, 0, 0}, uwsgiTVars("REQUEST_METHOD", "GET")...), "uwsgi packet cut short"},
		{"vars lengths overrun", uwsgiTPacket(0, 0, overrun), "malformed uwsgi request"},
		{"CONTENT_LENGTH garbage", post("12abc", "body"), "malformed uwsgi request"},
		{"CONTENT_LENGTH negative", post("-5", ""), "malformed uwsgi request"},
		{"body cut short", post("100", "only ten b"), "uwsgi request body"},
		{"zero-length request", []byte{0, 0, 0, 0}, "malformed uwsgi request"},
		{"no REQUEST_METHOD", uwsgiTPacket(0, 0, uwsgiTVars("PATH_INFO", "/env")), "malformed uwsgi request"},
		{"zero-length RPC", []byte{173, 0, 0, 0}, "malformed RPC call"},
		{"RPC items overrun", uwsgiTPacket(173, 0, []byte{5, 0, 'u', 'p'}), "malformed RPC call"},
		{"random bytes", random, fmt.Sprintf("uwsgi packet with modifier1 90, modifier2 %d refused", random[3])},
		{"modifier 22", uwsgiTPacket(22, 0, []byte("print('pwned')")), "uwsgi packet with modifier1 22, modifier2 0 refused"},
		{"modifier 111", uwsgiTPacket(111, 0, uwsgiTVars("cmd", "reload")), "uwsgi packet with modifier1 111, modifier2 0 refused"},
		{"modifier 173/1", uwsgiTPacket(173, 1, uwsgiTItems("upper", "x")), "uwsgi packet with modifier1 173, modifier2 1 refused"},
		{"modifier 5 (PSGI)", psgi, "uwsgi packet with modifier1 5, modifier2 0 refused"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			got, local, err := uwsgiTExchange(t, sock, c.data)
			if len(got) != 0 {
				t.Errorf("answered %q (%v), want the connection closed without an answer", uwsgiTHead(got, 200), err)
			}
			if !s.WaitLog(local+": "+c.log, 5*time.Second) {
				t.Errorf("no log line %q for %s; the log:\n%s", local+": "+c.log, c.name, s.Log())
			}
			got, _, _ = uwsgiTExchange(t, sock, uwsgiTGet("/env/after"))
			if !bytes.HasPrefix(got, []byte("HTTP/1.")) || !bytes.Contains(got, []byte(`"PATH_INFO": "/env/after"`)) {
				t.Errorf("the next request on the uwsgi socket: %q", uwsgiTHead(got, 300))
			}
		})
	}
	if resp, _ := s.Get("/env/http"); resp.StatusCode != 200 {
		t.Errorf("HTTP after the malformed packets: %d", resp.StatusCode)
	}
	if strings.Contains(s.Log(), "panic") || s.Exited(0) != -1 {
		t.Errorf("uwsgo panicked or exited:\n%s", s.Log())
	}
}

// TestUwsgiAllInterfacesWarning: a --socket bound to every interface logs a WARNING that
// says so; one bound to 127.0.0.1 or a UNIX socket does not. The short option -s and the
// alias --uwsgi-socket bind the same way.
func TestUwsgiAllInterfacesWarning(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, option, addr string
		warn               bool
	}{
		{"port only", "--socket", ":", true},
		{"0.0.0.0", "--socket", "0.0.0.0:", true},
		{"loopback", "--socket", "127.0.0.1:", false},
		{"alias loopback", "--uwsgi-socket", "127.0.0.1:", false},
		{"short all", "-s", ":", true},
		{"unix", "--socket", "unix", false},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			addr := c.addr
			switch addr {
			case "unix":
				addr = uwsgiTUnixPath(t, "w.sock")
			default:
				_, port, _ := strings.Cut(freeAddr(t), ":")
				addr += port
			}
			s := Start(t, c.option, addr, "--pypy-wsgi-file", testdata("uwsgi_app.py"))
			var warning string
			for _, line := range strings.Split(s.Log(), "\n") {
				if strings.Contains(line, "WARNING") && strings.Contains(line, "uwsgi") {
					warning = line
				}
			}
			_, port, _ := strings.Cut(addr, ":")
			switch {
			case c.warn && (warning == "" || !strings.Contains(warning, "every network interface") || !strings.Contains(warning, ":"+port)):
				t.Errorf("--socket %s: no WARNING naming port %s and every network interface; the log:\n%s", addr, port, s.Log())
			case !c.warn && warning != "":
				t.Errorf("--socket %s: unexpected warning %q", addr, warning)
			}
			// Whatever the option's spelling, the socket speaks uwsgi.
			dial := addr
			if strings.HasPrefix(dial, ":") || strings.HasPrefix(dial, "0.0.0.0:") {
				dial = "127.0.0.1:" + port
			}
			if got, _, _ := uwsgiTExchange(t, dial, uwsgiTCall("upper", "ok")); string(got) != "\xad\x02\x00\x00OK" {
				t.Errorf("RPC on %s %s: % x", c.option, addr, got)
			}
		})
	}
}

// TestUwsgiStreamFraming: a streamed (generator) response on --socket is delimited by
// the end of the connection, as uWSGI does: nginx's uwsgi module passes the upstream
// body through as it is, so chunked framing would end up inside the client's body.
// The request says HTTP/1.1, as nginx's does.
func TestUwsgiStreamFraming(t *testing.T) {
	t.Parallel()
	_, sock := uwsgiTStart(t, "uwsgi_app.py")
	for _, proto := range []string{"HTTP/1.1", "HTTP/1.0"} {
		packet := uwsgiTPacket(0, 0, uwsgiTVars("REQUEST_METHOD", "GET", "REQUEST_URI", "/stream?n=5", "PATH_INFO", "/stream",
			"QUERY_STRING", "n=5", "SERVER_PROTOCOL", proto, "SERVER_NAME", "localhost", "SERVER_PORT", "80"))
		got, _, err := uwsgiTExchange(t, sock, packet)
		head, body, ok := bytes.Cut(got, []byte("\r\n\r\n"))
		var want bytes.Buffer
		for i := 0; i < 5; i++ {
			fmt.Fprintf(&want, "%06d:%s\n", i, strings.Repeat("s", 993))
		}
		if !ok || err != nil || bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding")) || !bytes.Equal(body, want.Bytes()) {
			t.Errorf("%s streamed response on --socket (%v): head %q, body of %d bytes (want %d) starting %q",
				proto, err, head, len(body), want.Len(), uwsgiTHead(body, 40))
		}
	}
}

// TestUwsgiAccessLogClient: behind a proxy the client is the packet's REMOTE_ADDR (what
// the app sees, and what uWSGI logs), not the proxy's end of the connection — which a
// UNIX socket does not even have.
func TestUwsgiAccessLogClient(t *testing.T) {
	t.Parallel()
	sock := uwsgiTUnixPath(t, "log.sock")
	s := Start(t, "--socket", sock, "--pypy-wsgi-file", testdata("uwsgi_app.py"))
	packet := uwsgiTPacket(0, 0, uwsgiTVars("REQUEST_METHOD", "GET", "REQUEST_URI", "/env/logged", "PATH_INFO", "/env/logged",
		"SERVER_PROTOCOL", "HTTP/1.0", "REMOTE_ADDR", "203.0.113.9", "REMOTE_PORT", "40000"))
	got, _, _ := uwsgiTExchange(t, sock, packet)
	if !bytes.Contains(got, []byte(`"REMOTE_ADDR": "203.0.113.9"`)) {
		t.Fatalf("the app did not see the packet's REMOTE_ADDR: %q", uwsgiTHead(got, 400))
	}
	if !s.WaitLog("GET /env/logged =>", 5*time.Second) {
		t.Fatalf("no access log line for the request:\n%s", s.Log())
	}
	if !strings.Contains(s.Log(), "203.0.113.9 GET /env/logged =>") {
		t.Errorf("the access log does not name the client 203.0.113.9:\n%s", s.Log())
	}
}

// TestUwsgiURLScheme: behind nginx with TLS, uwsgi_params sends HTTPS=on (and no
// UWSGI_SCHEME); uWSGI's PyPy plugin (like its CPython one) then makes wsgi.url_scheme
// "https", and UWSGI_SCHEME, when sent, wins. Apps build absolute URLs and secure-cookie
// or redirect decisions from it.
func TestUwsgiURLScheme(t *testing.T) {
	t.Parallel()
	_, sock := uwsgiTStart(t, "uwsgi_app.py")
	for _, c := range []struct {
		vars []string
		want string
	}{
		{nil, "http"},
		{[]string{"HTTPS", "on"}, "https"},
		{[]string{"HTTPS", "1"}, "https"},
		{[]string{"HTTPS", "ON"}, "https"},
		{[]string{"HTTPS", "off"}, "http"},
		{[]string{"HTTPS", ""}, "http"},
		{[]string{"UWSGI_SCHEME", "https"}, "https"},
		{[]string{"HTTPS", "on", "UWSGI_SCHEME", "http"}, "http"},
	} {
		kv := append([]string{"REQUEST_METHOD", "GET", "REQUEST_URI", "/env", "PATH_INFO", "/env", "SERVER_PROTOCOL", "HTTP/1.0",
			"SERVER_NAME", "example.org", "SERVER_PORT", "443"}, c.vars...)
		got, _, _ := uwsgiTExchange(t, sock, uwsgiTPacket(0, 0, uwsgiTVars(kv...)))
		_, body, _ := bytes.Cut(got, []byte("\r\n\r\n"))
		var e uwsgiTEnv
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%q: %v in %q", c.vars, err, uwsgiTHead(got, 300))
		}
		if e.Environ["wsgi.url_scheme"] != c.want {
			t.Errorf("vars %q: wsgi.url_scheme %q, want %q", c.vars, e.Environ["wsgi.url_scheme"], c.want)
		}
	}
}

// TestUwsgiStalledPeer: a peer that sends part of a packet and stalls holds no Python
// thread (another request is answered meanwhile, with --threads 1), and --socket-timeout
// closes its connection with a log line.
func TestUwsgiStalledPeer(t *testing.T) {
	t.Parallel()
	s, sock := uwsgiTStart(t, "uwsgi_app.py", "--threads", "1", "--socket-timeout", "3")
	stalled, err := net.Dial("tcp", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	full := uwsgiTGet("/env/stalled")
	if _, err := stalled.Write(full[:len(full)/2]); err != nil {
		t.Fatal(err)
	}
	// The stalled connection is still open (the server has not answered or closed it)...
	stalled.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := stalled.Read(make([]byte, 1)); n != 0 || !uwsgiTIsTimeout(err) {
		t.Fatalf("the stalled connection ended at once (%d bytes, %v), long before --socket-timeout", n, err)
	}
	// ...while another request and an RPC call are answered.
	got, _, _ := uwsgiTExchange(t, sock, uwsgiTGet("/env/other"))
	if !bytes.Contains(got, []byte(`"PATH_INFO": "/env/other"`)) {
		t.Errorf("a request while another peer stalls: %q", uwsgiTHead(got, 200))
	}
	if got, _, _ := uwsgiTExchange(t, sock, uwsgiTCall("upper", "meanwhile")); string(got) != "\xad\x09\x00\x00MEANWHILE" {
		t.Errorf("an RPC call while another peer stalls: % x", got)
	}
	// Then the timeout closes it, unanswered.
	stalled.SetReadDeadline(time.Now().Add(20 * time.Second))
	rest, err := io.ReadAll(stalled)
	if len(rest) != 0 || uwsgiTIsTimeout(err) {
		t.Errorf("the stalled connection: %q, %v; want it closed without an answer", rest, err)
	}
	if !s.WaitLog(stalled.LocalAddr().String()+": uwsgi packet cut short", 5*time.Second) {
		t.Errorf("no log line for the stalled peer:\n%s", s.Log())
	}
}

func uwsgiTIsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
