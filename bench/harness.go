package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Results is everything a run measured; latest.json holds it as it is, latest.md and
// latest.png are made from it.
type Results struct {
	Mode       string
	Config     config
	Started    time.Time
	Finished   time.Time
	LoadStart  string // /proc/loadavg's first three numbers
	LoadEnd    string
	Machine    [][2]string
	ServerCPUs string // what taskset -c was given ("" when not pinned)
	LoadCPUs   string
	Instances  []*Instance
	Runs       []Run
	Loops      []LoopResult
	RootNote   string `json:",omitempty"` // why the trixie root's servers did not run
	Slow       []SlowResult
	WSEcho     []WSResult `json:",omitempty"`
	Profile    *ProfileResult
	Failures   []string
}

// Instance is one start of one server for an app and a number of workers.
type Instance struct {
	Server, App  string
	Workers      int
	Command      string // as run, paths relative to the repository root
	StartupSec   float64
	WarmupSec    float64
	RSSWorkerMB  []float64 // after warm-up
	PrivWorkerMB []float64 // the part of it no other process shares
	RSSTotalMB   float64
	Processes    int
	Err          string
	ForSlowTest  bool `json:",omitempty"`
	ForProfiling bool `json:",omitempty"`
}

// Run is one measured wrk run.
type Run struct {
	Server, App string
	Workers     int
	Mode        string // keepalive or close
	Round       int
	RPS         float64
	Requests    int64
	Seconds     float64
	MeanUs      float64
	P50Us       float64
	P99Us       float64
	Errors      int64
	ErrInfo     string  `json:",omitempty"`
	ServerCPU   float64 // seconds, all of the server's processes
	CPUPerReqUs float64
	ServerCores float64 // ServerCPU / wall time
	WrkCPU      float64 // seconds
	WrkLoad     float64 // wrk's CPU time / (wall time × its CPUs)
	OtherCores  float64 // CPU time of other processes on the server's CPUs / wall time
	LoadBound   bool    // wrk, not the server, was the limit
	Wrk         string  // the wrk command
}

// SlowResult is hello world's throughput with and without the slow clients.
type SlowResult struct {
	Server    string
	BaseRPS   []float64
	SlowRPS   []float64
	Fraction  float64 // median(SlowRPS) / median(BaseRPS)
	Clients   string  // what the slow-client process said once ready
	SlowErrs  int64
	Err       string `json:",omitempty"`
	SlowCmd   string
	BaseCPUUs float64
	SlowCPUUs float64
}

// ProfileResult is the CPU profile of uwsgo under the hello load.
type ProfileResult struct {
	File string
	RPS  float64
	Top  string
	Cmd  string
	Err  string `json:",omitempty"`
}

type harness struct {
	cfg       config
	root      string // the repository
	benchDir  string
	tmp       string // bench/results/tmp: binaries, logs, profiles
	logs      string
	out       string
	uwsgoBin  string
	self      string
	wrkScript string
	serverCPU []int
	loadCPUs  []int
	serveList string // taskset lists, "" when not pinned
	loadList  string
	env       []string
	res       *Results
	stage     string // this run's directory inside the trixie root, as seen from there
	staged    string // the same from the host, "" when nothing is there
	start     time.Time
	done      int // measured runs done, for the progress lines
	total     int
}

func newHarness(cfg config) (*harness, error) {
	h := &harness{cfg: cfg, start: time.Now()}
	var err error
	if h.root, err = findRoot(); err != nil {
		return nil, err
	}
	h.benchDir = filepath.Join(h.root, "bench")
	h.tmp = filepath.Join(h.benchDir, "results", "tmp")
	h.logs = filepath.Join(h.tmp, "logs")
	h.wrkScript = filepath.Join(h.benchDir, "wrk.lua")
	if h.out, err = filepath.Abs(cfg.Out); err != nil {
		return nil, err
	}
	if h.self, err = os.Executable(); err != nil {
		return nil, err
	}
	os.RemoveAll(h.logs)
	for _, d := range []string{h.logs, h.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	for _, need := range []string{"/usr/bin/wrk", "/usr/bin/taskset", "/usr/bin/python3", "/usr/bin/pypy3", "/usr/bin/uwsgi-core"} {
		if _, err := os.Stat(need); err != nil {
			return nil, fmt.Errorf("%s is missing: run bench/install-deps", need)
		}
	}
	cpus := allowedCPUs()
	if len(cpus) >= 2 {
		n := (len(cpus) + 1) / 2
		h.serverCPU, h.loadCPUs = cpus[:n], cpus[n:]
		h.serveList, h.loadList = cpuList(h.serverCPU), cpuList(h.loadCPUs)
	} else {
		h.serverCPU, h.loadCPUs = cpus, cpus
	}
	h.env = serverEnv()
	rootNote, err := h.checkRootServers()
	if err != nil {
		return nil, err
	}
	h.res = &Results{Mode: h.cfg.modeName(), Config: h.cfg, Started: time.Now(), LoadStart: loadAvg(),
		ServerCPUs: h.serveList, LoadCPUs: h.loadList, RootNote: rootNote}
	return h, nil
}

// checkRootServers drops the trixie root's servers when the root is not usable and they
// were not asked for by name (then it is an error), and says why.
func (h *harness) checkRootServers() (string, error) {
	var want []string
	for _, sn := range h.cfg.Servers {
		if serverByName(sn).InRoot {
			want = append(want, sn)
		}
	}
	if len(want) == 0 {
		return "", nil
	}
	err := checkRoot(h.cfg.TrixieRoot)
	if err == nil {
		return "", nil
	}
	if h.cfg.serversGiven {
		return "", fmt.Errorf("-servers %s: %v", strings.Join(want, ","), err)
	}
	h.cfg.Servers = slices.DeleteFunc(h.cfg.Servers, func(sn string) bool { return serverByName(sn).InRoot })
	return fmt.Sprintf("Skipped %s: %v.", strings.Join(want, " and "), err), nil
}

// findRoot finds the repository: the directory holding go.mod of module uwsgo and bench/.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 8 {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module uwsgo\n")) {
			if _, err := os.Stat(filepath.Join(dir, "bench", "apps")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("run from bench/ (or the repository): no go.mod of module uwsgo above the working directory")
}

// allowedCPUs is the CPUs this process may run on (Cpus_allowed_list).
func allowedCPUs() []int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(l, "Cpus_allowed_list:")
		if !ok {
			continue
		}
		var cpus []int
		for _, part := range strings.Split(strings.TrimSpace(v), ",") {
			lo, hi, isRange := strings.Cut(part, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil {
				continue
			}
			for c := a; c <= b && len(cpus) < 4096; c++ {
				cpus = append(cpus, c)
			}
		}
		if len(cpus) > 0 {
			return cpus
		}
	}
	return []int{0}
}

func cpuList(cpus []int) string {
	var s []string
	for _, c := range cpus {
		s = append(s, strconv.Itoa(c))
	}
	return strings.Join(s, ",")
}

// serverEnv is the environment of every server: this one without what would change how
// a Python or a uWSGI-compatible server starts, and with Debian's PATH (no pyenv shims).
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "PYTHONPATH", k == "PYTHONHOME", k == "PYTHONSTARTUP", k == "VIRTUAL_ENV",
			strings.HasPrefix(k, "PYENV"), strings.HasPrefix(k, "UWSGI_"), k == "UWSGO_CPUPROFILE", k == "PYPY_HOME",
			strings.HasPrefix(k, "PYPY_GC_"): // each server gets its GC settings from its own row
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (h *harness) logf(format string, args ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(h.start).Seconds(), fmt.Sprintf(format, args...))
}

func (h *harness) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.res.Failures = append(h.res.Failures, msg)
	h.logf("FAILED: %s", msg)
}

func (h *harness) appFile(a app) string { return filepath.Join(h.benchDir, "apps", a.File) }

// relArgv shows paths under the repository relative to it (commands run from its root).
func (h *harness) relArgv(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = a
		if r, ok := strings.CutPrefix(a, h.root+"/"); ok {
			out[i] = r
		}
		if a == h.self {
			out[i] = "bench/bench" // the harness binary (go build -o bench/bench ./bench from the repo)
		}
	}
	return out
}

func (h *harness) cleanup() {
	killAll()
	h.unstageRoot()
}

// group is one (app, workers) combination: its servers run side by side.
type group struct {
	app     app
	workers int
}

func (h *harness) plan() []group {
	var gs []group
	for _, name := range h.cfg.Apps {
		for _, w := range h.cfg.Workers {
			a := appByName(name)
			if w > 1 && (!a.Scale || h.cfg.Smoke && name != "hello") {
				continue // more workers for some apps only (in smoke mode hello only)
			}
			gs = append(gs, group{a, w})
		}
	}
	return gs
}

func (h *harness) run(ctx context.Context) error {
	h.logf("bench: %s mode; runs of %v, PyPy warm-up %v, %d round(s); servers %s; apps %s; workers %v; modes %s",
		h.res.Mode, h.cfg.Duration, h.cfg.Warmup, h.cfg.Rounds, strings.Join(h.cfg.Servers, ","),
		strings.Join(h.cfg.Apps, ","), h.cfg.Workers, strings.Join(h.cfg.Modes, ","))
	if h.serveList != "" {
		h.logf("servers on CPU %s, wrk and the slow clients on CPU %s; load average %s", h.serveList, h.loadList, h.res.LoadStart)
	} else {
		h.logf("one CPU only: servers and wrk share it (not pinned); load average %s", h.res.LoadStart)
	}
	if err := h.buildUwsgo(ctx); err != nil {
		return err
	}
	h.res.Machine = machineInfo(h.uwsgoBin)
	if h.res.RootNote != "" {
		h.logf("%s", h.res.RootNote)
	}
	if slices.ContainsFunc(h.cfg.Servers, func(sn string) bool { return serverByName(sn).InRoot }) {
		if err := h.stageRoot(); err != nil {
			return fmt.Errorf("copying the binary and the apps into the trixie root: %v", err)
		}
		h.logf("the trixie root's servers run in %s, from %s", h.cfg.TrixieRoot, h.stage)
	}
	if err := h.runLoops(ctx); err != nil {
		return err
	}

	groups := h.plan()
	for _, g := range groups {
		h.total += len(h.groupServers(g.app)) * len(h.cfg.Modes) * h.cfg.Rounds
	}
	if h.cfg.Slow {
		h.total += 2 * h.cfg.Rounds * len(h.slowServers())
	}
	h.total += len(h.wsServers())
	for _, g := range groups {
		if err := h.runGroup(ctx, g); err != nil {
			return err
		}
	}
	if h.cfg.Slow {
		if err := h.runSlow(ctx); err != nil {
			return err
		}
	}
	if err := h.runWSEcho(ctx); err != nil {
		return err
	}
	if h.cfg.Profile && slices.Contains(h.cfg.Servers, "uwsgo") {
		if err := h.runProfile(ctx); err != nil {
			return err
		}
	}
	h.res.Finished = time.Now()
	h.res.LoadEnd = loadAvg()
	return h.write()
}

func (h *harness) buildUwsgo(ctx context.Context) error {
	if h.cfg.UwsgoBin != "" {
		abs, err := filepath.Abs(h.cfg.UwsgoBin)
		if err != nil {
			return err
		}
		h.uwsgoBin = abs
		h.logf("using the uwsgo binary %s", abs)
		return nil
	}
	h.uwsgoBin = filepath.Join(h.tmp, "uwsgo")
	h.logf("building uwsgo: go build -o %s ./cmd/uwsgo", h.uwsgoBin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", h.uwsgoBin, "./cmd/uwsgo")
	cmd.Dir = h.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building uwsgo: %v\n%s", err, out)
	}
	return nil
}

// live is a server started for a group.
type live struct {
	srv  server
	app  app
	port int
	p    *proc
	inst *Instance
}

// launch starts srv for (a, workers), waits for its first answer and checks its bytes.
func (h *harness) launch(ctx context.Context, srv server, a app, workers int, extraEnv ...string) (*live, error) {
	inst := &Instance{Server: srv.Name, App: a.Name, Workers: workers}
	port, err := freePort()
	if err != nil {
		inst.Err = err.Error()
		return &live{srv: srv, app: a, inst: inst}, err
	}
	argv := srv.Command(h, a, workers, port)
	cmdline := shellJoin(h.relArgv(argv))
	if h.serveList != "" {
		cmdline = "taskset -c " + h.serveList + " " + cmdline
	}
	extraEnv = append(slices.Clone(srv.Env), extraEnv...)
	if len(extraEnv) > 0 {
		cmdline = strings.ReplaceAll(strings.Join(extraEnv, " "), h.root+"/", "") + " " + cmdline
	}
	inst.Command = cmdline
	logPath := filepath.Join(h.logs, fmt.Sprintf("%s-%s-%dw-%d.log", srv.Name, a.Name, workers, port))
	p, err := startProc(srv.Name, argv, append(slices.Clone(h.env), extraEnv...), h.root, h.serveList, logPath)
	if err != nil {
		inst.Err = err.Error()
		return &live{srv: srv, app: a, inst: inst}, err
	}
	l := &live{srv: srv, app: a, port: port, p: p, inst: inst}
	took, err := waitReady(ctx, p, port, a.Path, 60*time.Second)
	if err == nil {
		inst.StartupSec = took.Seconds()
		err = verify(h.benchDir, a, port)
	}
	if err != nil {
		inst.Err = err.Error()
		p.stop(5 * time.Second)
		return l, err
	}
	return l, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls with GET path until the server answers 200, and says how long that took
// from the server's start.
func waitReady(ctx context.Context, p *proc, port int, path string, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if p.exited() {
			return 0, fmt.Errorf("%s exited (%v) before answering; its log ends:\n%s", p.name, p.state, p.logTail())
		}
		c, err := net.DialTimeout("tcp", addr(port), time.Second)
		if err != nil {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/1.") && f[1] == "200" {
			return time.Since(p.started), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s did not answer within %v; its log ends:\n%s", p.name, limit, p.logTail())
}

// verify checks that the server answers wrk's request with the expected status,
// Content-Type and body, byte for byte.
func verify(benchDir string, a app, port int) error {
	want, err := expectedBody(benchDir, a)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + addr(port) + a.Path
	var resp *http.Response
	if a.BodyBytes > 0 {
		resp, err = client.Post(url, "application/octet-stream", bytes.NewReader(bytes.Repeat([]byte("x"), a.BodyBytes)))
	} else {
		resp, err = client.Get(url)
	}
	if err != nil {
		return fmt.Errorf("checking the answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("checking the answer: %v", err)
	}
	ctype := resp.Header.Get("Content-Type")
	if resp.StatusCode != 200 || ctype != a.Type || string(body) != want {
		return fmt.Errorf("wrong answer to %s: status %d, Content-Type %q, %d bytes (want 200, %q, %d bytes): %.200q",
			a.Path, resp.StatusCode, ctype, len(body), a.Type, len(want), body)
	}
	return nil
}

// warm loads a server with keep-alive requests; PyPy servers for the whole -warmup.
func (h *harness) warm(ctx context.Context, l *live) error {
	d := warmDur(h, l)
	l.inst.WarmupSec = d.Seconds()
	if d == 0 {
		return nil
	}
	_, err := h.runWrk(ctx, l.app, false, d, l.port)
	if err != nil {
		return err
	}
	if l.p.exited() {
		return fmt.Errorf("exited during warm-up; its log ends:\n%s", l.p.logTail())
	}
	return nil
}

func (h *harness) readMemory(l *live) {
	t, err := readTree(l.p.pid)
	if err != nil {
		return
	}
	l.inst.RSSWorkerMB, l.inst.PrivWorkerMB, l.inst.RSSTotalMB = t.workerRSS()
	l.inst.Processes = len(t.procs)
}

// measure runs wrk once against l and reads the server's CPU time around it.
func (h *harness) measure(ctx context.Context, l *live, mode string, round int) (Run, error) {
	r := Run{Server: l.srv.Name, App: l.app.Name, Workers: l.inst.Workers, Mode: mode, Round: round}
	before, err := readTree(l.p.pid)
	if err != nil {
		return r, err
	}
	busy := cpuBusy(h.serverCPU)
	w, err := h.runWrk(ctx, l.app, mode == "close", h.cfg.Duration, l.port)
	if err != nil {
		return r, err
	}
	busy = cpuBusy(h.serverCPU) - busy
	after, err := readTree(l.p.pid)
	if err != nil {
		return r, fmt.Errorf("%v; its log ends:\n%s", err, l.p.logTail())
	}
	r.Requests, r.Seconds, r.RPS = w.Requests, w.Seconds, w.rps()
	r.MeanUs, r.P50Us, r.P99Us = w.MeanUs, w.P50Us, w.P99Us
	r.Errors, r.ErrInfo = w.Errors, w.RawErrInfo
	r.Wrk = w.Command
	r.ServerCPU = after.cpuSeconds() - before.cpuSeconds()
	if r.Requests > 0 {
		r.CPUPerReqUs = r.ServerCPU / float64(r.Requests) * 1e6
	}
	if w.Wall > 0 {
		r.ServerCores = r.ServerCPU / w.Wall
		r.WrkCPU = w.WrkCPU
		r.WrkLoad = w.WrkCPU / w.Wall / float64(len(h.loadCPUs))
		if h.serveList != "" {
			r.OtherCores = max(0, busy-r.ServerCPU) / w.Wall
		}
	}
	// wrk busy on all of its CPUs while the server still had room: wrk was the limit.
	capCores := float64(l.srv.cap(l.inst.Workers, len(h.serverCPU)))
	r.LoadBound = h.loadList != "" && r.WrkLoad >= 0.90 && r.ServerCores < 0.90*capCores
	return r, nil
}

func (h *harness) progress(r Run) {
	h.done++
	flag := ""
	if r.LoadBound {
		flag = " [wrk-bound]"
	}
	if r.Errors > 0 {
		flag += fmt.Sprintf(" [%d errors: %s]", r.Errors, r.ErrInfo)
	}
	h.logf("[%d/%d] %s %dw %s round %d  %-13s %9.0f req/s  p50 %s  p99 %s  %6.1f µs CPU/req  server %.2f cores  wrk %.0f%%  others %.2f cores%s",
		h.done, h.total, r.App, r.Workers, r.Mode, r.Round, r.Server, r.RPS, fmtUs(r.P50Us), fmtUs(r.P99Us),
		r.CPUPerReqUs, r.ServerCores, 100*r.WrkLoad, r.OtherCores, flag)
}

// groupServers are the servers that serve a: the bare Go server renders no template, so
// that its static answer is no bound for a framework's page.
func (h *harness) groupServers(a app) []string {
	return slices.DeleteFunc(slices.Clone(h.cfg.Servers), func(sn string) bool {
		return !serverByName(sn).runs(a) || sn == "go" && a.Expected != ""
	})
}

func (h *harness) runGroup(ctx context.Context, g group) error {
	names := h.groupServers(g.app)
	h.logf("== %s, %d worker(s): starting %s", g.app.Name, g.workers, strings.Join(names, ", "))
	var ls []*live
	defer func() {
		for _, l := range ls {
			l.p.stop(10 * time.Second)
		}
	}()
	for _, name := range names {
		l, err := h.launch(ctx, serverByName(name), g.app, g.workers)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.res.Instances = append(h.res.Instances, l.inst)
		if err != nil {
			h.fail("%s %s %dw: %v", name, g.app.Name, g.workers, err)
			h.done += len(h.cfg.Modes) * h.cfg.Rounds
			continue
		}
		h.logf("%s up in %.3fs: %s", name, l.inst.StartupSec, l.inst.Command)
		ls = append(ls, l)
	}
	var warmed []*live
	for _, l := range ls {
		if d := warmDur(h, l); d > 0 {
			h.logf("warming up %s for %v", l.srv.Name, d)
		}
		if err := h.warm(ctx, l); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			h.fail("%s %s %dw: warm-up: %v", l.srv.Name, g.app.Name, g.workers, err)
			h.done += len(h.cfg.Modes) * h.cfg.Rounds
			continue
		}
		h.readMemory(l)
		warmed = append(warmed, l)
	}
	for _, mode := range h.cfg.Modes {
		for round := 1; round <= h.cfg.Rounds; round++ {
			for _, l := range warmed {
				if l.p.exited() {
					h.done++
					continue
				}
				r, err := h.measure(ctx, l, mode, round)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					h.fail("%s %s %dw %s round %d: %v", l.srv.Name, g.app.Name, g.workers, mode, round, err)
					h.done++
					continue
				}
				h.res.Runs = append(h.res.Runs, r)
				h.progress(r)
			}
		}
	}
	return nil
}

// warmDur is the warm-up a server gets: the whole -warmup for PyPy's JIT, at most 2s for
// the others (none in smoke mode).
func warmDur(h *harness, l *live) time.Duration {
	switch {
	case l.srv.PyPy:
		return h.cfg.Warmup
	case h.cfg.Smoke:
		return 0
	}
	return min(h.cfg.Warmup, 2*time.Second)
}

// slowServers are the servers of the slow-client runs: all of them, but in smoke mode only
// uwsgo's (the others' wrk runs wait out a full listen queue, which takes the smoke mode's
// time and checks nothing of uwsgo).
func (h *harness) slowServers() []string {
	if !h.cfg.Smoke {
		return h.cfg.Servers
	}
	return slices.DeleteFunc(slices.Clone(h.cfg.Servers), func(sn string) bool { return !strings.HasPrefix(sn, "uwsgo") })
}

// runSlow measures hello world (1 worker, keep-alive) without and with the slow clients,
// alternating, on a fresh instance of each server.
func (h *harness) runSlow(ctx context.Context) error {
	hello := appByName("hello")
	for _, name := range h.slowServers() {
		srv := serverByName(name)
		h.logf("== slow clients: %s, hello, 1 worker", name)
		l, err := h.launch(ctx, srv, hello, 1)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.inst.ForSlowTest = true
		h.res.Instances = append(h.res.Instances, l.inst)
		res := SlowResult{Server: name}
		if err != nil {
			res.Err = err.Error()
			h.res.Slow = append(h.res.Slow, res)
			h.fail("slow clients: %s: %v", name, err)
			h.done += 2 * h.cfg.Rounds
			continue
		}
		err = h.slowRounds(ctx, l, &res)
		l.p.stop(10 * time.Second)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			res.Err = err.Error()
			h.fail("slow clients: %s: %v", name, err)
		}
		if len(res.BaseRPS) > 0 && len(res.SlowRPS) > 0 && median(res.BaseRPS) > 0 {
			res.Fraction = median(res.SlowRPS) / median(res.BaseRPS)
			h.logf("slow clients: %s keeps %.0f%% of its hello throughput (%s)", name, 100*res.Fraction, res.Clients)
		}
		h.res.Slow = append(h.res.Slow, res)
	}
	return nil
}

func (h *harness) slowRounds(ctx context.Context, l *live, res *SlowResult) error {
	if err := h.warm(ctx, l); err != nil {
		return fmt.Errorf("warm-up: %v", err)
	}
	var baseCPU, slowCPU []float64
	for round := 1; round <= h.cfg.Rounds; round++ {
		base, err := h.measure(ctx, l, "keepalive", round)
		if err != nil {
			return err
		}
		h.progress(base)
		res.BaseRPS = append(res.BaseRPS, base.RPS)
		baseCPU = append(baseCPU, base.CPUPerReqUs)

		sc, err := h.startSlowClients(ctx, l.port, h.cfg.Duration+30*time.Second)
		if err != nil {
			return err
		}
		res.Clients = strings.TrimPrefix(sc.Ready, "ready ")
		res.SlowCmd = shellJoin(h.relArgv(sc.p.cmd.Args))
		slow, err := h.measure(ctx, l, "keepalive", round)
		sc.stop()
		if err != nil {
			return err
		}
		slow.Mode = "keepalive+slow"
		h.progress(slow)
		res.SlowRPS = append(res.SlowRPS, slow.RPS)
		res.SlowErrs += slow.Errors
		slowCPU = append(slowCPU, slow.CPUPerReqUs)
		if l.p.exited() {
			return fmt.Errorf("exited; its log ends:\n%s", l.p.logTail())
		}
	}
	res.BaseCPUUs, res.SlowCPUUs = median(baseCPU), median(slowCPU)
	return nil
}

// runProfile serves hello world on a fresh uwsgo with UWSGO_CPUPROFILE set, stops it
// gracefully (which writes the profile) and keeps `go tool pprof -top`.
func (h *harness) runProfile(ctx context.Context) error {
	path := filepath.Join(h.tmp, "uwsgo-hello.pprof")
	os.Remove(path)
	pr := &ProfileResult{File: strings.TrimPrefix(path, h.root+"/")}
	h.res.Profile = pr
	h.logf("== CPU profile: uwsgo, hello, 1 worker, keep-alive (UWSGO_CPUPROFILE=%s)", pr.File)
	l, err := h.launch(ctx, serverByName("uwsgo"), appByName("hello"), 1, "UWSGO_CPUPROFILE="+path)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	l.inst.ForProfiling = true
	h.res.Instances = append(h.res.Instances, l.inst)
	if err != nil {
		pr.Err = err.Error()
		h.fail("profile: %v", err)
		return nil
	}
	err = h.warm(ctx, l)
	var r Run
	if err == nil {
		r, err = h.measure(ctx, l, "keepalive", 1)
	}
	l.p.stop(20 * time.Second)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		pr.Err = err.Error()
		h.fail("profile: %v", err)
		return nil
	}
	pr.RPS = r.RPS
	pr.Cmd = "go tool pprof -top -nodecount=30 " + strings.TrimPrefix(h.uwsgoBin, h.root+"/") + " " + pr.File
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=30", h.uwsgoBin, path).Output()
	if err != nil {
		pr.Err = fmt.Sprintf("go tool pprof: %v", err)
		h.fail("profile: %s", pr.Err)
		return nil
	}
	pr.Top = strings.TrimSpace(string(top))
	h.logf("profile written (%.0f req/s while profiling)", r.RPS)
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtUs(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	}
	return fmt.Sprintf("%.0fµs", us)
}
