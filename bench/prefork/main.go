// Command prefork measures what pre-fork (issue 15) gives uwsgo's workers, against
// --lazy-apps (every worker loads the app itself): `make bench-prefork`, or
// `cd bench && go run ./prefork -smoke` to check that it works (seconds; no number means
// anything then). It is a benchmark, never a test: it asserts nothing.
//
// It builds uwsgo from the repository and runs it on the host's PyPy with the bench apps
// (apps/mid.py, apps/djangoapp.py), one instance at a time, each in its own process group:
//
//   - respawn: a worker killed with SIGKILL, until a new worker answers (new connections
//     polled as fast as they are answered), -respawns times, with 2 workers;
//   - first requests: the latency (p50, p99) of a fresh worker's first -first requests on
//     one keep-alive connection, 1 worker: --lazy-apps; pre-fork; pre-fork with --warmup
//     (-first requests of the page in the loaded image); and both pre-fork variants again in
//     a worker forked after a SIGKILL (what a respawn starts with);
//   - memory: Django with 4 workers after -requests requests on new connections (spread over
//     the workers), each worker's private memory (Private_Clean + Private_Dirty of
//     /proc/PID/smaps_rollup: what one more worker costs), pre-fork against --lazy-apps;
//   - curve: the same pre-fork instance under steady load for -curve, its workers' private
//     memory every -every: PyPy's major collections write into old objects and may un-share
//     pages the workers had in common with the loader. -gc adds runs with PyPy's own GC
//     settings (PYPY_GC_* variables, ';' between runs, ',' between variables).
//
// Output: <out>/prefork.md and <out>/prefork.json; uwsgo's logs go to <out>/tmp/.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	bin, out, tmp     string
	respawns, first   int
	requests, clients int
	curve, every      time.Duration
	gc                []string
	apps              []string
}

func main() {
	smoke := flag.Bool("smoke", false, "a check that it works: few requests, a 6-second curve")
	out := flag.String("out", "results", "where prefork.md and prefork.json go (smoke: results/tmp/smoke)")
	respawns := flag.Int("respawns", 10, "workers killed per model")
	first := flag.Int("first", 1000, "requests measured from a fresh worker (and warm-up requests)")
	requests := flag.Int("requests", 3000, "requests before the memory is read")
	clients := flag.Int("clients", 8, "clients of the memory runs")
	curve := flag.Duration("curve", 10*time.Minute, "length of the memory curve")
	every := flag.Duration("every", 30*time.Second, "time between two readings of the curve")
	gc := flag.String("gc", "PYPY_GC_MAJOR_COLLECT=1.4;PYPY_GC_MAJOR_COLLECT=3", "more curves with these PyPy GC settings")
	apps := flag.String("apps", "mid,django", "apps of the first-requests table")
	flag.Parse()
	c := config{out: *out, respawns: *respawns, first: *first, requests: *requests, clients: *clients,
		curve: *curve, every: *every, apps: strings.Split(*apps, ",")}
	if *gc != "" {
		c.gc = strings.Split(*gc, ";")
	}
	if *smoke {
		c.respawns, c.first, c.requests, c.curve, c.every = 2, 100, 300, 6*time.Second, 2*time.Second
		if c.out == "results" {
			c.out = filepath.Join("results", "tmp", "smoke")
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "prefork:", err)
		os.Exit(1)
	}
}

// report is everything measured, as prefork.json holds it.
type report struct {
	Date    time.Time          `json:"date"`
	Respawn map[string][]int64 `json:"respawn_us"` // model -> each respawn
	First   []firstRow         `json:"first_requests"`
	Memory  map[string]memory  `json:"memory"` // model -> private bytes
	Curves  []curve            `json:"curves"`
}

type firstRow struct {
	App, Variant string
	P50, P99     time.Duration
	N            int
}

type memory struct {
	Workers []int64 `json:"workers"`
	Loader  int64   `json:"loader"`
}

type curve struct {
	Env     string          `json:"env"`
	Samples []time.Duration `json:"at"`
	Private []int64         `json:"private_per_worker"` // the workers' mean
}

func run(ctx context.Context, c *config) error {
	c.tmp = filepath.Join(c.out, "tmp")
	if err := os.MkdirAll(c.tmp, 0o755); err != nil {
		return err
	}
	bin, err := filepath.Abs(filepath.Join(c.tmp, "uwsgo-prefork"))
	if err != nil {
		return err
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/uwsgo")
	build.Dir, build.Stdout, build.Stderr = "..", os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building uwsgo: %w", err)
	}
	c.bin = bin
	r := report{Date: time.Now().UTC(), Respawn: map[string][]int64{}, Memory: map[string]memory{}}
	for _, model := range []string{"pre-fork", "lazy-apps"} {
		us, err := respawns(ctx, c, model)
		if err != nil {
			return fmt.Errorf("respawn, %s: %w", model, err)
		}
		r.Respawn[model] = us
	}
	for _, app := range c.apps {
		rows, err := firstRequests(ctx, c, app)
		if err != nil {
			return fmt.Errorf("first requests, %s: %w", app, err)
		}
		r.First = append(r.First, rows...)
	}
	for _, model := range []string{"pre-fork", "lazy-apps"} {
		m, err := memoryAfter(ctx, c, model)
		if err != nil {
			return fmt.Errorf("memory, %s: %w", model, err)
		}
		r.Memory[model] = m
	}
	for _, env := range append([]string{""}, c.gc...) {
		cv, err := memoryCurve(ctx, c, env)
		if err != nil {
			return fmt.Errorf("memory curve %s: %w", env, err)
		}
		r.Curves = append(r.Curves, cv)
	}
	return write(c, &r)
}

// instance is a running uwsgo.
type instance struct {
	cmd  *exec.Cmd
	addr string
	base string
}

// start runs uwsgo with the app file (a path from bench/), n workers, model's options
// and extra, and waits until path answers.
func start(c *config, name, file, path string, n int, model string, env []string, extra ...string) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	app, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--http-socket", addr, "--pypy-wsgi-file", app, "--chdir", filepath.Dir(app),
		"--master", "--processes", strconv.Itoa(n), "--disable-logging"}, extra...)
	if model == "lazy-apps" {
		args = append(args, "--lazy-apps")
	}
	logf, err := os.Create(filepath.Join(c.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	in := &instance{cmd: cmd, addr: addr, base: "http://" + addr}
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if _, err := get(client, in.base+path); err == nil && len(in.workers()) == n {
			return in, nil
		}
		if time.Now().After(deadline) {
			in.stop()
			return nil, fmt.Errorf("uwsgo %s did not answer %s within 2 minutes (log: %s)", strings.Join(args, " "), path, logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (in *instance) stop() {
	syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// workers are the master's children but the loader.
func (in *instance) workers() []int {
	var out []int
	for _, pid := range children(in.cmd.Process.Pid) {
		if !isLoader(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// loader is the pid of the master's loader, 0 if none.
func (in *instance) loader() int {
	for _, pid := range children(in.cmd.Process.Pid) {
		if isLoader(pid) {
			return pid
		}
	}
	return 0
}

func isLoader(pid int) bool {
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.HasPrefix(string(cmdline), "uwsgo loader")
}

// children are the live (not zombie) processes whose parent is ppid.
func children(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		st, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		s := string(st)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(ppid) && f[0] != "Z" {
				pid, _ := strconv.Atoi(e.Name())
				out = append(out, pid)
			}
		}
	}
	return out
}

func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), nil
}

// killOne kills a worker of in and returns it.
func (in *instance) killOne() (int, error) {
	ws := in.workers()
	if len(ws) == 0 {
		return 0, errors.New("no worker to kill")
	}
	return ws[0], syscall.Kill(ws[0], syscall.SIGKILL)
}

// respawns kills a worker of a 2-worker mid instance c.respawns times and times each
// until a new worker answers.
func respawns(ctx context.Context, c *config, model string) ([]int64, error) {
	in, err := start(c, "respawn-"+model, "prefork/pid.py", "/", 2, model, nil)
	if err != nil {
		return nil, err
	}
	defer in.stop()
	fresh := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var out []int64
	for i := 0; i < c.respawns && ctx.Err() == nil; i++ {
		before := in.workers()
		killed, err := in.killOne()
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		for {
			body, err := get(fresh, in.base+"/")
			pid, _ := strconv.Atoi(body)
			if err == nil && pid != killed && !slices.Contains(before, pid) {
				break
			}
			if time.Since(t0) > time.Minute {
				return nil, errors.New("no new worker answered within a minute")
			}
		}
		out = append(out, time.Since(t0).Microseconds())
		fmt.Printf("respawn %s #%d: %v\n", model, i+1, time.Since(t0).Round(10*time.Microsecond))
	}
	return out, ctx.Err()
}

// firstRequests measures a fresh worker's first c.first requests in each variant.
func firstRequests(ctx context.Context, c *config, app string) ([]firstRow, error) {
	file, path := map[string]string{"mid": "apps/mid.py", "django": "apps/djangoapp.py"}[app], "/"
	if file == "" {
		return nil, fmt.Errorf("unknown app %q (mid, django)", app)
	}
	warm := []string{"--warmup", path, "--warmup-requests", strconv.Itoa(c.first)}
	var rows []firstRow
	for _, v := range []struct {
		name, model string
		extra       []string
	}{{"--lazy-apps", "lazy-apps", nil}, {"pre-fork", "pre-fork", nil}, {"pre-fork + --warmup", "pre-fork", warm}} {
		in, err := start(c, "first-"+app+"-"+v.model, file, path, 1, v.model, nil, v.extra...)
		if err != nil {
			return nil, err
		}
		// start asked once already: that request is the worker's first.
		lat, err := sequence(ctx, in.base+path, c.first-1)
		if err == nil {
			rows = append(rows, row(app, v.name, lat))
		}
		if err == nil && v.model == "pre-fork" {
			if _, err = in.killOne(); err == nil {
				lat, err = sequence(ctx, in.base+path, c.first)
				rows = append(rows, row(app, v.name+", after a respawn", lat))
			}
		}
		in.stop()
		if err != nil {
			return nil, err
		}
		fmt.Printf("first requests %s: %+v\n", app, rows[len(rows)-1])
	}
	return rows, nil
}

// sequence sends n requests one after another on one keep-alive connection and returns
// their latencies; a failed one (the worker not there yet) is sent again.
func sequence(ctx context.Context, url string, n int) ([]time.Duration, error) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, 0, n)
	for tries := 0; len(lat) < n && ctx.Err() == nil; {
		t0 := time.Now()
		if _, err := get(client, url); err != nil {
			if tries++; tries > 1000 {
				return nil, err
			}
			time.Sleep(time.Millisecond)
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, ctx.Err()
}

func row(app, variant string, lat []time.Duration) firstRow {
	s := slices.Clone(lat)
	slices.Sort(s)
	return firstRow{App: app, Variant: variant, N: len(s), P50: s[len(s)/2], P99: s[len(s)*99/100]}
}

// load sends requests to url from c.clients clients on new connections until ctx ends or
// n requests (0: no limit) were answered.
func load(ctx context.Context, c *config, url string, n int) error {
	var mu sync.Mutex
	var done int
	var firstErr error
	var wg sync.WaitGroup
	for range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
			for ctx.Err() == nil {
				_, err := get(client, url)
				mu.Lock()
				done++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				stop := (n > 0 && done >= n) || firstErr != nil
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// private is a process's private memory: what it does not share with another process.
func private(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), ":")
		if name == "Private_Clean" || name == "Private_Dirty" {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			total += kb << 10
		}
	}
	return total
}

// memoryAfter reads Django's 4 workers' private memory after c.requests requests.
func memoryAfter(ctx context.Context, c *config, model string) (memory, error) {
	in, err := start(c, "memory-"+model, "apps/djangoapp.py", "/", 4, model, nil)
	if err != nil {
		return memory{}, err
	}
	defer in.stop()
	if err := load(ctx, c, in.base+"/", c.requests); err != nil {
		return memory{}, err
	}
	m := memory{}
	for _, w := range in.workers() {
		m.Workers = append(m.Workers, private(w))
	}
	if l := in.loader(); l != 0 {
		m.Loader = private(l)
	}
	fmt.Printf("memory %s: workers %v, loader %d\n", model, m.Workers, m.Loader)
	return m, nil
}

// memoryCurve follows the workers' private memory of a pre-fork Django instance of 4
// workers under load, with env's PyPy GC settings.
func memoryCurve(ctx context.Context, c *config, env string) (curve, error) {
	vars := strings.FieldsFunc(env, func(r rune) bool { return r == ',' })
	in, err := start(c, "curve"+strings.ReplaceAll(env, "=", "-"), "apps/djangoapp.py", "/", 4, "pre-fork", vars)
	if err != nil {
		return curve{}, err
	}
	defer in.stop()
	cv := curve{Env: env}
	lctx, stop := context.WithTimeout(ctx, c.curve)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- load(lctx, c, in.base+"/", 0) }()
	t0 := time.Now()
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	for {
		var sum int64
		ws := in.workers()
		for _, w := range ws {
			sum += private(w)
		}
		if len(ws) > 0 {
			cv.Samples = append(cv.Samples, time.Since(t0))
			cv.Private = append(cv.Private, sum/int64(len(ws)))
			fmt.Printf("curve %q %v: %.1f MB private per worker\n", env, time.Since(t0).Round(time.Second), float64(sum/int64(len(ws)))/(1<<20))
		}
		select {
		case <-lctx.Done():
			if err := <-errc; err != nil {
				return cv, err
			}
			return cv, ctx.Err()
		case <-tick.C:
		}
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

func mean(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	var s int64
	for _, x := range xs {
		s += x
	}
	return s / int64(len(xs))
}

func write(c *config, r *report) error {
	j, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(c.out, "prefork.json"), j, 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Pre-fork against --lazy-apps\n\n%s, `bench/prefork` (%s). The host's PyPy; one instance at a time.\n\n", r.Date.Format("2006-01-02 15:04 UTC"), strings.Join(os.Args[1:], " "))
	fmt.Fprintf(&b, "## Respawn: SIGKILL to a new worker answering (2 workers, %d kills)\n\n| model | median | max |\n|---|---|---|\n", c.respawns)
	for _, model := range []string{"pre-fork", "lazy-apps"} {
		us := slices.Clone(r.Respawn[model])
		slices.Sort(us)
		if len(us) > 0 {
			fmt.Fprintf(&b, "| %s | %.1f ms | %.1f ms |\n", model, float64(us[len(us)/2])/1000, float64(us[len(us)-1])/1000)
		}
	}
	fmt.Fprintf(&b, "\n## A fresh worker's first %d requests (1 worker, one keep-alive connection)\n\n| app | worker | p50 | p99 |\n|---|---|---|---|\n", c.first)
	for _, f := range r.First {
		fmt.Fprintf(&b, "| %s | %s | %.2f ms | %.2f ms |\n", f.App, f.Variant, float64(f.P50.Microseconds())/1000, float64(f.P99.Microseconds())/1000)
	}
	pre, lazy := r.Memory["pre-fork"], r.Memory["lazy-apps"]
	fmt.Fprintf(&b, "\n## Private memory per worker: Django, 4 workers, after %d requests\n\n| model | per worker (MB) | each worker | loader |\n|---|---|---|---|\n", c.requests)
	for _, m := range []struct {
		name string
		m    memory
	}{{"pre-fork", pre}, {"--lazy-apps", lazy}} {
		each := make([]string, len(m.m.Workers))
		for i, w := range m.m.Workers {
			each[i] = mb(w)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m.name, mb(mean(m.m.Workers)), strings.Join(each, ", "), mb(m.m.Loader))
	}
	if mean(lazy.Workers) > 0 {
		fmt.Fprintf(&b, "\npre-fork / --lazy-apps: %.2f × (goal ≤ 0.6 ×)\n", float64(mean(pre.Workers))/float64(mean(lazy.Workers)))
	}
	fmt.Fprintf(&b, "\n## Private memory per worker over time, pre-fork, Django, 4 workers, %d clients on new connections\n\n", c.clients)
	for _, cv := range r.Curves {
		name := cv.Env
		if name == "" {
			name = "PyPy's defaults"
		}
		fmt.Fprintf(&b, "- %s:", name)
		for i, p := range cv.Private {
			fmt.Fprintf(&b, " %s %s MB;", cv.Samples[i].Round(time.Second), mb(p))
		}
		b.WriteString("\n")
	}
	return os.WriteFile(filepath.Join(c.out, "prefork.md"), []byte(b.String()), 0o644)
}
