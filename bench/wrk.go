package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkResult is what one wrk run reports (through wrk.lua's done()) and what it cost.
type wrkResult struct {
	Requests   int64
	Seconds    float64 // wrk's own measure of the run
	Errors     int64   // connect + read + write + timeout + non-2xx
	Timeouts   int64
	MeanUs     float64
	P50Us      float64
	P90Us      float64
	P99Us      float64
	MaxUs      float64
	WrkCPU     float64 // wrk's user+system seconds
	Wall       float64 // wall seconds of the wrk process
	Command    string
	RawErrInfo string
}

func (r wrkResult) rps() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Seconds
}

// wrkArgs is the command (and its environment additions) for one run against port.
func (h *harness) wrkArgs(a app, closeConns bool, d time.Duration, port int) (argv, env []string) {
	conns := h.cfg.Connections
	if a.Threads > 1 && conns < 4*a.Threads {
		conns = 4 * a.Threads // enough to keep every Python thread of two workers busy
	}
	conns = max(conns, a.Connections)
	threads := max(1, min(len(h.loadCPUs), conns))
	secs := int((d + time.Second - 1) / time.Second)
	if a.BodyBytes > 0 {
		env = append(env, "BENCH_BODY_BYTES="+strconv.Itoa(a.BodyBytes))
	}
	if closeConns {
		env = append(env, "BENCH_CLOSE=1")
	}
	if h.loadList != "" {
		argv = append(argv, "/usr/bin/taskset", "-c", h.loadList)
	}
	argv = append(argv, "/usr/bin/wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(secs)+"s", "--timeout", "2s", "-s", h.wrkScript, "http://"+addr(port)+a.Path)
	return argv, env
}

func (h *harness) runWrk(ctx context.Context, a app, closeConns bool, d time.Duration, port int) (wrkResult, error) {
	argv, env := h.wrkArgs(a, closeConns, d, port)
	res := wrkResult{Command: strings.TrimSpace(strings.Join(env, " ") + " " + shellJoin(h.relArgv(argv)))}
	// wrk first connects once, blocking, to a server whose listen queue may be full (a
	// server held by slow clients): bound the whole run.
	limit := d + 8*time.Second
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(wctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res.Wall = time.Since(start).Seconds()
	if cmd.ProcessState != nil {
		res.WrkCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if wctx.Err() != nil {
		res.Seconds = d.Seconds()
		res.Errors = 1
		res.RawErrInfo = fmt.Sprintf("wrk stopped after %v without a result: it could not connect (the server's listen queue was full)", limit)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("wrk: %v: %s %s", err, strings.TrimSpace(out.String()), strings.TrimSpace(errb.String()))
	}
	line := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "BENCH ") {
			line = l
		}
	}
	if line == "" {
		return res, fmt.Errorf("wrk printed no result line: %s %s", strings.TrimSpace(out.String()), strings.TrimSpace(errb.String()))
	}
	kv := map[string]float64{}
	for _, f := range strings.Fields(line)[1:] {
		k, v, _ := strings.Cut(f, "=")
		kv[k], _ = strconv.ParseFloat(v, 64)
	}
	res.Requests = int64(kv["requests"])
	res.Seconds = kv["duration_us"] / 1e6
	res.Timeouts = int64(kv["timeout"])
	res.Errors = int64(kv["connect"] + kv["read"] + kv["write"] + kv["status"] + kv["timeout"])
	if res.Errors > 0 {
		res.RawErrInfo = fmt.Sprintf("connect %d, read %d, write %d, timeout %d, non-2xx %d",
			int64(kv["connect"]), int64(kv["read"]), int64(kv["write"]), int64(kv["timeout"]), int64(kv["status"]))
	}
	res.MeanUs, res.P50Us, res.P90Us, res.P99Us, res.MaxUs = kv["mean_us"], kv["p50_us"], kv["p90_us"], kv["p99_us"], kv["max_us"]
	return res, nil
}
