package e2e

// Helpers of the uwsgi protocol tests (uwsgi_test.go, uwsgi_rpc_test.go): raw uwsgi
// packets, and the real peers — nginx (uwsgi_pass) and uWSGI 2.0 (CPython and Lua
// plugins with the rpc plugin) — each started by the test in its own temporary
// directory and process group.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uwsgiTPacket is a uwsgi packet: the four-byte header with len(body) as its size.
func uwsgiTPacket(mod1 byte, mod2 byte, body []byte) []byte {
	if len(body) > 0xffff {
		panic("uwsgiTPacket: body longer than 65535 bytes")
	}
	p := []byte{mod1, byte(len(body)), byte(len(body) >> 8), mod2}
	return append(p, body...)
}

// uwsgiTVars is a vars block from alternating keys and values.
func uwsgiTVars(kv ...string) []byte { return uwsgiTItems(kv...) }

// uwsgiTItems is an RPC item list: the function name, then its arguments, each after
// its little-endian u16 length (a vars block is the same encoding, in pairs).
func uwsgiTItems(items ...string) []byte {
	var b []byte
	for _, it := range items {
		b = append(b, byte(len(it)), byte(len(it)>>8))
		b = append(b, it...)
	}
	return b
}

// uwsgiTCall is an RPC call packet (modifier 173/0).
func uwsgiTCall(items ...string) []byte { return uwsgiTPacket(173, 0, uwsgiTItems(items...)) }

// uwsgiTGet is a minimal uwsgi request packet (modifier 0) for path on the uwsgo app.
func uwsgiTGet(path string) []byte {
	return uwsgiTPacket(0, 0, uwsgiTVars("REQUEST_METHOD", "GET", "REQUEST_URI", path, "PATH_INFO", path,
		"QUERY_STRING", "", "SERVER_PROTOCOL", "HTTP/1.0", "SERVER_NAME", "localhost", "SERVER_PORT", "80",
		"REMOTE_ADDR", "127.0.0.1"))
}

// uwsgiTNetwork is the network of a --socket address: a UNIX socket when it has a slash.
func uwsgiTNetwork(addr string) string {
	if strings.Contains(addr, "/") {
		return "unix"
	}
	return "tcp"
}

// uwsgiTExchange sends data on a new connection to a uwsgi socket, half-closes it, and
// returns what came back until the server closed, the connection's local address (how
// the server's log names the peer) and the read error (nil for a clean EOF).
func uwsgiTExchange(t *testing.T, addr string, data []byte) ([]byte, string, error) {
	t.Helper()
	c, err := net.Dial(uwsgiTNetwork(addr), addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// The server may close before it has read everything (a refused packet): a failed
	// write is then expected, and what matters is what it answered.
	c.Write(data)
	switch cc := c.(type) {
	case *net.TCPConn:
		cc.CloseWrite()
	case *net.UnixConn:
		cc.CloseWrite()
	}
	got, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: no answer and no close within 10 s (sent % x...)", addr, uwsgiTHead(data, 16))
	}
	return got, c.LocalAddr().String(), err
}

func uwsgiTHead(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// uwsgiTStart runs uwsgo on app (a file in testdata) with an HTTP socket (for readiness)
// and a uwsgi --socket on a free TCP port, which it returns.
func uwsgiTStart(t *testing.T, app string, extra ...string) (*Server, string) {
	t.Helper()
	sock := freeAddr(t)
	s := Start(t, append([]string{"--socket", sock, "--pypy-wsgi-file", testdata(app)}, extra...)...)
	return s, sock
}

// uwsgiTUnixPath is a fresh UNIX socket path in the test's temporary directory.
func uwsgiTUnixPath(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "uwsgo-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, name)
}

// uwsgiTPeer is the path of a peer's program (nginx, uWSGI), or the test fails saying how
// to install it.
func uwsgiTPeer(t *testing.T, bin string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s is needed by this test (scripts/install-deps installs it): %v", bin, err)
	}
	return path
}

// uwsgiTNginx is a running nginx.
type uwsgiTNginx struct {
	*Server
	Dir string
}

// ErrorLog is nginx's error log.
func (n *uwsgiTNginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "error.log"))
	return string(b)
}

// uwsgiTStartNginx runs nginx in the foreground with everything it writes in a temporary
// directory, one server listening on a free 127.0.0.1 port, and the given server-level
// configuration (locations).
func uwsgiTStartNginx(t *testing.T, locations string) *uwsgiTNginx {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot enter the test's 0700
		// temporary directories (temp files, UNIX sockets).
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
events { worker_connections 128; }
http {
	access_log off;
	client_body_temp_path %[2]s/client_body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	client_max_body_size 64m;
	server {
		listen %[3]s;
		server_name localhost;
%[4]s
	}
}
`, user, dir, addr, locations)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &uwsgiTNginx{Dir: dir}
	n.Server = Run(t, []string{"-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"),
		"-g", fmt.Sprintf("daemon off; pid %s/nginx.pid; error_log %s/error.log;", dir, dir)},
		OnHost(uwsgiTPeer(t, "nginx")), StopWith(syscall.SIGQUIT), ReadyLine(""), Serving(addr),
		Explain(func() string { return "error.log:\n" + n.ErrorLog() + "\nnginx.conf:\n" + conf }))
	n.Addr = addr
	return n
}

// uwsgiTParams is /etc/nginx/uwsgi_params without PATH_INFO, for locations that set
// SCRIPT_NAME and PATH_INFO themselves.
const uwsgiTParams = `
		uwsgi_param QUERY_STRING $query_string;
		uwsgi_param REQUEST_METHOD $request_method;
		uwsgi_param CONTENT_TYPE $content_type;
		uwsgi_param CONTENT_LENGTH $content_length;
		uwsgi_param REQUEST_URI $request_uri;
		uwsgi_param SERVER_PROTOCOL $server_protocol;
		uwsgi_param REQUEST_SCHEME $scheme;
		uwsgi_param REMOTE_ADDR $remote_addr;
		uwsgi_param REMOTE_PORT $remote_port;
		uwsgi_param SERVER_PORT $server_port;
		uwsgi_param SERVER_NAME $server_name;
`

// uwsgiTPass is how nginx names a uwsgo --socket address in uwsgi_pass.
func uwsgiTPass(addr string) string {
	if uwsgiTNetwork(addr) == "unix" {
		return "unix:" + addr
	}
	return addr
}

// uwsgiTStartUWSGI runs the real uWSGI with args and waits until its (only) worker is
// spawned and sock accepts connections. uWSGI 2.0 reloads on SIGTERM: it is stopped
// with SIGINT.
func uwsgiTStartUWSGI(t *testing.T, sock string, args ...string) *Server {
	t.Helper()
	return Run(t, args, OnHost(uwsgiTPeer(t, "uwsgi")), StopWith(syscall.SIGINT), ReadyLine("spawned uWSGI worker"), Serving(sock))
}

// uwsgiTResult is what testdata/uwsgi_app.py's /call says about a value.
type uwsgiTResult struct {
	Type   string      `json:"type"`
	Len    int         `json:"len"`
	SHA256 string      `json:"sha256"`
	Text   *string     `json:"text"`
	Items  [][2]string `json:"items"`
	Error  string      `json:"error"`
}

func (r uwsgiTResult) String() string {
	b, _ := json.Marshal(r)
	if len(b) > 300 {
		b = append(b[:300], "..."...)
	}
	return string(b)
}

// uwsgiTAppCall posts req to the /call route of uwsgi_app.py at base (http://host:port).
func uwsgiTAppCall(t *testing.T, base string, req map[string]any) uwsgiTResult {
	t.Helper()
	body, _ := json.Marshal(req)
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Post(base+"/call", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /call %s: %v", uwsgiTHead(body, 200), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r uwsgiTResult
	if resp.StatusCode != 200 || json.Unmarshal(b, &r) != nil {
		t.Fatalf("POST /call %s: %d %q", uwsgiTHead(body, 200), resp.StatusCode, uwsgiTHead(b, 500))
	}
	return r
}

// uwsgiTPattern is what the "pattern" RPC functions return for n.
func uwsgiTPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}
