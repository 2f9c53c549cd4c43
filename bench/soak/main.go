// Command soak runs uwsgo under steady, mixed load for a long time and records whether its
// memory and descriptors level off: `make soak` (30 minutes; SOAKFLAGS="-duration 1m" for a
// check that it works). It is a benchmark, never a test: it asserts nothing.
//
// It builds uwsgo from the repository, starts it with a master and two workers on the soak
// app (app.py: pages, POST bodies, streamed and large responses, 404s), and keeps
// -clients keep-alive clients busy. Every -sample it reads the resident memory and the open
// descriptors of the master and of every worker (/proc), and counts the requests answered
// and failed. At the end it writes <out>/soak.md (the samples, and the memory growth in
// MB/min over each half of the run: a leak grows in both, warming up only in the first)
// and <out>/soak.json.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sample is one reading of the instance.
type sample struct {
	At      time.Duration `json:"at_ns"`
	RSS     int64         `json:"rss_bytes"` // master and workers together
	FDs     int           `json:"fds"`       // master and workers together
	Workers int           `json:"workers"`
	OK      int64         `json:"ok"`
	Failed  int64         `json:"failed"`
}

func main() {
	duration := flag.Duration("duration", 30*time.Minute, "how long the load runs")
	every := flag.Duration("sample", 10*time.Second, "time between two readings")
	clients := flag.Int("clients", 16, "keep-alive clients")
	processes := flag.Int("processes", 2, "uwsgo workers")
	out := flag.String("out", "results", "where soak.md and soak.json go")
	addr := flag.String("addr", "127.0.0.1:20990", "where uwsgo listens")
	flag.Parse()
	if err := run(*duration, *every, *clients, *processes, *out, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(duration, every time.Duration, clients, processes int, out, addr string) error {
	tmp := filepath.Join(out, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	bin, err := filepath.Abs(filepath.Join(tmp, "uwsgo-soak"))
	if err != nil {
		return err
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/uwsgo")
	build.Dir, build.Stdout, build.Stderr = "..", os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building uwsgo: %w", err)
	}
	app, err := filepath.Abs(filepath.Join("soak", "app.py"))
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(tmp, "soak-uwsgo.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"--http-socket", addr, "--pypy-wsgi-file", app, "--master",
		"--processes", strconv.Itoa(processes), "--threads", "4", "--disable-logging"}
	srv := exec.Command(bin, args...)
	srv.Stdout, srv.Stderr = logf, logf
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		syscall.Kill(-srv.Process.Pid, syscall.SIGTERM)
		srv.Wait()
	}()
	if err := waitDial(addr, 60*time.Second); err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	ctx, stop := context.WithTimeout(ctx, duration)
	defer stop()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load(ctx, "http://"+addr, i, &ok, &failed)
		}()
	}
	start := time.Now()
	var samples []sample
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		s := read(srv.Process.Pid)
		s.At, s.OK, s.Failed = time.Since(start), ok.Load(), failed.Load()
		samples = append(samples, s)
		fmt.Printf("%8s  rss %7.1f MB  fds %4d  workers %d  ok %9d  failed %d\n",
			s.At.Round(time.Second), mb(s.RSS), s.FDs, s.Workers, s.OK, s.Failed)
		select {
		case <-ctx.Done():
			wg.Wait()
			return report(out, args, clients, samples)
		case <-tick.C:
		}
	}
}

// load is one client's loop: the mix of requests, on one keep-alive connection.
func load(ctx context.Context, base string, i int, ok, failed *atomic.Int64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: time.Minute}
	body := bytes.Repeat([]byte("p"), 64<<10)
	paths := []string{"/page", "/page", "/page", "/post", "/stream", "/big", "/missing"}
	for n := i; ctx.Err() == nil; n++ {
		path := paths[n%len(paths)]
		var resp *http.Response
		var err error
		if path == "/post" {
			resp, err = client.Post(base+path, "text/plain", bytes.NewReader(body))
		} else {
			resp, err = client.Get(base + path)
		}
		if err != nil {
			if ctx.Err() == nil {
				failed.Add(1)
			}
			continue
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		want := 200
		if path == "/missing" {
			want = 404
		}
		if err != nil || resp.StatusCode != want {
			failed.Add(1)
			continue
		}
		ok.Add(1)
	}
}

// read sums the resident memory and descriptors of the master and its children.
func read(master int) sample {
	pids := []int{master}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			// pid (comm) state ppid ...: comm may hold spaces, so count from its ')'.
			f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(master) {
				pids = append(pids, pid)
			}
		}
	}
	s := sample{Workers: len(pids) - 1}
	for _, pid := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid)); err == nil {
			if f := strings.Fields(string(b)); len(f) > 1 {
				pages, _ := strconv.ParseInt(f[1], 10, 64)
				s.RSS += pages * int64(os.Getpagesize())
			}
		}
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		s.FDs += len(fds)
	}
	return s
}

func report(out string, args []string, clients int, samples []sample) error {
	last := samples[len(samples)-1]
	mid := samples[len(samples)/2]
	first := samples[0]
	if len(samples) > 2 {
		first = samples[1] // the first reading is taken before any load
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Soak: uwsgo under steady load\n\n")
	fmt.Fprintf(&b, "%s, %d keep-alive clients (pages, 64 KiB POSTs, 1 MiB streamed and 1 MiB list responses, 404s), `uwsgo %s`.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), clients, strings.Join(args, " "))
	fmt.Fprintf(&b, "Memory growth (master and workers): %+.2f MB/min over the first half, %+.2f MB/min over the second. Descriptors: %d at the start, %d at the end. Requests: %d answered, %d failed.\n\n",
		slope(first, mid), slope(mid, last), first.FDs, last.FDs, last.OK, last.Failed)
	fmt.Fprintf(&b, "| time | RSS (MB) | fds | workers | requests | failed |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "| %s | %.1f | %d | %d | %d | %d |\n", s.At.Round(time.Second), mb(s.RSS), s.FDs, s.Workers, s.OK, s.Failed)
	}
	if err := os.WriteFile(filepath.Join(out, "soak.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	j, _ := json.MarshalIndent(samples, "", "  ")
	fmt.Print("\n" + b.String())
	return os.WriteFile(filepath.Join(out, "soak.json"), j, 0o644)
}

func slope(a, b sample) float64 {
	minutes := (b.At - a.At).Minutes()
	if minutes <= 0 {
		return 0
	}
	return mb(b.RSS-a.RSS) / minutes
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func waitDial(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("uwsgo did not listen on %s within %v", addr, d)
}
