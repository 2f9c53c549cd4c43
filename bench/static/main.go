// Command static measures static files served without Python: uwsgo's --static-map
// against Debian's nginx (sendfile on, one worker process) and uWSGI 2.0 + CPython's
// --static-map, on a 4 KiB and a 200 KiB file, keep-alive, one worker each; then a mixed
// load (9 static requests for every app request) on the two that run the app, beside
// the app alone, to show what the files cost the app.
//
//	make build && cd bench && go run ./static -uwsgo ../uwsgo [-duration 10s]
//
// It is separate from the main harness (bench/main.go) so that each can change without
// the other; like it, it runs the servers and wrk on different CPUs when there are two,
// interleaves the servers in rounds and reports the median, starts every process in its
// own group and kills them all on the way out, and asserts nothing: it prints a Markdown
// table.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	uwsgoBin = flag.String("uwsgo", "../uwsgo", "the uwsgo binary (make build)")
	duration = flag.Duration("duration", 10*time.Second, "length of one measured run")
	warmup   = flag.Duration("warmup", 3*time.Second, "load before the measured runs (PyPy's JIT, caches)")
	conns    = flag.Int("connections", 16, "wrk connections")
	rounds   = flag.Int("rounds", 3, "measured rounds, servers interleaved; the median is reported")
	only     = flag.String("servers", "uwsgo,nginx,uwsgi", "servers to run, from uwsgo, nginx, uwsgi")
)

// files are what is served: name and size.
var files = []struct {
	name string
	size int
}{{"f4k.css", 4 << 10}, {"f200k.js", 200 << 10}}

// server is one server under test, started on port with the files in dir.
type server struct {
	name, label string
	app         bool // it runs bench/apps/hello.py at /app as well
	argv        func(dir, port string) []string
}

var servers = []server{
	{"uwsgo", "uwsgo --static-map", true, func(dir, port string) []string {
		return []string{*uwsgoBin, "--http-socket", "127.0.0.1:" + port, "--pypy-wsgi-file", appFile(),
			"--static-map", "/static=" + dir, "--disable-logging"}
	}},
	{"nginx", "nginx (sendfile on, 1 worker)", false, func(dir, port string) []string {
		conf := filepath.Join(dir, "..", "nginx.conf")
		os.WriteFile(conf, []byte(nginxConf(dir, port)), 0o644)
		return []string{"/usr/sbin/nginx", "-p", filepath.Dir(conf), "-c", conf, "-e", "/dev/stderr"}
	}},
	{"uwsgi", "uWSGI 2.0 + CPython --static-map", true, func(dir, port string) []string {
		return []string{"/usr/bin/uwsgi-core", "--plugin", "python3", "--http11-socket", "127.0.0.1:" + port,
			"--wsgi-file", appFile(), "--static-map", "/static=" + dir, "--disable-logging", "--die-on-term",
			"--tcp-nodelay"} // as Go and nginx do on keep-alive connections: without it, Nagle and delayed ACKs stall every file
	}},
}

func nginxConf(dir, port string) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	tmp := filepath.Join(dir, "..")
	return fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log stderr;
events { worker_connections 1024; }
http {
	include /etc/nginx/mime.types;
	sendfile on;
	access_log off;
	keepalive_requests 100000000;
	client_body_temp_path %[2]s/cb;
	proxy_temp_path %[2]s/p;
	fastcgi_temp_path %[2]s/f;
	uwsgi_temp_path %[2]s/u;
	scgi_temp_path %[2]s/s;
	server {
		listen 127.0.0.1:%[3]s;
		location /static/ { alias %[4]s/; }
	}
}
`, user, tmp, port, dir)
}

func appFile() string { abs, _ := filepath.Abs("apps/hello.py"); return abs }

// script is the wrk script of every run: the request of its first argument, and of its
// second every tenth time (the mixed run: 9 static requests for every app request). The
// requests are formatted once; every run, mixed or not, costs wrk the same.
const script = `local reqs, n
init = function(args)
  reqs = {wrk.format("GET", args[1]), wrk.format("GET", args[2] or args[1])}
  n = 0
end
request = function()
  n = n + 1
  if n % 10 == 0 then return reqs[2] end
  return reqs[1]
end
`

var started []*exec.Cmd // killed on the way out

func main() {
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	err := run(ctx)
	for _, c := range started {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/static:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if _, err := os.Stat(*uwsgoBin); err != nil {
		return fmt.Errorf("%v (run make build first, or give -uwsgo)", err)
	}
	if abs, err := filepath.Abs(*uwsgoBin); err == nil {
		*uwsgoBin = abs
	}
	tmp, err := os.MkdirTemp("", "uwsgo-bench-static-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "files")
	os.Mkdir(dir, 0o755)
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), bytes.Repeat([]byte("x"), f.size), 0o644); err != nil {
			return err
		}
	}
	lua := filepath.Join(tmp, "bench.lua")
	if err := os.WriteFile(lua, []byte(script), 0o644); err != nil {
		return err
	}
	serverCPU, loadCPU := "", ""
	if runtime.NumCPU() >= 2 {
		serverCPU, loadCPU = "0", "1"
	}

	// Every server runs for the whole measurement, idle while another is measured; the
	// rounds go round the servers (A B C A B C) so that a noisy machine hurts all alike,
	// and the median of the rounds is reported.
	var live []*running
	for _, s := range servers {
		if !strings.Contains(","+*only+",", ","+s.name+",") {
			continue
		}
		port, err := freePort()
		if err != nil {
			return err
		}
		if err := start(s.argv(dir, port), serverCPU, tmp, s.name); err != nil {
			return err
		}
		r := &running{server: s, base: "http://127.0.0.1:" + port, rps: map[string][]float64{}}
		if err := waitReady(ctx, r.base+"/static/"+files[0].name, files[0].size); err != nil {
			return fmt.Errorf("%s: %v (log: %s)", s.name, err, filepath.Join(tmp, s.name+".log"))
		}
		wrk(ctx, loadCPU, *warmup, lua, r.base, "/static/"+files[0].name)
		if s.app {
			wrk(ctx, loadCPU, *warmup, lua, r.base, "/app")
		}
		live = append(live, r)
	}
	for round := 0; round < *rounds; round++ {
		for _, r := range live {
			for _, f := range files {
				r.measure(ctx, loadCPU, lua, f.name, "/static/"+f.name)
			}
			if r.app {
				r.measure(ctx, loadCPU, lua, "app", "/app")
				r.measure(ctx, loadCPU, lua, "mixed", "/static/"+files[0].name, "/app")
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}

	fmt.Printf("| server | %s req/s | %s req/s | app alone req/s | mixed req/s (of which app) |\n|---|---|---|---|---|\n", files[0].name, files[1].name)
	for _, r := range live {
		row := []string{r.label}
		for _, f := range files {
			row = append(row, r.median(f.name))
		}
		if r.app {
			mixed := r.median("mixed")
			if v, err := strconv.ParseFloat(mixed, 64); err == nil {
				mixed = fmt.Sprintf("%s (%.0f)", mixed, v/10)
			}
			row = append(row, r.median("app"), mixed)
		} else {
			row = append(row, "–", "–")
		}
		fmt.Println("| " + strings.Join(row, " | ") + " |")
	}
	fmt.Printf("\nMedians of %d rounds of %s runs of wrk -t1 -c%d, keep-alive, one worker per server", *rounds, *duration, *conns)
	if serverCPU != "" {
		fmt.Printf("; servers on CPU %s, wrk on CPU %s", serverCPU, loadCPU)
	}
	fmt.Println(".")
	for _, r := range live {
		for k, errs := range r.errs {
			fmt.Printf("%s, %s: %s\n", r.name, k, strings.Join(errs, "; "))
		}
	}
	return nil
}

// running is a server started for the measurement, and what was measured.
type running struct {
	server
	base string
	rps  map[string][]float64
	errs map[string][]string
}

func (r *running) measure(ctx context.Context, cpu, lua, what string, paths ...string) {
	v, problem := wrk(ctx, cpu, *duration, lua, r.base, paths...)
	if problem != "" {
		if r.errs == nil {
			r.errs = map[string][]string{}
		}
		r.errs[what] = append(r.errs[what], problem)
	}
	if v > 0 {
		r.rps[what] = append(r.rps[what], v)
	}
}

func (r *running) median(what string) string {
	v := r.rps[what]
	if len(v) == 0 {
		return "failed"
	}
	sort.Float64s(v)
	return fmt.Sprintf("%.0f", v[len(v)/2])
}

// start runs argv in its own process group, pinned to cpu when given.
func start(argv []string, cpu, tmp, name string) error {
	if cpu != "" {
		argv = append([]string{"/usr/bin/taskset", "-c", cpu}, argv...)
	}
	log, err := os.Create(filepath.Join(tmp, name+".log"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	started = append(started, cmd)
	return nil
}

func waitReady(ctx context.Context, url string, size int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && resp.ContentLength == int64(size) {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("not serving " + url + " within 30 s")
}

var (
	rpsLine  = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	errLines = regexp.MustCompile(`\s*((?:Non-2xx|Socket errors)[^\n]*)`)
)

// wrk runs one load of the paths on base (see script) and returns its req/s, and what
// went wrong if anything did.
func wrk(ctx context.Context, cpu string, d time.Duration, lua, base string, paths ...string) (float64, string) {
	argv := []string{"/usr/bin/wrk", "-t1", "-c" + strconv.Itoa(*conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s",
		"-s", lua, base, "--"}
	argv = append(argv, paths...)
	if cpu != "" {
		argv = append([]string{"/usr/bin/taskset", "-c", cpu}, argv...)
	}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	m := rpsLine.FindSubmatch(out)
	if err != nil || m == nil {
		return 0, fmt.Sprintf("wrk failed: %v: %s", err, bytes.TrimSpace(out))
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	if errs := errLines.FindAllSubmatch(out, -1); len(errs) > 0 {
		var lines []string
		for _, e := range errs {
			lines = append(lines, string(e[1]))
		}
		return v, strings.Join(lines, ", ")
	}
	return v, ""
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
