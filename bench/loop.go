package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An app's own cost is measured without a server: apploop.py calls it in a plain loop in
// the interpreter a server runs it on (warm, with the environ keys a server gives, its
// body consumed and close() called) and reports the CPU time per call. A server's
// overhead on an app is then its CPU per request minus that cost. PyPy's loops run with the
// GC nursery uwsgo gives PyPy (loopNursery), so that the cost is the app's at its best;
// a server that leaves PyPy its own choice pays for it in its overhead.

// loopNursery is internal/pypy/nursery.go's default.
const loopNursery = "4MB"

// python is an interpreter of the loop measurements; servers name it by Key.
type python struct {
	Key, Label string
	Bin        string // inside the root when InRoot
	PyPy       bool
	InRoot     bool
}

var pythons = []python{
	{Key: "pypy3.9", Label: "PyPy 3.9 (Debian 12, the host)", Bin: "/usr/bin/pypy3", PyPy: true},
	{Key: "pypy3.11", Label: "PyPy 3.11 (Debian 13, the trixie root)", Bin: "/usr/bin/pypy3", PyPy: true, InRoot: true},
	{Key: "cpython", Label: "CPython 3.11 (Debian 12, the host)", Bin: "/usr/bin/python3"},
}

// LoopResult is one app's cost in a plain loop of one interpreter.
type LoopResult struct {
	Python, App string
	UsPerCall   float64 // CPU time per call, µs
	Calls       int64
	Version     string
	Cmd         string
	Err         string `json:",omitempty"`
}

// loopOutput is apploop.py's JSON line.
type loopOutput struct {
	Status      string  `json:"status"`
	ContentType string  `json:"content_type"`
	BodyLen     int     `json:"body_len"`
	BodySHA256  string  `json:"body_sha256"`
	BodyStart   string  `json:"body_start"`
	Calls       int64   `json:"calls"`
	UsPerCall   float64 `json:"us_per_call"`
	Python      string  `json:"python"`
	Impl        string  `json:"implementation"`
}

// loopPythons are the interpreters the chosen servers run apps on, in pythons' order.
func (h *harness) loopPythons() []python {
	var out []python
	for _, py := range pythons {
		for _, sn := range h.cfg.Servers {
			if serverByName(sn).Python == py.Key {
				out = append(out, py)
				break
			}
		}
	}
	return out
}

func (h *harness) runLoops(ctx context.Context) error {
	pys := h.loopPythons()
	if len(pys) == 0 {
		return nil
	}
	h.logf("== the apps' own cost in a plain loop (apploop.py): %d app(s) × %d interpreter(s)", len(h.cfg.Apps), len(pys))
	for _, an := range h.cfg.Apps {
		a := appByName(an)
		if a.ASGI {
			continue // apploop.py calls WSGI apps
		}
		for _, py := range pys {
			r := h.runLoop(ctx, a, py)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			h.res.Loops = append(h.res.Loops, r)
			if r.Err != "" {
				h.fail("loop: %s on %s: %s", a.Name, py.Key, r.Err)
				continue
			}
			h.logf("loop: %-10s on %-8s %8.1f µs/call (%d calls)", a.Name, py.Key, r.UsPerCall, r.Calls)
		}
	}
	return nil
}

func (h *harness) runLoop(ctx context.Context, a app, py python) LoopResult {
	r := LoopResult{Python: py.Key, App: a.Name}
	// As the servers: PyPy gets the whole warm-up, CPython 2s at most, smoke mode a
	// quick look.
	warm, measure := h.cfg.Warmup, h.cfg.Duration
	switch {
	case h.cfg.Smoke:
		warm, measure = 0, min(measure, 300*time.Millisecond)
	case !py.PyPy:
		warm = min(warm, 2*time.Second)
	}
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	args := []string{a.Path, secs(warm), secs(measure), strconv.Itoa(a.BodyBytes)}
	var argv []string
	if py.InRoot {
		argv = h.chroot(append([]string{py.Bin, h.stageIn("apploop.py"), h.rootAppFile(a)}, args...))
	} else {
		argv = append([]string{py.Bin, filepath.Join(h.benchDir, "apploop.py"), h.appFile(a)}, args...)
	}
	r.Cmd = shellJoin(h.relArgv(argv))
	if h.serveList != "" {
		r.Cmd = "taskset -c " + h.serveList + " " + r.Cmd
	}
	logPath := filepath.Join(h.logs, fmt.Sprintf("loop-%s-%s.log", a.Name, py.Key))
	env := h.env
	if py.PyPy {
		env = append(slices.Clone(env), "PYPY_GC_NURSERY="+loopNursery)
		r.Cmd = "PYPY_GC_NURSERY=" + loopNursery + " " + r.Cmd
	}
	p, err := startProc("apploop", argv, env, h.root, h.serveList, logPath)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer p.stop(time.Second)
	select {
	case <-p.done:
	case <-ctx.Done():
		return r
	case <-time.After(warm + measure + time.Minute):
		r.Err = "apploop.py did not finish; its log ends:\n" + p.logTail()
		return r
	}
	b, _ := os.ReadFile(logPath)
	var out loopOutput
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !p.state.Success() || json.Unmarshal([]byte(lines[len(lines)-1]), &out) != nil {
		r.Err = fmt.Sprintf("apploop.py failed (%v); its log ends:\n%s", p.state, p.logTail())
		return r
	}
	want, err := expectedBody(h.benchDir, a)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	sum := sha256.Sum256([]byte(want))
	if out.Status != "200 OK" || out.ContentType != a.Type || out.BodySHA256 != hex.EncodeToString(sum[:]) {
		r.Err = fmt.Sprintf("wrong answer in the loop: %q, Content-Type %q, %d bytes (want 200 OK, %q, %d bytes): %.200q",
			out.Status, out.ContentType, out.BodyLen, a.Type, len(want), out.BodyStart)
		return r
	}
	r.UsPerCall, r.Calls, r.Version = out.UsPerCall, out.Calls, out.Impl+" "+out.Python
	return r
}

// loopCost is the app's own cost on the server's interpreter, 0 when not measured.
func (h *harness) loopCost(serverName, appName string) float64 {
	py := serverByName(serverName).Python
	i := slices.IndexFunc(h.res.Loops, func(l LoopResult) bool { return l.Python == py && l.App == appName && l.Err == "" })
	if i < 0 {
		return 0
	}
	return h.res.Loops[i].UsPerCall
}
