package e2e

// uWSGI's RPC: uwsgi.register_rpc/rpc/call/rpc_list between uwsgo nodes, the exact bytes
// on the wire, a --master node with two workers, interop with real uWSGI nodes (CPython
// and Lua plugins), and nginx's RPC form (uwsgi_modifier1 173; uwsgi_modifier2 2).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// uwsgiTFunctions is what uwsgi_app.py registers, in order.
var uwsgiTFunctions = []string{"upper", "types", "count", "sizes", "pattern", "nothing", "pid", "boom"}

// TestUwsgiRPCPython calls functions between two uwsgo nodes from Python: node A serves
// them on a TCP and a UNIX --socket, node B's app calls them (and its own) through every
// form of uwsgi.rpc and uwsgi.call, and reports what came back.
func TestUwsgiRPCPython(t *testing.T) {
	t.Parallel()
	aTCP := freeAddr(t)
	aUnix := uwsgiTUnixPath(t, "a.sock")
	a := Start(t, "--socket", aTCP, "--socket", aUnix, "--pypy-wsgi-file", testdata("uwsgi_app.py"))
	b, _ := uwsgiTStart(t, "uwsgi_app.py")
	aPid, bPid := strconv.Itoa(a.Cmd.Process.Pid), strconv.Itoa(b.Cmd.Process.Pid)
	dead := freeAddr(t) // nothing listens there
	deadUnix := uwsgiTUnixPath(t, "nobody.sock")
	base := "http://" + b.Addr

	text := func(s string) func(t *testing.T, r uwsgiTResult) {
		return func(t *testing.T, r uwsgiTResult) {
			if r.Type != "bytes" || r.Text == nil || *r.Text != s {
				t.Errorf("got %v, want bytes %q", r, s)
			}
		}
	}
	pattern := func(n int) func(t *testing.T, r uwsgiTResult) {
		return func(t *testing.T, r uwsgiTResult) {
			if r.Type != "bytes" || r.Len != n || r.SHA256 != uwsgiTSHA(uwsgiTPattern(n)) {
				t.Errorf("got %v, want %d bytes of the pattern", r, n)
			}
		}
	}
	failure := func(substr string) func(t *testing.T, r uwsgiTResult) {
		return func(t *testing.T, r uwsgiTResult) {
			if !strings.HasPrefix(r.Error, "ValueError: ") || !strings.Contains(r.Error, substr) {
				t.Errorf("got %v, want a ValueError saying %q", r, substr)
			}
		}
	}
	none := func(logB, logA string) func(t *testing.T, r uwsgiTResult) {
		return func(t *testing.T, r uwsgiTResult) {
			if r.Type != "NoneType" || r.Error != "" {
				t.Errorf("got %v, want None", r)
			}
			if logB != "" && !b.WaitLog(logB, 5*time.Second) {
				t.Errorf("no %q in the calling node's log:\n%s", logB, b.Log())
			}
			if logA != "" && !a.WaitLog(logA, 5*time.Second) {
				t.Errorf("no %q in the called node's log:\n%s", logA, a.Log())
			}
		}
	}
	list := func(t *testing.T, r uwsgiTResult) {
		var names []string
		for _, it := range r.Items {
			if it[0] != "bytes" {
				t.Errorf("rpc_list() item %q is a %s, want bytes", it[1], it[0])
			}
			names = append(names, it[1])
		}
		if r.Type != "tuple" || strings.Join(names, ",") != strings.Join(uwsgiTFunctions, ",") {
			t.Errorf("rpc_list() = %v, want a tuple of %v", r, uwsgiTFunctions)
		}
	}
	// Each argument fits, the whole call does not: a ValueError, or None and a log line.
	tooBig := func(t *testing.T, r uwsgiTResult) {
		if strings.HasPrefix(r.Error, "ValueError: ") {
			return
		}
		if r.Type != "NoneType" || r.Error != "" {
			t.Errorf("got %v, want a ValueError or None", r)
		}
		if !b.WaitLog("uwsgi.rpc to "+aTCP+": the call is 65542 bytes, more than a uwsgi packet holds", 5*time.Second) {
			t.Errorf("no log line about the call's size:\n%s", b.Log())
		}
	}
	many := make([]string, 254)
	for i := range many {
		many[i] = "x"
	}

	for _, c := range []struct {
		name  string
		req   map[string]any
		check func(t *testing.T, r uwsgiTResult)
	}{
		{"tcp str args", map[string]any{"fn": "rpc", "node": aTCP, "name": "upper", "args": []string{"ab", "cd"}}, text("AB|CD")},
		{"tcp bytes args", map[string]any{"fn": "rpc", "node": aTCP, "name": "upper", "args": []string{"ab", "cd"}, "bytes": true}, text("AB|CD")},
		{"bytes node and name", map[string]any{"fn": "rpc", "node": aTCP, "node_bytes": true, "name": "upper", "name_bytes": true, "args": []string{"b"}}, text("B")},
		{"unix node", map[string]any{"fn": "rpc", "node": aUnix, "name": "upper", "args": []string{"via unix"}}, text("VIA UNIX")},
		{"no args", map[string]any{"fn": "rpc", "node": aTCP, "name": "count"}, text("0")},
		{"empty args", map[string]any{"fn": "rpc", "node": aTCP, "name": "sizes", "args": []string{"", "a", ""}}, text("0,1,0")},
		{"args arrive as bytes", map[string]any{"fn": "rpc", "node": aTCP, "name": "types", "args": []string{"s", "t"}}, text("bytes,bytes")},
		{"str result", map[string]any{"fn": "rpc", "node": aTCP, "name": "count", "args": []string{"1", "2", "3"}}, text("3")},
		// An empty result goes unanswered, as from uWSGI: the caller reads None.
		{"None result", map[string]any{"fn": "rpc", "node": aTCP, "name": "nothing"}, none("uwsgi.rpc to "+aTCP+": the node closed the connection without an answer", "")},
		{"remote pid", map[string]any{"fn": "rpc", "node": aTCP, "name": "pid"}, text(aPid)},
		{"local None node", map[string]any{"fn": "rpc", "node": nil, "name": "pid"}, text(bPid)},
		{"local empty node", map[string]any{"fn": "rpc", "node": "", "name": "pid"}, text(bPid)},
		{"local empty bytes node", map[string]any{"fn": "rpc", "node": "", "node_bytes": true, "name": "pid"}, text(bPid)},
		{"local args arrive as bytes", map[string]any{"fn": "rpc", "node": nil, "name": "types", "args": []string{"s"}}, text("bytes")},
		{"local None result", map[string]any{"fn": "rpc", "node": nil, "name": "nothing"}, text("")},
		{"call local", map[string]any{"fn": "call", "name": "pid"}, text(bPid)},
		{"call local with args", map[string]any{"fn": "call", "name": "upper", "args": []string{"q"}}, text("Q")},
		{"call name@tcp", map[string]any{"fn": "call", "name": "pid@" + aTCP}, text(aPid)},
		{"call name@unix", map[string]any{"fn": "call", "name": "upper@" + aUnix, "args": []string{"x", "y"}}, text("X|Y")},
		{"call name@ is local", map[string]any{"fn": "call", "name": "pid@"}, text(bPid)},
		{"call bytes spec", map[string]any{"fn": "call", "name": "pid@" + aTCP, "name_bytes": true}, text(aPid)},
		{"rpc_list", map[string]any{"fn": "list"}, list},
		{"result of 200 KB", map[string]any{"fn": "rpc", "node": aTCP, "name": "pattern", "args": []string{"200000"}}, pattern(200000)},
		{"result of 65535 bytes", map[string]any{"fn": "rpc", "node": aTCP, "name": "pattern", "args": []string{"65535"}}, pattern(65535)},
		{"result of 65536 bytes", map[string]any{"fn": "rpc", "node": aUnix, "name": "pattern", "args": []string{"65536"}}, pattern(65536)},
		{"local result of 200 KB", map[string]any{"fn": "rpc", "node": nil, "name": "pattern", "args": []string{"200000"}}, pattern(200000)},
		{"254 args", map[string]any{"fn": "rpc", "node": aTCP, "name": "count", "args": many}, text("254")},
		{"255 args", map[string]any{"fn": "rpc", "node": aTCP, "name": "count", "args": append(many, "x")}, failure("at most 254 arguments")},
		{"300 args local", map[string]any{"fn": "rpc", "node": nil, "name": "count", "args": []string{"x"}, "repeat": 300}, failure("at most 254 arguments")},
		{"255 args call", map[string]any{"fn": "call", "name": "count@" + aTCP, "args": append(many, "x")}, failure("at most 254 arguments")},
		{"arg of 60000 bytes", map[string]any{"fn": "rpc", "node": aTCP, "name": "sizes", "args": []string{strings.Repeat("a", 60000), "b"}}, text("60000,1")},
		{"arg of 65536 bytes", map[string]any{"fn": "rpc", "node": aTCP, "name": "sizes", "args": []string{strings.Repeat("a", 65536)}}, failure("at most 65535 bytes")},
		{"local arg of 65536 bytes", map[string]any{"fn": "rpc", "node": nil, "name": "sizes", "args": []string{strings.Repeat("a", 65536)}}, failure("at most 65535 bytes")},
		{"call too big for a packet", map[string]any{"fn": "rpc", "node": aTCP, "name": "sizes", "args": []string{strings.Repeat("a", 65530), "b"}}, tooBig},
		{"node speaking HTTP", map[string]any{"fn": "rpc", "node": a.Addr, "name": "upper", "args": []string{"x"}}, none("uwsgi.rpc to "+a.Addr+": the node answered with modifier1 72", "")},
		{"unreachable node", map[string]any{"fn": "rpc", "node": dead, "name": "upper", "args": []string{"x"}}, none("uwsgi.rpc to "+dead+": ", "")},
		{"missing UNIX socket", map[string]any{"fn": "rpc", "node": deadUnix, "name": "upper"}, none("uwsgi.rpc to "+deadUnix+": ", "")},
		{"unknown remote function", map[string]any{"fn": "call", "name": "nosuch@" + aTCP}, none("uwsgi.rpc to "+aTCP+": the node closed the connection without an answer", `RPC call of "nosuch": no such function registered`)},
		{"unknown local function", map[string]any{"fn": "rpc", "node": nil, "name": "nosuchlocal"}, none("no local function b'nosuchlocal'", "")},
		{"remote function raises", map[string]any{"fn": "rpc", "node": aTCP, "name": "boom"}, none("uwsgi.rpc to "+aTCP+": ", `RPC call of "boom" failed`)},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			c.check(t, uwsgiTAppCall(t, base, c.req))
		})
	}
	if !strings.Contains(a.Log(), "RuntimeError: boom on purpose") {
		t.Errorf("the called node did not log the RPC function's traceback:\n%s", a.Log())
	}
	// After all that, both nodes still serve.
	if r := uwsgiTAppCall(t, base, map[string]any{"fn": "call", "name": "upper@" + aTCP, "args": []string{"end"}}); r.Text == nil || *r.Text != "END" {
		t.Errorf("a last call: %v", r)
	}
}

// TestUwsgiRPCMaster: a --master node with two workers answers RPC calls from either
// worker (the function returns its pid; over many calls both workers' pids appear).
func TestUwsgiRPCMaster(t *testing.T) {
	t.Parallel()
	a, aSock := uwsgiTStart(t, "uwsgi_app.py", "--master", "--processes", "2")
	b, _ := uwsgiTStart(t, "uwsgi_app.py")
	workers := map[string]bool{}
	for _, m := range regexp.MustCompile(`worker \d+ \(pid (\d+)\) is ready`).FindAllStringSubmatch(a.Log(), -1) {
		workers[m[1]] = true
	}
	if len(workers) != 2 {
		t.Fatalf("expected two ready workers in the master's log:\n%s", a.Log())
	}
	resp, body := b.Get("/pids?node=" + aSock + "&n=500")
	var got struct{ Pids []string }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("/pids: %d %q", resp.StatusCode, body)
	}
	if len(got.Pids) != 2 || !workers[got.Pids[0]] || !workers[got.Pids[1]] {
		t.Errorf("pids seen over up to 500 calls: %v; the workers are %v\nmaster log:\n%s", got.Pids, uwsgiTSorted(workers), a.Log())
	}
	// And the raw protocol to the master's socket.
	raw, _, _ := uwsgiTExchange(t, aSock, uwsgiTCall("upper", "master"))
	if string(raw) != "\xad\x06\x00\x00MASTER" {
		t.Errorf("raw call to the master's socket: % x", raw)
	}
}

// TestUwsgiRPCRaw checks the exact bytes of replies to modifier 173/0 packets, over TCP
// and a UNIX socket: the small form, the boundary at 65535 bytes, the large form (modifier2
// 5 with a CONTENT_LENGTH vars block), and no reply at all for an unknown or failing
// function.
func TestUwsgiRPCRaw(t *testing.T) {
	t.Parallel()
	unix := uwsgiTUnixPath(t, "raw.sock")
	tcp := freeAddr(t)
	s := Start(t, "--socket", tcp, "--socket", unix, "--pypy-wsgi-file", testdata("uwsgi_app.py"))
	large := func(n int) string {
		l := strconv.Itoa(n)
		vars := string(uwsgiTVars("CONTENT_LENGTH", l))
		return string(uwsgiTPacket(173, 5, []byte(vars))) + string(uwsgiTPattern(n))
	}
	for _, sock := range []string{tcp, unix} {
		for _, c := range []struct {
			name  string
			items []string
			want  string
		}{
			{"upper", []string{"upper", "ab", "cd"}, "\xad\x05\x00\x00AB|CD"},
			{"binary args", []string{"sizes", "\x00\xff\xad", "", "z"}, "\xad\x05\x00\x003,0,1"},
			{"no args", []string{"count"}, "\xad\x01\x00\x000"},
			{"empty result (no reply, as from uWSGI)", []string{"nothing"}, ""},
			{"255 items", append([]string{"count"}, strings.Split(strings.Repeat("a", 254), "")...), "\xad\x03\x00\x00254"},
			{"65535 bytes", []string{"pattern", "65535"}, "\xad\xff\xff\x00" + string(uwsgiTPattern(65535))},
			{"65536 bytes", []string{"pattern", "65536"}, "\xad\x17\x00\x05\x0e\x00CONTENT_LENGTH\x05\x0065536" + string(uwsgiTPattern(65536))},
			{"200000 bytes", []string{"pattern", "200000"}, large(200000)},
			{"unknown function", []string{"nosuch", "x"}, ""},
			{"raising function", []string{"boom"}, ""},
		} {
			got, _, err := uwsgiTExchange(t, sock, uwsgiTCall(c.items...))
			if string(got) != c.want || err != nil {
				t.Errorf("%s on %s: %d bytes % x... (read error %v), want %d bytes % x...",
					c.name, sock, len(got), uwsgiTHead(got, 40), err, len(c.want), uwsgiTHead([]byte(c.want), 40))
			}
		}
	}
	// The reply can reach the client before its log line reaches the log: poll.
	unknown := func() int { return strings.Count(s.Log(), `RPC call of "nosuch": no such function registered`) }
	if !eventually(5*time.Second, func() bool { return unknown() >= 2 }) || unknown() != 2 {
		t.Errorf("%d log lines for the unknown function, want 2:\n%s", unknown(), s.Log())
	}
	// 256 items: malformed, closed without a reply.
	got, local, _ := uwsgiTExchange(t, tcp, uwsgiTCall(append([]string{"count"}, strings.Split(strings.Repeat("a", 255), "")...)...))
	if len(got) != 0 || !s.WaitLog(local+": malformed RPC call", 5*time.Second) {
		t.Errorf("256 items: answered % x; log:\n%s", uwsgiTHead(got, 40), s.Log())
	}
}

// TestUwsgiRPCInterop: real uWSGI 2.0 nodes and uwsgo call each other. A CPython node
// (python3 + rpc plugins) serves functions uwsgo calls, and its app calls uwsgo's; a Lua
// node serves functions uwsgo calls. The same call gets byte-identical replies from the
// CPython node and from uwsgo.
func TestUwsgiRPCInterop(t *testing.T) {
	t.Parallel()
	g, gSock := uwsgiTStart(t, "uwsgi_app.py")
	cSock, cHTTP, lSock := freeAddr(t), freeAddr(t), freeAddr(t)
	cpy := uwsgiTStartUWSGI(t, cSock, "--plugin", "python3,rpc", "--socket", cSock, "--http-socket", cHTTP,
		"--wsgi-file", testdata("uwsgi_cpython_node.py"), "--buffer-size", "65535")
	lua := uwsgiTStartUWSGI(t, lSock, "--plugin", "lua51,rpc", "--socket", lSock, "--lua-load", testdata("uwsgi_lua_node.lua"))
	base := "http://" + g.Addr
	logs := func() string {
		return "\nuwsgo:\n" + g.Log() + "\nuWSGI CPython:\n" + cpy.Log() + "\nuWSGI Lua:\n" + lua.Log()
	}

	// uwsgo -> uWSGI.
	for _, c := range []struct {
		name, node, fn string
		args           []string
		want           string
		wantLen        int
	}{
		{"cpython join", cSock, "cpy_join", []string{"a", "b", "c"}, "cpython:a+b+c", -1},
		{"cpython no args", cSock, "cpy_join", []string{}, "cpython:", -1},
		{"cpython 65535 bytes", cSock, "cpy_pattern", []string{"65535"}, "", 65535},
		{"cpython 200 KB", cSock, "cpy_pattern", []string{"200000"}, "", 200000},
		{"lua one arg", lSock, "luafn", []string{"x"}, "lua:x", -1},
		{"lua two args", lSock, "luacat", []string{"left", "right"}, "left/right", -1},
	} {
		r := uwsgiTAppCall(t, base, map[string]any{"fn": "rpc", "node": c.node, "name": c.fn, "args": c.args})
		switch {
		case c.wantLen >= 0 && (r.Type != "bytes" || r.Len != c.wantLen || r.SHA256 != uwsgiTSHA(uwsgiTPattern(c.wantLen))):
			t.Errorf("%s: %v, want %d bytes of the pattern%s", c.name, r, c.wantLen, logs())
		case c.wantLen < 0 && (r.Type != "bytes" || r.Text == nil || *r.Text != c.want):
			t.Errorf("%s: %v, want bytes %q%s", c.name, r, c.want, logs())
		}
	}
	r := uwsgiTAppCall(t, base, map[string]any{"fn": "call", "name": "nosuch@" + lSock})
	if r.Type != "NoneType" {
		t.Errorf("unknown function on the Lua node: %v", r)
	}

	// uWSGI (CPython app) -> uwsgo.
	cpyCall := func(name string, args ...string) (typ string, text *string) {
		t.Helper()
		q := "node=" + gSock + "&name=" + name
		for _, a := range args {
			q += "&arg=" + a
		}
		resp, err := http.Get("http://" + cHTTP + "/?" + q)
		if err != nil {
			t.Fatalf("uWSGI app: %v%s", err, logs())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct {
			Type string
			Text *string
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
			t.Fatalf("uWSGI app ?%s: %d %q%s", q, resp.StatusCode, b, logs())
		}
		return out.Type, out.Text
	}
	if typ, text := cpyCall("upper", "ab", "cd"); typ != "bytes" || text == nil || *text != "AB|CD" {
		t.Errorf("uWSGI calling uwsgo's upper: %s %v%s", typ, text, logs())
	}
	if typ, text := cpyCall("pid"); typ != "bytes" || text == nil || *text != strconv.Itoa(g.Cmd.Process.Pid) {
		t.Errorf("uWSGI calling uwsgo's pid: %s %v%s", typ, text, logs())
	}
	if typ, text := cpyCall("sizes", "abc", "de"); typ != "bytes" || text == nil || *text != "3,2" {
		t.Errorf("uWSGI calling uwsgo's sizes: %s %v%s", typ, text, logs())
	}
	if typ, _ := cpyCall("nosuch"); typ != "NoneType" {
		t.Errorf("uWSGI calling an unknown uwsgo function: %s, want NoneType", typ)
	}

	// The same packet to uWSGI's CPython node and to uwsgo: the same bytes back. (Not for
	// empty arguments, which uWSGI drops.)
	for _, items := range [][]string{
		{"upper", "ab", "cd"},
		{"upper", "x", "yz", "\x00\xff"},
		{"pattern", "65535"},
		{"pattern", "65536"},
		{"pattern", "200000"},
		{"nosuch", "x"},
	} {
		fromUWSGI, _, _ := uwsgiTExchange(t, cSock, uwsgiTCall(items...))
		fromUwsgo, _, _ := uwsgiTExchange(t, gSock, uwsgiTCall(items...))
		if string(fromUWSGI) != string(fromUwsgo) {
			t.Errorf("%q: uWSGI answered %d bytes % x..., uwsgo %d bytes % x...", items,
				len(fromUWSGI), uwsgiTHead(fromUWSGI, 40), len(fromUwsgo), uwsgiTHead(fromUwsgo, 40))
		}
	}
}

// TestUwsgiNginxRPC: nginx's RPC form (uwsgi_modifier1 173; uwsgi_modifier2 2) to uwsgo:
// GET /fn/a/b answers fn(a, b) as application/binary, an unknown function is a 404; the
// same location in front of a real uWSGI node answers the same.
func TestUwsgiNginxRPC(t *testing.T) {
	t.Parallel()
	_, gSock := uwsgiTStart(t, "uwsgi_app.py")
	cSock := freeAddr(t)
	uwsgiTStartUWSGI(t, cSock, "--plugin", "python3,rpc", "--socket", cSock, "--wsgi-file", testdata("uwsgi_cpython_node.py"))
	ng := uwsgiTStartNginx(t, fmt.Sprintf(`
		location ~ ^/rpc(/.*)$ {
			uwsgi_modifier1 173;
			uwsgi_modifier2 2;
			uwsgi_param REQUEST_METHOD $request_method;
			uwsgi_param PATH_INFO $1;
			uwsgi_pass %s;
		}
		location ~ ^/uwsgi-rpc(/.*)$ {
			uwsgi_modifier1 173;
			uwsgi_modifier2 2;
			uwsgi_param REQUEST_METHOD $request_method;
			uwsgi_param PATH_INFO $1;
			uwsgi_pass %s;
		}`, gSock, cSock))
	type answer struct {
		status      int
		contentType string
		body        string
	}
	get := func(path string) answer {
		t.Helper()
		resp, b := uwsgiTDo(t, "GET", ng.URL(path), nil, nil)
		return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
	}
	for _, c := range []struct {
		path string
		want answer
	}{
		{"/upper/hello/world", answer{200, "application/binary", "HELLO|WORLD"}},
		{"/upper/one", answer{200, "application/binary", "ONE"}},
		{"/count", answer{200, "application/binary", "0"}},
		{"/sizes/abc/de/f", answer{200, "application/binary", "3,2,1"}},
		{"/pattern/100000", answer{200, "application/binary", string(uwsgiTPattern(100000))}},
		{"/upper/a%20b/c", answer{200, "application/binary", "A B|C"}},
		// nginx has decoded the path already ($1 comes from $uri): no second decoding.
		{"/upper/100%25/%2541", answer{200, "application/binary", "100%|%41"}},
		{"/nosuch/a/b", answer{404, "", ""}},
		{"/", answer{400, "", ""}},
	} {
		got := get("/rpc" + c.path)
		if got.status != c.want.status || (c.want.status == 200 && (got.contentType != c.want.contentType || got.body != c.want.body)) {
			t.Errorf("GET /rpc%s: %d %q %q, want %d %q %q\nnginx error.log:\n%s", c.path, got.status, got.contentType,
				uwsgiTHead([]byte(got.body), 60), c.want.status, c.want.contentType, uwsgiTHead([]byte(c.want.body), 60), ng.ErrorLog())
		}
	}
	// The real uWSGI answers the same requests the same way (cpy_join stands for upper).
	for _, c := range []struct {
		path string
		want answer
	}{
		{"/cpy_join/a/b", answer{200, "application/binary", "cpython:a+b"}},
		{"/cpy_join/100%25/%2541", answer{200, "application/binary", "cpython:100%+%41"}},
		{"/nosuch/a", answer{404, "", ""}},
	} {
		u := get("/uwsgi-rpc" + c.path)
		if u.status != c.want.status || (c.want.status == 200 && u != c.want) {
			t.Errorf("real uWSGI, GET %s: %d %q %q, want %v", c.path, u.status, u.contentType, u.body, c.want)
		}
	}
}

// uwsgiTSorted is a sorted copy, for stable messages.
func uwsgiTSorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
