package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ASGI: the rows of issue 18. The ASGI apps (apps/asgi_app.py, raw; apps/asgi_quart.py) run on uwsgo and on the
// ASGI servers users would otherwise pick: uvicorn and hypercorn on the same PyPy 3.9
// (pure-Python h11 and asyncio there: uvloop and httptools do not exist for PyPy), and
// uvicorn with uvloop and httptools on CPython, the usual fast setup. wrk measures them
// like the WSGI rows; the WebSocket echo is measured by this binary's own client
// (`bench -ws-echo`), which counts round trips.

var asgiBenchApps = []app{
	{Name: "asgi-hello", File: "asgi_app.py", Path: "/", Type: textPlain, Label: "ASGI: hello world (a raw ASGI app)", ASGI: true, Scale: true},
	{Name: "asgi-json", File: "asgi_quart.py", Path: "/json", Type: appJSON, Label: "ASGI: Quart, jsonify of 20 entries", ASGI: true, Expected: "asgi-json"},
	{Name: "asgi-sleep", File: "asgi_app.py", Path: "/sleep", Type: textPlain, Label: "ASGI: awaits asyncio.sleep(0.010), 256 connections", ASGI: true, Connections: 256},
}

var asgiServers = []server{
	{
		Name: "uvicorn-pypy", Label: "uvicorn (PyPy 3.9)", PyPy: true, Python: "pypy3.9", Runs: runsASGI,
		Command: func(h *harness, a app, workers, port int) []string {
			return uvicorn("/usr/bin/pypy3", h, a, workers, port, "asyncio", "h11")
		},
		Notes: "Debian's python3-uvicorn 0.17 run by `pypy3 -m uvicorn`: asyncio's loop and h11, uvloop and httptools having no PyPy build",
	},
	{
		Name: "hypercorn-pypy", Label: "hypercorn (PyPy 3.9)", PyPy: true, Python: "pypy3.9", Runs: runsASGI,
		Command: func(h *harness, a app, workers, port int) []string {
			return []string{"/usr/bin/pypy3", "-m", "hypercorn", "--bind", addr(port), "--workers", strconv.Itoa(workers),
				h.appFile(a) + ":app"}
		},
		Notes: "Debian's python3-hypercorn 0.13 run by `pypy3 -m hypercorn` (asyncio workers)",
	},
	{
		Name: "uvicorn-uvloop", Label: "uvicorn + uvloop + httptools (CPython)", Python: "cpython", Runs: runsASGI,
		Command: func(h *harness, a app, workers, port int) []string {
			return uvicorn("/usr/bin/python3", h, a, workers, port, "uvloop", "httptools")
		},
		Notes: "Debian's python3-uvicorn with python3-uvloop and python3-httptools on CPython 3.11: the usual fast ASGI setup",
	},
}

// kinds are the apps a server runs (server.Runs); zero means WSGI apps only.
type kinds uint8

const (
	runsWSGI kinds = 1 << iota
	runsASGI
)

func init() {
	apps = append(apps, asgiBenchApps...)
	servers = append(servers, asgiServers...)
}

// runs says whether srv runs app a.
func (srv server) runs(a app) bool {
	k := srv.Runs
	if k == 0 {
		k = runsWSGI
	}
	if a.ASGI {
		return k&runsASGI != 0
	}
	return k&runsWSGI != 0
}

func uvicorn(python string, h *harness, a app, workers, port int, loop, http string) []string {
	return []string{python, "-m", "uvicorn", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--workers", strconv.Itoa(workers), "--loop", loop, "--http", http, "--no-access-log", "--log-level", "warning",
		"--app-dir", filepath.Dir(h.appFile(a)), strings.TrimSuffix(a.File, ".py") + ":app"}
}

// asgiTargets are issue 18's targets, on PyPy 3.9 (1 worker, keep-alive).
func (h *harness) asgiTargets(sums map[key]*summary) [][3]string {
	var out [][3]string
	vs := func(app, peer string, want float64) {
		name := fmt.Sprintf("%s, 1 worker, keep-alive: uwsgo ≥ %.1f × %s req/s", app, want, serverLabel(peer))
		u, o := sums[key{"uwsgo", app, 1, "keepalive"}], sums[key{peer, app, 1, "keepalive"}]
		if u == nil || o == nil || o.rps == 0 {
			out = append(out, [3]string{name, nm, nm})
			return
		}
		got := u.rps / o.rps
		out = append(out, [3]string{name, fmt.Sprintf("%.2f × (%s / %s req/s)", got, fmtRPS(u.rps), fmtRPS(o.rps)) + wrkNote(u, o), verdict(got >= want)})
	}
	if slices.Contains(h.cfg.Apps, "asgi-hello") {
		vs("asgi-hello", "uvicorn-pypy", 3)
		vs("asgi-hello", "uvicorn-uvloop", 1.5)
	}
	if slices.Contains(h.cfg.Apps, "asgi-json") {
		vs("asgi-json", "uvicorn-pypy", 2)
	}
	return out
}

// WSResult is the WebSocket echo's round trips on one server.
type WSResult struct {
	Server     string
	Clients    int
	RoundTrips int64
	Seconds    float64
	PerSec     float64
	CPUPerRTUs float64 // the server's CPU time per round trip
	Command    string
	Err        string `json:",omitempty"`
}

const wsEchoClients = 64

// wsServers are the servers the WebSocket echo runs on.
func (h *harness) wsServers() []string {
	if !slices.Contains(h.cfg.Apps, "asgi-hello") {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(h.cfg.Servers), func(sn string) bool {
		s := serverByName(sn)
		return !s.runs(app{ASGI: true}) || s.InRoot
	})
}

// runWSEcho measures WebSocket round trips per second on every ASGI server: each is
// started with apps/asgi_app.py, warmed up, then driven by `bench -ws-echo` for -duration.
func (h *harness) runWSEcho(ctx context.Context) error {
	a := app{Name: "asgi-ws", File: "asgi_app.py", Path: "/", ASGI: true}
	for _, sn := range h.wsServers() {
		srv := serverByName(sn)
		r := WSResult{Server: sn, Clients: wsEchoClients}
		port, err := freePort()
		if err != nil {
			return err
		}
		logPath := filepath.Join(h.logs, fmt.Sprintf("%s-asgi-ws-%d.log", sn, port))
		p, err := startProc(sn, srv.Command(h, a, 1, port), h.env, h.root, h.serveList, logPath)
		if err == nil {
			_, err = waitReady(ctx, p, port, "/", 60*time.Second)
		}
		if err == nil && srv.PyPy {
			_, err = h.wsEcho(ctx, port, warmDur(h, &live{srv: srv}))
		}
		if err == nil {
			err = h.measureWS(ctx, p, port, &r)
		}
		if p != nil {
			p.stop(10 * time.Second)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			r.Err = err.Error()
			h.fail("%s WebSocket echo: %v", sn, err)
		} else {
			h.logf("ws echo: %-16s %10.0f round trips/s, %.1f µs server CPU each", sn, r.PerSec, r.CPUPerRTUs)
		}
		r.Command = fmt.Sprintf("bench -ws-echo 127.0.0.1:PORT -ws-n %d", wsEchoClients)
		h.res.WSEcho = append(h.res.WSEcho, r)
	}
	return nil
}

// measureWS runs the measured WebSocket echo against p, reading its CPU time around it.
func (h *harness) measureWS(ctx context.Context, p *proc, port int, r *WSResult) error {
	before, err := readTree(p.pid)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := h.wsEcho(ctx, port, h.cfg.Duration)
	if err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	r.RoundTrips, r.PerSec = n, float64(n)/r.Seconds
	after, err := readTree(p.pid)
	if err == nil && n > 0 {
		r.CPUPerRTUs = (after.cpuSeconds() - before.cpuSeconds()) / float64(n) * 1e6
	}
	return err
}

// wsEcho runs `bench -ws-echo` against port for d and returns its round trips.
func (h *harness) wsEcho(ctx context.Context, port int, d time.Duration) (int64, error) {
	if d <= 0 {
		return 0, nil
	}
	argv := []string{h.self, "-ws-echo", addr(port), "-ws-n", strconv.Itoa(wsEchoClients), "-ws-for", d.String()}
	logPath := filepath.Join(h.logs, fmt.Sprintf("ws-echo-%d.log", port))
	p, err := startProc("ws-echo", argv, h.env, h.root, h.loadList, logPath)
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(d + 15*time.Second)
	for !p.exited() {
		if ctx.Err() != nil || time.Now().After(deadline) {
			p.stop(time.Second)
			return 0, fmt.Errorf("the WebSocket clients did not finish; their log ends:\n%s", p.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	var n int64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "roundtrips "); ok {
			n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("the WebSocket clients reported no round trips; their log ends:\n%s", p.logTail())
}

// wsSection is latest.md's table of the WebSocket echo.
func (h *harness) wsSection(p func(string, ...any)) {
	if len(h.res.WSEcho) == 0 {
		return
	}
	p("## WebSocket echo (ASGI)\n\n%d clients on one connection each send a 32-byte text message and wait for its echo, over and over, for %v (`bench -ws-echo`); 1 worker, `apps/asgi_app.py`.\n\n", wsEchoClients, h.cfg.Duration)
	p("| server | round trips/s | server CPU per round trip |\n|---|--:|--:|\n")
	for _, r := range h.res.WSEcho {
		if r.Err != "" {
			p("| %s | failed | |\n", serverLabel(r.Server))
			continue
		}
		p("| %s | %s | %.1f µs |\n", serverLabel(r.Server), fmtRPS(r.PerSec), r.CPUPerRTUs)
	}
	p("\n")
}

// runWSClients is `bench -ws-echo ADDR`: n WebSocket clients echoing 32-byte text
// messages for d; it prints "roundtrips N".
func runWSClients(address string, n int, d time.Duration) error {
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stop := time.Now().Add(d)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := wsClient(address, stop, &total); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("roundtrips %d\n", total.Load())
	return nil
}

func wsClient(address string, stop time.Time, total *atomic.Int64) error {
	c, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	key := make([]byte, 16)
	rand.Read(key)
	c.SetDeadline(stop.Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		address, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		return fmt.Errorf("handshake: %q %v", status, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if l == "\r\n" {
			break
		}
	}
	// One masked 32-byte text frame (the mask is zero: masking is then the identity).
	msg := []byte("0123456789abcdef0123456789abcdef")
	frame := append([]byte{0x81, 0x80 | byte(len(msg)), 0, 0, 0, 0}, msg...)
	reply := make([]byte, 2+len(msg))
	for time.Now().Before(stop) {
		if _, err := c.Write(frame); err != nil {
			return err
		}
		if _, err := io.ReadFull(br, reply); err != nil {
			return err
		}
		if reply[0] != 0x81 || int(reply[1]) != len(msg) || string(reply[2:]) != string(msg) {
			return fmt.Errorf("a wrong echo: % x", reply)
		}
		total.Add(1)
	}
	closeFrame := []byte{0x88, 0x82, 0, 0, 0, 0}
	c.Write(binary.BigEndian.AppendUint16(closeFrame, 1000))
	return nil
}
