// Package stats publishes what the scoreboard knows: uWSGI's stats server document (the
// JSON that uwsgitop and other uWSGI tools read, same keys) and Prometheus metrics.
//
// Everything is read from the scoreboard and /proc, never asked of a worker, so stats
// answer even while every worker is busy or stuck.
package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"uwsgo/internal/instance"
	"uwsgo/internal/shm/metrics"
	"uwsgo/internal/shm/scoreboard"
)

// Source is what a document is made of.
type Source struct {
	Board   *scoreboard.Board
	Sockets []*instance.Socket
	PID     int // the master's, or the single process's
	Version string
	Metrics *metrics.Set // nil: none configured
}

// Document builds the stats document.
func Document(src *Source) map[string]any {
	cwd, _ := os.Getwd()
	var sockets []map[string]any
	queue, load := 0, 0
	for _, s := range src.Sockets {
		q, max := listenQueue(s.Listener)
		queue += q
		sockets = append(sockets, map[string]any{
			"name": s.Addr, "proto": s.Proto, "queue": q, "max_queue": max, "shared": 0, "can_offload": 0,
		})
	}
	workers := []map[string]any{}
	for _, w := range Workers(src.Board) {
		load += w.Busy
		workers = append(workers, w.json())
	}
	metricsDoc := map[string]any{}
	if src.Metrics != nil {
		for i, d := range src.Metrics.Defs {
			metricsDoc[d.Name] = map[string]any{"type": d.Type, "value": src.Metrics.Value(i)}
		}
	}
	return map[string]any{
		"metrics": metricsDoc,
		"version": src.Version, "listen_queue": queue, "listen_queue_errors": 0, "signal_queue": 0,
		"load": load, "pid": src.PID, "uid": os.Getuid(), "gid": os.Getgid(), "cwd": cwd,
		"locks": []any{}, "sockets": sockets, "workers": workers,
	}
}

// Worker is one worker process as the scoreboard shows it.
type Worker struct {
	ID, PID, Record          int
	State                    int64
	Requests, Exceptions, Tx uint64
	RunMicros                uint64
	Respawns, Harakiris      uint64
	Spawned                  time.Time
	App                      string
	Busy                     int
	RSS, VSZ                 int64
	CoreRequests             []uint64
	CoreBusy                 []bool
}

// Workers lists the live worker records, by id.
func Workers(b *scoreboard.Board) []Worker {
	var out []Worker
	for r := 0; r < b.Records(); r++ {
		rec := b.Worker(r)
		st := rec.State.Load()
		if st == scoreboard.Free {
			continue
		}
		w := Worker{
			ID: int(rec.ID.Load()), PID: int(rec.PID.Load()), Record: r, State: st,
			Requests: rec.Requests.Load(), Exceptions: rec.Exceptions.Load(), Tx: rec.TxBytes.Load(),
			RunMicros: rec.RunMicros.Load(), Respawns: rec.Respawns.Load(), Harakiris: rec.Harakiris.Load(),
			Spawned: time.UnixMicro(rec.Spawned.Load()), App: rec.App(),
		}
		for t := 0; t < b.Threads(); t++ {
			c := b.Core(r, t)
			busy := c.Started.Load() != 0
			if busy {
				w.Busy++
			}
			w.CoreBusy = append(w.CoreBusy, busy)
			w.CoreRequests = append(w.CoreRequests, c.Requests.Load())
		}
		if w.PID > 0 {
			w.RSS, w.VSZ = Memory(w.PID)
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID || out[i].ID == out[j].ID && out[i].PID < out[j].PID })
	return out
}

func (w Worker) status() string {
	switch {
	case w.State == scoreboard.Starting:
		return "starting"
	case w.State == scoreboard.Stopping:
		return "stopping"
	case w.Busy > 0:
		return "busy"
	}
	return "idle"
}

func (w Worker) avgRT() uint64 {
	if w.Requests == 0 {
		return 0
	}
	return w.RunMicros / w.Requests
}

func (w Worker) json() map[string]any {
	accepting := 0
	if w.State == scoreboard.Ready {
		accepting = 1
	}
	var apps []map[string]any
	if w.App != "" {
		apps = append(apps, map[string]any{
			"id": 0, "modifier1": 0, "mountpoint": "", "startup_time": 0, "callable": w.App,
			"requests": w.Requests, "exceptions": w.Exceptions, "chdir": "",
		})
	}
	var cores []map[string]any
	for t := range w.CoreBusy {
		in := 0
		if w.CoreBusy[t] {
			in = 1
		}
		cores = append(cores, map[string]any{
			"id": t, "requests": w.CoreRequests[t], "static_requests": 0, "routed_requests": 0,
			"offloaded_requests": 0, "write_errors": 0, "read_errors": 0, "in_request": in,
			"vars": []any{}, "req_info": map[string]any{},
		})
	}
	return map[string]any{
		"id": w.ID, "pid": w.PID, "accepting": accepting, "requests": w.Requests, "delta_requests": 0,
		"exceptions": w.Exceptions, "harakiri_count": w.Harakiris, "signals": 0, "signal_queue": 0,
		"status": w.status(), "rss": w.RSS, "vsz": w.VSZ, "running_time": w.RunMicros,
		"last_spawn": w.Spawned.Unix(), "respawn_count": w.Respawns, "tx": w.Tx, "avg_rt": w.avgRT(),
		"apps": apps, "cores": cores,
	}
}

// Memory reads a process's resident and virtual size in bytes.
func Memory(pid int) (rss, vsz int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, 0
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	page := int64(os.Getpagesize())
	return resident * page, size * page
}

// listenQueue reads how many connections wait to be accepted on a TCP listener and the
// queue's length (Linux reports both in TCP_INFO of a listening socket).
func listenQueue(ln net.Listener) (queued, max int) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return 0, 0
	}
	raw, err := tl.SyscallConn()
	if err != nil {
		return 0, 0
	}
	raw.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			queued, max = int(info.Unacked), int(info.Sacked)
		}
	})
	return queued, max
}

// Serve answers on addr (TCP or UNIX): with httpMode, HTTP with the document at / and
// Prometheus metrics at /metrics; otherwise the document to every connection, as uWSGI's
// stats server does.
func Serve(addr string, httpMode bool, src *Source, logger *log.Logger) error {
	network := "tcp"
	if instance.IsUnixPath(addr) {
		network = "unix"
		os.Remove(addr)
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	logger.Printf("stats on %s (%s)", ln.Addr(), map[bool]string{true: "HTTP: / and /metrics", false: "JSON per connection"}[httpMode])
	if httpMode {
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			Prometheus(w, src)
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(Document(src))
		})
		go http.Serve(ln, mux)
		return nil
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := json.Marshal(Document(src))
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(b)
			c.Close()
		}
	}()
	return nil
}

// Prometheus writes the metrics in Prometheus' text format. The format is a few lines of
// text; a client library's registry would add a dependency for what is a loop over the
// scoreboard.
func Prometheus(w io.Writer, src *Source) {
	var b bytes.Buffer
	workers := Workers(src.Board)
	metric := func(name, kind, help string, value func(Worker) float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
		for _, wk := range workers {
			fmt.Fprintf(&b, "%s{worker=\"%d\",pid=\"%d\"} %g\n", name, wk.ID, wk.PID, value(wk))
		}
	}
	metric("uwsgo_worker_requests_total", "counter", "Requests the worker process served.", func(w Worker) float64 { return float64(w.Requests) })
	metric("uwsgo_worker_exceptions_total", "counter", "Requests whose app raised.", func(w Worker) float64 { return float64(w.Exceptions) })
	metric("uwsgo_worker_tx_bytes_total", "counter", "Response body bytes sent.", func(w Worker) float64 { return float64(w.Tx) })
	metric("uwsgo_worker_busy_threads", "gauge", "Threads running a request now.", func(w Worker) float64 { return float64(w.Busy) })
	metric("uwsgo_worker_resident_bytes", "gauge", "Resident memory of the worker process.", func(w Worker) float64 { return float64(w.RSS) })
	metric("uwsgo_worker_avg_response_seconds", "gauge", "Average time in the app per request.", func(w Worker) float64 { return float64(w.avgRT()) / 1e6 })
	metric("uwsgo_worker_respawns_total", "counter", "Processes that had this worker id before.", func(w Worker) float64 { return float64(w.Respawns) })
	metric("uwsgo_worker_harakiri_total", "counter", "Processes of this worker id killed by harakiri.", func(w Worker) float64 { return float64(w.Harakiris) })
	if src.Metrics != nil && len(src.Metrics.Defs) > 0 {
		for i, d := range src.Metrics.Defs {
			kind := "gauge"
			if d.Type == "counter" {
				kind = "counter"
			}
			name := "uwsgo_metric_" + promName(d.Name)
			fmt.Fprintf(&b, "# HELP %s The app's --metric %s.\n# TYPE %s %s\n%s %d\n", name, d.Name, name, kind, name, src.Metrics.Value(i))
		}
	}
	fmt.Fprintf(&b, "# HELP uwsgo_listen_queue Connections waiting to be accepted.\n# TYPE uwsgo_listen_queue gauge\n")
	for _, s := range src.Sockets {
		q, _ := listenQueue(s.Listener)
		fmt.Fprintf(&b, "uwsgo_listen_queue{socket=%q} %d\n", s.Addr, q)
	}
	w.Write(b.Bytes())
}

// promName maps a uWSGI metric name (dots, dashes) to a Prometheus one.
func promName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
