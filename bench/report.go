package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// summary is the median of the rounds of one (server, app, workers, mode).
type summary struct {
	n                       int
	rps, lo, hi             float64
	p50, p99                float64
	cpuPerReq, cores, wrk   float64
	other                   float64
	otherList               []float64
	errors                  int64
	loadBound, loadBoundOf  int
	wrkCmd                  string
	server, app, mode       string
	workers                 int
	rpsList, cpuList, p50s  []float64
	p99s, coreList, wrkList []float64
}

type key struct {
	server, app string
	workers     int
	mode        string
}

func summarize(runs []Run) map[key]*summary {
	m := map[key]*summary{}
	for _, r := range runs {
		k := key{r.Server, r.App, r.Workers, r.Mode}
		s := m[k]
		if s == nil {
			s = &summary{server: r.Server, app: r.App, workers: r.Workers, mode: r.Mode, wrkCmd: r.Wrk}
			m[k] = s
		}
		s.n++
		s.rpsList = append(s.rpsList, r.RPS)
		s.cpuList = append(s.cpuList, r.CPUPerReqUs)
		s.p50s = append(s.p50s, r.P50Us)
		s.p99s = append(s.p99s, r.P99Us)
		s.coreList = append(s.coreList, r.ServerCores)
		s.wrkList = append(s.wrkList, r.WrkLoad)
		s.otherList = append(s.otherList, r.OtherCores)
		s.errors += r.Errors
		s.loadBoundOf++
		if r.LoadBound {
			s.loadBound++
		}
	}
	for _, s := range m {
		s.rps, s.lo, s.hi = median(s.rpsList), slices.Min(s.rpsList), slices.Max(s.rpsList)
		s.cpuPerReq, s.p50, s.p99 = median(s.cpuList), median(s.p50s), median(s.p99s)
		s.cores, s.wrk, s.other = median(s.coreList), median(s.wrkList), median(s.otherList)
	}
	return m
}

// flagged: wrk was the limit in at least half of the rounds.
func (s *summary) flagged() bool {
	return s != nil && 2*s.loadBound >= s.loadBoundOf && s.loadBound > 0
}

func (h *harness) write() error {
	b, err := json.MarshalIndent(h.res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.out, "latest.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	sums := summarize(h.res.Runs)
	if err := writeChart(filepath.Join(h.out, "latest.png"), h, sums); err != nil {
		return fmt.Errorf("chart: %v", err)
	}
	md := h.markdown(sums)
	if err := os.WriteFile(filepath.Join(h.out, "latest.md"), []byte(md), 0o644); err != nil {
		return err
	}
	h.logf("wrote %s, latest.png, latest.json", filepath.Join(h.out, "latest.md"))
	for _, t := range h.targets(sums) {
		h.logf("target %-62s %-34s %s", t[0], t[1], t[2])
	}
	return nil
}

func modeLabel(mode string) string {
	if mode == "close" {
		return "`Connection: close`"
	}
	return "keep-alive"
}

func fmtRPS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func serverLabel(name string) string { return serverByName(name).Label }

func (h *harness) markdown(sums map[key]*summary) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	r := h.res
	c := h.cfg

	p("# uwsgo benchmarks\n\n")
	p("Made by `bench/` (`make bench`) on %s UTC, in %s. ", r.Started.UTC().Format("2006-01-02 15:04"),
		r.Finished.Sub(r.Started).Round(time.Second))
	p("Configuration: **%s**: %s.\n\n", r.Mode, h.configSentence())
	p("Load average (1, 5, 15 min) at the start: **%s**; at the end: **%s**.", r.LoadStart, r.LoadEnd)
	if loaded(r.LoadStart) || loaded(r.LoadEnd) {
		p(" **The machine was loaded** (load average above 1.0 on %d CPUs): other work shared the CPUs, so absolute numbers are low and noisy. Ratios between servers measured in the same interleaved rounds, and CPU time per request, suffer less.", len(allowedCPUs()))
	}
	p("\n\n")
	if c.Note != "" {
		p("%s\n\n", c.Note)
	}
	if r.RootNote != "" {
		p("**%s**\n\n", r.RootNote)
	}
	p("![req/s per server and app](latest.png)\n\n")

	p("## Targets\n\nRatios are between medians of the same run (servers interleaved round by round). " +
		"What was changed to reach the framework targets, step by step, and the findings for those missed: " +
		"[framework-path.md](framework-path.md).\n\n")
	p("| target | measured | |\n|---|---|---|\n")
	for _, t := range h.targets(sums) {
		p("| %s | %s | %s |\n", t[0], t[1], t[2])
	}
	p("\n")

	p("## Throughput\n\n")
	p("Each cell is the median of %d run(s) of %v with wrk (`-c%d`; at least 4 connections per Python thread of a worker for the sleep app; %s). ",
		c.Rounds, c.Duration, c.Connections, pinSentence(h))
	p("**server CPU/req** is the user+system time of all of the server's processes (from `/proc/PID/stat`, children included) over the run, divided by the requests wrk counted: it does not depend on the load generator. ")
	p("**server cores** is that CPU time over the wall time; **wrk** is wrk's own CPU time over the wall time and its CPUs; **others** is the CPU time that other processes took on the server's CPU(s) during the run (from `/proc/stat`), in cores: the machine's noise. ")
	p("**wrk-bound** marks runs where wrk used ≥ 90 %% of its CPU while the server used < 90 %% of what it could: there the load generator, not the server, was the limit, and req/s understates the server (compare CPU/req instead). ")
	p("Errors are wrk's (connect, read, write, timeout, non-2xx) summed over the rounds.\n\n")
	for _, an := range c.Apps {
		a := appByName(an)
		any := false
		for _, s := range sums {
			any = any || s.app == an
		}
		if !any {
			continue
		}
		p("### %s (`GET %s` of `bench/apps/%s`)\n\n", a.Label, a.Path, a.File)
		p("| workers | connections | server | req/s | min–max | × bare Go | × uWSGI+PyPy | p50 | p99 | server CPU/req | server cores | wrk | others | errors | |\n")
		p("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, w := range c.Workers {
			for _, mode := range c.Modes {
				bare, seed := sums[key{"go", an, w, mode}], sums[key{"uwsgi-pypy", an, w, mode}]
				for _, sn := range c.Servers {
					s := sums[key{sn, an, w, mode}]
					if s == nil {
						continue
					}
					ratio, ratioSeed := "", ""
					if bare != nil && bare.rps > 0 {
						ratio = fmt.Sprintf("%.2f", s.rps/bare.rps)
					}
					if seed != nil && seed.rps > 0 {
						ratioSeed = fmt.Sprintf("%.2f", s.rps/seed.rps)
					}
					flag := ""
					if s.flagged() {
						flag = "wrk-bound"
					}
					p("| %d | %s | %s | %s | %s–%s | %s | %s | %s | %s | %.1f µs | %.2f | %.0f %% | %.2f | %d | %s |\n",
						w, modeLabel(mode), serverLabel(sn), fmtRPS(s.rps), fmtRPS(s.lo), fmtRPS(s.hi), ratio, ratioSeed,
						fmtUs(s.p50), fmtUs(s.p99), s.cpuPerReq, s.cores, 100*s.wrk, s.other, s.errors, flag)
				}
			}
		}
		p("\n")
	}
	if len(c.Workers) > 1 && len(h.serverCPU) < 2 {
		p("With %d CPU(s) for the servers, more workers cannot add throughput here: the 2-worker rows show what a second process costs, not how a server scales.\n\n", len(h.serverCPU))
	}

	h.overheadSection(p, sums)

	p("## Start-up and memory\n\n")
	p("**first answer** is the time from starting the server's command to its first `200` to `GET /` (polled every few ms). **RSS** is each worker's resident memory after the warm-up (for a master or gunicorn's arbiter the workers are its children; the total includes the master). **private** is the part of it no other process shares (smaps' Private_Clean + Private_Dirty): RSS also counts shared libraries' pages, libpypy's code among them, which all PyPy processes map once, so private is what one more worker costs.\n\n")
	p("| server | app | workers | first answer | RSS per worker | private per worker | total RSS | processes | warm-up |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, in := range r.Instances {
		if in.ForSlowTest || in.ForProfiling {
			continue
		}
		if in.Err != "" {
			p("| %s | %s | %d | failed | | | | | |\n", serverLabel(in.Server), in.App, in.Workers)
			continue
		}
		var per, priv []string
		for _, mb := range in.RSSWorkerMB {
			per = append(per, fmt.Sprintf("%.1f", mb))
		}
		for _, mb := range in.PrivWorkerMB {
			priv = append(priv, fmt.Sprintf("%.1f", mb))
		}
		p("| %s | %s | %d | %.3f s | %s MB | %s MB | %.1f MB | %d | %.0f s |\n", serverLabel(in.Server), in.App, in.Workers,
			in.StartupSec, strings.Join(per, ", "), strings.Join(priv, ", "), in.RSSTotalMB, in.Processes, in.WarmupSec)
	}
	p("\n")

	h.wsSection(p)
	if len(r.Slow) > 0 {
		p("## Slow clients\n\n")
		p("Hello world, 1 worker, keep-alive, measured alternately without and with %d slow clients (half trickle a request head, half a request body, one byte every %v; `bench -slow-clients`, on wrk's CPU). **kept** is the median with them over the median without.",
			c.SlowClients, trickleEvery)
		if c.Smoke {
			p(" Smoke mode: uwsgo's servers only.")
		}
		p("\n\n")
		p("**kept by CPU** is CPU/req alone over CPU/req with the slow clients: the share of its capacity a server keeps whatever else runs on the machine (the slow clients' own cost on the server is in the second figure).\n\n")
		p("| server | req/s alone | req/s with slow clients | kept | CPU/req alone | CPU/req with | kept by CPU | wrk errors with | slow clients |\n|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, s := range r.Slow {
			if s.Err != "" && len(s.SlowRPS) == 0 {
				p("| %s | failed | | | | | | | |\n", serverLabel(s.Server))
				continue
			}
			with, byCPU := "–", "–"
			if s.SlowCPUUs > 0 {
				with = fmt.Sprintf("%.1f µs", s.SlowCPUUs)
				byCPU = fmt.Sprintf("%.0f %%", 100*s.BaseCPUUs/s.SlowCPUUs)
			}
			p("| %s | %s | %s | %.0f %% | %.1f µs | %s | %s | %d | %s |\n", serverLabel(s.Server), fmtRPS(median(s.BaseRPS)),
				fmtRPS(median(s.SlowRPS)), 100*s.Fraction, s.BaseCPUUs, with, byCPU, s.SlowErrs, s.Clients)
		}
		p("\n")
	}

	if pr := r.Profile; pr != nil {
		p("## CPU profile of uwsgo (hello world, 1 worker, keep-alive)\n\n")
		if pr.Err != "" {
			p("Failed: %s\n\n", pr.Err)
		} else {
			p("The worker's whole serving life (warm-up and one measured run, %s req/s while profiled) with `UWSGO_CPUPROFILE`; `%s`. Time spent in PyPy shows under the cgo call that entered it.\n\n```\n%s\n```\n\n", fmtRPS(pr.RPS), pr.Cmd, pr.Top)
		}
	}

	p("## Machine\n\n| | |\n|---|---|\n")
	for _, kv := range r.Machine {
		p("| %s | %s |\n", kv[0], kv[1])
	}
	p("| pinning | %s |\n\n", pinSentence(h))

	p("## Commands\n\n")
	p("The harness: `%s` (from `bench/`; `make bench` runs `bench/install-deps` first). Every command below ran from the repository's root; ports were free ones picked per start.\n\n", harnessCommand())
	others := fmt.Sprint(min(c.Warmup, 2*time.Second))
	if c.Smoke {
		others = "not at all"
	}
	p("Servers (each started fresh per app and worker count, then warmed up with keep-alive load: PyPy servers for %v, the others %s):\n\n```\n", c.Warmup, others)
	seen := map[string]bool{}
	for _, in := range r.Instances {
		if !seen[in.Command] {
			seen[in.Command] = true
			p("%s\n", in.Command)
		}
	}
	p("```\n\n")
	for _, sn := range c.Servers {
		p("- %s: %s.\n", serverLabel(sn), serverByName(sn).Notes)
	}
	p("\nwrk (its script, `bench/wrk.lua`, sets the POST body and `Connection: close` from the environment and prints one result line):\n\n```\n")
	seen = map[string]bool{}
	for _, run := range r.Runs {
		cmd := portless(run.Wrk)
		if !seen[cmd] {
			seen[cmd] = true
			p("%s\n", cmd)
		}
	}
	p("```\n\n")
	if len(r.Loops) > 0 {
		p("The apps in a plain loop (`bench/apploop.py APP PATH WARM-UP MEASURE BODY-BYTES`):\n\n```\n")
		for _, l := range r.Loops {
			p("%s\n", l.Cmd)
		}
		p("```\n\n")
	}
	for _, s := range r.Slow {
		if s.SlowCmd != "" {
			p("Slow clients: `%s` (`bench/bench` is the harness binary: `go build -o bench ./` in `bench/`).\n\n", portless(s.SlowCmd))
			break
		}
	}
	if len(r.Failures) > 0 {
		p("## Failures\n\n")
		for _, f := range r.Failures {
			p("- %s\n", strings.ReplaceAll(strings.TrimSpace(f), "\n", "\n  "))
		}
		p("\n")
	}
	p("Raw data of every run: `latest.json`.\n")
	return b.String()
}

// portless replaces the port of 127.0.0.1:PORT with PORT.
func portless(s string) string {
	i := strings.Index(s, "127.0.0.1:")
	if i < 0 {
		return s
	}
	j := i + len("127.0.0.1:")
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	return s[:j] + "PORT" + s[k:]
}

func loaded(avg string) bool {
	var one float64
	fmt.Sscan(avg, &one)
	return one >= 1.0
}

func pinSentence(h *harness) string {
	if h.serveList == "" {
		return "one CPU: servers and wrk shared it"
	}
	return fmt.Sprintf("servers on CPU %s, wrk and the slow clients on CPU %s (`taskset -c`)", h.serveList, h.loadList)
}

func (h *harness) configSentence() string {
	c := h.cfg
	return fmt.Sprintf("servers %s; apps %s; %s worker(s); %s; %d round(s) of %v; PyPy warm-up %v",
		strings.Join(c.Servers, ", "), strings.Join(c.Apps, ", "), joinInts(c.Workers), strings.Join(c.Modes, " and "),
		c.Rounds, c.Duration, c.Warmup)
}

func joinInts(v []int) string {
	var s []string
	for _, i := range v {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, " and ")
}

// targets are the goals, each with what this run measured: [target, measured, verdict].
func (h *harness) targets(sums map[key]*summary) [][3]string {
	out := append(h.seedTargets(sums), h.asgiTargets(sums)...)
	ratio := func(name, app, other string, want float64) {
		u, o := sums[key{"uwsgo", app, 1, "keepalive"}], sums[key{other, app, 1, "keepalive"}]
		if u == nil || o == nil || o.rps == 0 {
			out = append(out, [3]string{name, nm, nm})
			return
		}
		got := u.rps / o.rps
		out = append(out, [3]string{name, fmt.Sprintf("%.2f × (%s / %s req/s)%s", got, fmtRPS(u.rps), fmtRPS(o.rps), wrkNote(u, o)), verdict(got >= want)})
	}
	ratio("hello, 1 worker, keep-alive: uwsgo ≥ 0.80 × bare Go req/s", "hello", "go", 0.80)
	if u := sums[key{"uwsgo", "hello", 1, "keepalive"}]; u != nil {
		out = append(out, [3]string{"hello, 1 worker, keep-alive: uwsgo ≤ 16 µs server CPU per request", fmt.Sprintf("%.1f µs", u.cpuPerReq), verdict(u.cpuPerReq <= 16)})
	} else {
		out = append(out, [3]string{"hello, 1 worker, keep-alive: uwsgo ≤ 16 µs server CPU per request", nm, nm})
	}
	ratio("hello, 1 worker, keep-alive: uwsgo ≥ 2.5 × uWSGI+CPython", "hello", "uwsgi", 2.5)
	ratio("mid-weight, 1 worker (keep-alive): uwsgo ≥ 2.0 × uWSGI+CPython", "mid", "uwsgi", 2.0)
	ratio("mid-weight, 1 worker (keep-alive): uwsgo ≥ 1.6 × gunicorn on PyPy", "mid", "gunicorn-pypy", 1.6)
	ratio("16 KiB POST, 1 worker (keep-alive): uwsgo ≥ 2 × gunicorn on PyPy", "post", "gunicorn-pypy", 2.0)

	name := "200 slow clients: uwsgo keeps ≥ 90 % of its hello throughput"
	found := false
	for _, s := range h.res.Slow {
		if s.Server == "uwsgo" && len(s.SlowRPS) > 0 {
			found = true
			measured := fmt.Sprintf("%.0f %% (%s of %s req/s)", 100*s.Fraction, fmtRPS(median(s.SlowRPS)), fmtRPS(median(s.BaseRPS)))
			if s.SlowCPUUs > 0 {
				measured += fmt.Sprintf("; by CPU/req %.0f %%", 100*s.BaseCPUUs/s.SlowCPUUs)
			}
			out = append(out, [3]string{name, measured, verdict(s.Fraction >= 0.90)})
		}
	}
	if !found {
		out = append(out, [3]string{name, nm, nm})
	}

	var rss, priv, start []float64
	for _, in := range h.res.Instances {
		if in.Server != "uwsgo" || in.Err != "" {
			continue
		}
		if in.App == "hello" && len(in.RSSWorkerMB) > 0 {
			rss = append(rss, slices.Max(in.RSSWorkerMB))
			if len(in.PrivWorkerMB) > 0 {
				priv = append(priv, slices.Max(in.PrivWorkerMB))
			}
		}
		// a framework's import is the app's time, not the server's
		if in.Workers == 1 && in.StartupSec > 0 && appByName(in.App).Expected == "" {
			start = append(start, in.StartupSec)
		}
	}
	if len(rss) > 0 {
		measured := fmt.Sprintf("%.1f MB (largest of %d)", slices.Max(rss), len(rss))
		if len(priv) > 0 {
			measured += fmt.Sprintf("; private %.1f MB: the rest is libpypy's shared pages", slices.Max(priv))
		}
		out = append(out, [3]string{"RSS per uwsgo worker ≤ 60 MB on hello (after warm-up)", measured, verdict(slices.Max(rss) <= 60)})
	} else {
		out = append(out, [3]string{"RSS per uwsgo worker ≤ 60 MB on hello (after warm-up)", nm, nm})
	}
	if len(start) > 0 {
		out = append(out, [3]string{"start to first response ≤ 0.3 s per worker (uwsgo, 1 worker, apps without a framework)", fmt.Sprintf("%.3f s median, %.3f s slowest of %d starts", median(start), slices.Max(start), len(start)), verdict(median(start) <= 0.3)})
	} else {
		out = append(out, [3]string{"start to first response ≤ 0.3 s per worker (uwsgo, 1 worker, apps without a framework)", nm, nm})
	}
	return out
}

// harnessCommand is how the harness was run, with the text of -note left out.
func harnessCommand() string {
	argv := []string{"go", "run", "."}
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-note" || a == "--note":
			argv = append(argv, a, "…")
			i++
		case strings.HasPrefix(a, "-note=") || strings.HasPrefix(a, "--note="):
			name, _, _ := strings.Cut(a, "=")
			argv = append(argv, name, "…")
		default:
			argv = append(argv, a)
		}
	}
	return shellJoin(argv)
}
