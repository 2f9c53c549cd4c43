package main

import (
	"fmt"
	"slices"
	"strings"
)

// The targets of issue 11: uwsgo against the system it replaces, uWSGI's PyPy plugin, on
// the same PyPy 3.11, and the server's own cost on top of the app's.

const nm = "not measured"

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func wrkNote(ss ...*summary) string {
	for _, s := range ss {
		if s.flagged() {
			return " (wrk-bound run: see CPU/req)"
		}
	}
	return ""
}

// overhead is a server's CPU per request on an app beyond the app's own cost in a loop,
// and that over the server's whole CPU per request on hello (1 worker, keep-alive).
func (h *harness) overhead(sums map[key]*summary, srv, app string) (over, ofHello float64, ok bool) {
	s, hello := sums[key{srv, app, 1, "keepalive"}], sums[key{srv, "hello", 1, "keepalive"}]
	loop := h.loopCost(srv, app)
	if s == nil || loop == 0 {
		return 0, 0, false
	}
	over = s.cpuPerReq - loop
	if hello != nil && hello.cpuPerReq > 0 {
		ofHello = over / hello.cpuPerReq
	}
	return over, ofHello, true
}

func (h *harness) seedTargets(sums map[key]*summary) [][3]string {
	var out [][3]string
	// vsSeed compares req/s of uwsgo on PyPy 3.11 with uWSGI+PyPy, and shows uwsgo on 3.9's.
	vsSeed := func(app string, workers int, mode string, want float64) {
		name := fmt.Sprintf("%s, %d worker(s), %s: uwsgo ≥ %.1f × uWSGI+PyPy req/s", app, workers, modeLabel(mode), want)
		u, o := sums[key{"uwsgo-311", app, workers, mode}], sums[key{"uwsgi-pypy", app, workers, mode}]
		if u == nil || o == nil || o.rps == 0 {
			out = append(out, [3]string{name, nm, nm})
			return
		}
		got := u.rps / o.rps
		measured := fmt.Sprintf("%.2f × (%s / %s req/s)", got, fmtRPS(u.rps), fmtRPS(o.rps))
		if u39 := sums[key{"uwsgo", app, workers, mode}]; u39 != nil {
			measured += fmt.Sprintf("; on PyPy 3.9 %.2f ×", u39.rps/o.rps)
		}
		out = append(out, [3]string{name, measured + wrkNote(u, o), verdict(got >= want)})
	}
	for _, app := range frameworkApps {
		vsSeed(app, 1, "keepalive", 2)
		vsSeed(app, 1, "close", 1)
		if appByName(app).Scale && slices.Contains(h.cfg.Workers, 2) {
			vsSeed(app, 2, "keepalive", 2)
		}
	}
	vsSeed("mid", 1, "keepalive", 1.3)

	// A body as an iterator costs about what the same body as a list does.
	name := "gen, 1 worker, keep-alive: uwsgo's server CPU/req ≤ 1.15 × hello's (the same body as a list)"
	g, l := sums[key{"uwsgo-311", "gen", 1, "keepalive"}], sums[key{"uwsgo-311", "hello", 1, "keepalive"}]
	if g != nil && l != nil && l.cpuPerReq > 0 {
		got := g.cpuPerReq / l.cpuPerReq
		measured := fmt.Sprintf("%.2f × (%.1f / %.1f µs)", got, g.cpuPerReq, l.cpuPerReq)
		if g39, l39 := sums[key{"uwsgo", "gen", 1, "keepalive"}], sums[key{"uwsgo", "hello", 1, "keepalive"}]; g39 != nil && l39 != nil && l39.cpuPerReq > 0 {
			measured += fmt.Sprintf("; on PyPy 3.9 %.2f ×", g39.cpuPerReq/l39.cpuPerReq)
		}
		out = append(out, [3]string{name, measured, verdict(got <= 1.15)})
	} else {
		out = append(out, [3]string{name, nm, nm})
	}

	// App code runs in uwsgo nearly as fast as in a loop.
	for _, app := range h.cfg.Apps {
		if app == "hello" || appByName(app).ASGI {
			continue // hello is the measure; the ASGI apps have no loop (apploop.py is WSGI's)
		}
		name := app + ", 1 worker, keep-alive: uwsgo's server overhead ≤ 2 × hello's whole CPU/req"
		over, of, ok := h.overhead(sums, "uwsgo-311", app)
		if !ok || of == 0 {
			out = append(out, [3]string{name, nm, nm})
			continue
		}
		measured := fmt.Sprintf("%.2f × (%.1f µs beyond the loop's %.1f µs)", of, over, h.loopCost("uwsgo-311", app))
		if _, of39, ok := h.overhead(sums, "uwsgo", app); ok && of39 != 0 {
			measured += fmt.Sprintf("; on PyPy 3.9 %.2f ×", of39)
		}
		out = append(out, [3]string{name, measured, verdict(of <= 2)})
	}
	return out
}

// overheadSection is latest.md's table of the apps' own cost and each server's overhead.
func (h *harness) overheadSection(p func(string, ...any), sums map[key]*summary) {
	if len(h.res.Loops) == 0 {
		return
	}
	p("## The apps' own cost and the server's overhead\n\n")
	p("**in a loop** is the app's CPU time per call in a plain loop of the interpreter the server runs it on (`bench/apploop.py`: warmed up as the PyPy servers are, the environ keys a server gives, the body consumed and `close()` called; its answer checked like the servers'). ")
	p("**overhead** is the server's CPU per request (1 worker, keep-alive) minus that: what serving costs beyond the app's own work. ")
	p("**÷ hello** is that overhead over the same server's whole CPU per request on hello world: near 1 when the app's code runs inside the server as fast as in a loop, and the target is ≤ 2.\n\n")
	pys := h.loopPythons()
	p("| app |")
	for _, py := range pys {
		p(" %s |", py.Label)
	}
	p("\n|---|%s\n", strings.Repeat("--:|", len(pys)))
	versions := map[string]string{}
	for _, an := range h.cfg.Apps {
		p("| %s |", an)
		for _, py := range pys {
			i := slices.IndexFunc(h.res.Loops, func(l LoopResult) bool { return l.App == an && l.Python == py.Key })
			switch {
			case i < 0:
				p(" |")
			case h.res.Loops[i].Err != "":
				p(" failed |")
			default:
				l := h.res.Loops[i]
				p(" %.2f µs (%d calls) |", l.UsPerCall, l.Calls)
				versions[py.Label] = l.Version
			}
		}
		p("\n")
	}
	p("\n")
	for _, py := range pys {
		if v := versions[py.Label]; v != "" {
			p("%s: %s. ", py.Label, v)
		}
	}
	p("\n| app | server | server CPU/req | in a loop | overhead | ÷ hello |\n|---|---|--:|--:|--:|--:|\n")
	for _, an := range h.cfg.Apps {
		for _, sn := range h.cfg.Servers {
			s := sums[key{sn, an, 1, "keepalive"}]
			over, of, ok := h.overhead(sums, sn, an)
			if s == nil || !ok {
				continue
			}
			ofHello := ""
			if of != 0 {
				ofHello = fmt.Sprintf("%.2f", of)
			}
			p("| %s | %s | %.1f µs | %.2f µs | %.1f µs | %s |\n", an, serverLabel(sn), s.cpuPerReq, h.loopCost(sn, an), over, ofHello)
		}
	}
	p("\n")
}
