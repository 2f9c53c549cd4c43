// Command bench is uwsgo's benchmark harness: `make bench` (full) and `make bench-smoke`.
//
// It builds uwsgo from the parent directory and starts each server on 127.0.0.1: uwsgo on
// the host's PyPy 3.9; the same binary and uWSGI 2.0 with its PyPy plugin (the system uwsgo
// replaces) on PyPy 3.11, both inside a Debian trixie root through chroot (root.go: Debian
// 12's libc is too old for trixie's binaries); a bare Go net/http server answering the same
// bytes, the practical upper bound; uWSGI 2.0 with its CPython 3.11 plugin; gunicorn's sync
// workers on CPython and on PyPy. Each loads the same app file (apps/: hello world as a
// list, from a generator and through write(); a mid-weight page; 1 MiB; a POST; a sleep;
// Flask and Django pages, JSON and an ORM read; and, for the ASGI servers (asgi.go: uwsgo,
// uvicorn and hypercorn on PyPy, uvicorn with uvloop and httptools on CPython), a raw ASGI
// hello, Quart's JSON, a 10 ms asyncio.sleep under 256 connections and a WebSocket echo),
// and its first answer is checked byte for byte (status, Content-Type, body) against the
// expected one: built in bare.go, or
// apps/expected/ for the frameworks, whose versions differ between the host (Flask 2.2,
// Django 3.2) and the root (Flask 3.1, Django 4.2) but whose answers do not. It needs
// Debian packages only (bench/install-deps installs them, and with --trixie-root makes the
// root by scripts/trixie-root).
//
// The order of a run: first each app's own cost, measured without a server by apploop.py
// in a plain loop of each interpreter the servers run it on (loop.go); then, for each
// (app, workers) group, every server is started fresh, its time to the first answered
// request is taken, it is warmed up (PyPy's JIT needs seconds of load) and its resident
// memory is read; then the measured runs go round the servers (A B C A B C) once per round
// and per connection mode, so that a noisy machine hurts all alike, and the median of the
// rounds is reported. Besides wrk's req/s and latency it reads each server's own CPU time
// (user+system of all its processes, /proc/PID/stat) and divides it by the requests served,
// which does not depend on the load generator; that minus the app's loop cost is the
// server's overhead. A run where wrk, not the server, was the limit is flagged. Then come
// the hello-world throughput under 200 slow clients (a small Go client in this binary,
// started as `bench -slow-clients`), and a CPU profile of uwsgo under the hello load
// (UWSGO_CPUPROFILE, `go tool pprof -top`).
//
// The server and the load generator run on different CPUs (taskset) when the machine has
// at least two. Every process it starts gets its own process group, and every group is
// killed on the way out, on errors and on SIGINT/SIGTERM too; what it copied into the
// trixie root is removed then, and it mounts nothing.
//
// Output: <out>/latest.md (tables, machine, date, exact commands, the "Targets" table,
// issue 11's first: uwsgo against uWSGI+PyPy on the same PyPy, and the server's overhead),
// <out>/latest.png (req/s per server and app) and <out>/latest.json (every run). Logs, the
// uwsgo binary and the profile go to bench/results/tmp/, which git ignores.
//
// The harness is never part of the tests: -smoke runs short measurements of fewer
// combinations, one round, and asserts nothing about the numbers. When the trixie root is
// missing, its servers are skipped (and the output says so) unless -servers names them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// config is what the flags say.
type config struct {
	Smoke       bool
	Duration    time.Duration
	Warmup      time.Duration
	Rounds      int
	Servers     []string
	Apps        []string
	Workers     []int
	Modes       []string
	Connections int
	Slow        bool
	SlowClients int
	Profile     bool
	Out         string
	UwsgoBin    string
	Note        string
	TrixieRoot  string

	serversGiven bool // -servers named them: a missing trixie root is then an error
}

func main() {
	// The two helper roles this binary plays for itself, run as child processes.
	bareAddr := flag.String("bare", "", "internal: serve the bare Go server on this address")
	bareApp := flag.String("bare-app", "hello", "internal: the app the bare Go server answers")
	bareThreads := flag.Int("bare-threads", 0, "internal: requests in a handler at once (0: no limit)")
	slowAddr := flag.String("slow-clients", "", "internal: hold slow clients open on this address")
	slowN := flag.Int("slow-n", 200, "internal: number of slow clients")
	slowFor := flag.Duration("slow-for", time.Minute, "internal: stop the slow clients after this long")
	wsAddr := flag.String("ws-echo", "", "internal: run WebSocket echo clients against this address")
	wsN := flag.Int("ws-n", wsEchoClients, "internal: number of WebSocket echo clients")
	wsFor := flag.Duration("ws-for", 10*time.Second, "internal: how long the WebSocket echo clients run")

	smoke := flag.Bool("smoke", false, "smoke mode: 1-second runs, 1 round, fewer combinations (no assertions)")
	duration := flag.Duration("duration", 0, "length of one measured run (default 10s; smoke 1s)")
	warmup := flag.Duration("warmup", 0, "warm-up load for PyPy servers; CPython and Go servers get at most 2s (default 10s; smoke 1s)")
	rounds := flag.Int("rounds", 0, "measured rounds, servers interleaved; the median is reported (default 3; smoke 1)")
	servers := flag.String("servers", "", "servers to run, comma-separated, from: "+strings.Join(serverNames(), ","))
	apps := flag.String("apps", "", "apps to run, comma-separated, from: "+strings.Join(appNames(), ",")+" (smoke: hello,flask,django-orm)")
	workers := flag.String("workers", "1,2", "worker counts; 2 or more run for hello, mid, post, sleep, flask and django only (smoke: hello only)")
	modes := flag.String("modes", "keepalive,close", "connection modes: keepalive, close")
	conns := flag.Int("connections", 16, "wrk connections (the sleep app gets at least 2 per Python thread)")
	slow := flag.Bool("slow", true, "measure hello world under slow clients")
	slowClients := flag.Int("slow-n-clients", 200, "slow clients held open during the slow-client runs")
	profile := flag.Bool("profile", true, "profile uwsgo under the hello load (UWSGO_CPUPROFILE)")
	out := flag.String("out", "", "directory for latest.md, latest.png, latest.json (default results; smoke results/tmp/smoke)")
	uwsgoBin := flag.String("uwsgo", "", "use this uwsgo binary instead of building ../cmd/uwsgo")
	note := flag.String("note", "", "a sentence for latest.md (for example why this configuration ran)")
	trixie := flag.String("trixie-root", defaultTrixieRoot(), "the Debian trixie root of the PyPy 3.11 servers (scripts/trixie-root makes it; $UWSGO_TRIXIE_ROOT)")
	flag.Parse()

	switch {
	case *bareAddr != "":
		exitOn(serveBare(*bareAddr, *bareApp, *bareThreads))
		return
	case *slowAddr != "":
		exitOn(runSlowClients(*slowAddr, *slowN, *slowFor))
		return
	case *wsAddr != "":
		exitOn(runWSClients(*wsAddr, *wsN, *wsFor))
		return
	}

	cfg := config{
		Smoke: *smoke, Duration: *duration, Warmup: *warmup, Rounds: *rounds,
		Connections: *conns, Slow: *slow, SlowClients: *slowClients, Profile: *profile,
		Out: *out, UwsgoBin: *uwsgoBin, Note: *note, TrixieRoot: *trixie,
	}
	if err := cfg.complete(*servers, *apps, *workers, *modes); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	h, err := newHarness(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	err = h.run(ctx)
	h.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func defaultTrixieRoot() string {
	if d := os.Getenv("UWSGO_TRIXIE_ROOT"); d != "" {
		return d
	}
	return "/var/cache/uwsgo/trixie"
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// complete fills in the defaults of the mode and checks the lists.
func (c *config) complete(servers, apps, workers, modes string) error {
	def := func(d *time.Duration, full, smoke time.Duration) {
		if *d == 0 {
			*d = full
			if c.Smoke {
				*d = smoke
			}
		}
	}
	def(&c.Duration, 10*time.Second, time.Second)
	def(&c.Warmup, 10*time.Second, time.Second)
	if c.Duration < time.Second {
		return fmt.Errorf("-duration %v: wrk measures whole seconds, 1s at least", c.Duration)
	}
	if c.Rounds == 0 {
		c.Rounds = 3
		if c.Smoke {
			c.Rounds = 1
		}
	}
	if c.Rounds < 1 || c.Rounds > 20 {
		return fmt.Errorf("-rounds %d: want 1..20", c.Rounds)
	}
	if c.Connections < 1 || c.Connections > 1000 {
		return fmt.Errorf("-connections %d: want 1..1000", c.Connections)
	}
	if c.SlowClients < 1 || c.SlowClients > 2000 {
		return fmt.Errorf("-slow-n-clients %d: want 1..2000", c.SlowClients)
	}
	if apps == "" && c.Smoke {
		apps = "hello,flask,django-orm"
	}
	var err error
	c.serversGiven = strings.TrimSpace(servers) != ""
	if c.Servers, err = pick("-servers", servers, serverNames()); err != nil {
		return err
	}
	if c.Apps, err = pick("-apps", apps, appNames()); err != nil {
		return err
	}
	if c.Modes, err = pick("-modes", modes, []string{"keepalive", "close"}); err != nil {
		return err
	}
	ws, err := pick("-workers", workers, []string{"1", "2", "3", "4"})
	if err != nil {
		return err
	}
	for _, w := range ws {
		c.Workers = append(c.Workers, int(w[0]-'0'))
	}
	if c.Out == "" {
		c.Out = "results"
		if c.Smoke {
			c.Out = filepath.Join("results", "tmp", "smoke")
		}
	}
	return nil
}

// pick returns the names of list (all of known when empty) in known's order.
func pick(flagName, list string, known []string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return known, nil
	}
	want := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		ok := false
		for _, k := range known {
			ok = ok || k == s
		}
		if !ok {
			return nil, fmt.Errorf("%s: unknown %q (known: %s)", flagName, s, strings.Join(known, ", "))
		}
		want[s] = true
	}
	var out []string
	for _, k := range known {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

func (c *config) modeName() string {
	switch {
	case c.Smoke:
		return "smoke"
	case c.Duration == 10*time.Second && c.Warmup == 10*time.Second && c.Rounds == 3 &&
		len(c.Servers) == len(servers) && len(c.Apps) == len(apps) && len(c.Workers) == 2 && len(c.Modes) == 2:
		return "full"
	}
	return "reduced"
}
