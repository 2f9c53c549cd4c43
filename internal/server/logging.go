package server

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"uwsgo/internal/accesslog"
)

// LogFilter is what uWSGI's log-4xx, log-5xx, log-slow and log-big still log when
// --disable-logging turned the access log off.
type LogFilter struct {
	Status4xx, Status5xx bool
	Slower               time.Duration // 0: none
	Bigger               int64         // response body bytes; 0: none
}

// logs says whether the request gets an access log line.
func (c *conn) logs(x *exchange, status int, start time.Time) bool {
	if c.s.cfg.AccessLog {
		return true
	}
	f := &c.s.cfg.LogAlso
	return f.Status4xx && status >= 400 && status < 500 || f.Status5xx && status >= 500 ||
		f.Slower > 0 && time.Since(start) > f.Slower || f.Bigger > 0 && x.sent > f.Bigger
}

// logRequest writes the access log line of a finished request: with --log-format, the
// compiled format rendered into the connection's reused buffer and written as it is (one
// write, no allocation); otherwise uwsgo's own line, through the logger.
func (c *conn) logRequest(x *exchange, status int, start time.Time) {
	cfg := &c.s.cfg
	out := cfg.Log
	if cfg.ReqLog != nil {
		out = cfg.ReqLog
	}
	if cfg.LogFormat == nil {
		memory := ""
		if cfg.MemoryReport != nil {
			rss, vsz := cfg.MemoryReport()
			memory = fmt.Sprintf(" {address space usage: %d bytes/%dMB} {rss usage: %d bytes/%dMB}", vsz, vsz>>20, rss, rss>>20)
		}
		out.Printf("%s %s %s => %d, %d bytes in %.3f ms%s", accesslog.ClientAddr(x.vars, cfg.LogXForwardedFor), x.req.Method, x.req.Target, status, x.sent, float64(time.Since(start).Microseconds())/1000, memory)
		return
	}
	e := accesslog.Entry{
		Method: x.req.Method, URI: x.req.Target, Proto: protoName(x),
		Status: status, BodyBytes: x.sent, HeadBytes: x.headBytes, RequestBodyBytes: x.bodyLen,
		Start: start, Duration: time.Since(start),
		Vars: x.vars, Logvars: x.logvars,
		PID: c.s.pid, WorkerID: cfg.WorkerID,
	}
	c.logLine = cfg.LogFormat.Append(c.logLine[:0], &e)
	out.Writer().Write(c.logLine)
}

var (
	http10 = []byte("HTTP/1.0")
	http11 = []byte("HTTP/1.1")
)

func protoName(x *exchange) []byte {
	if x.req.ProtoMajor == 1 && x.req.ProtoMinor == 0 {
		return http10
	}
	return http11
}

// SetLogvar is uwsgi.set_logvar on the request named by handle: a value for its access
// log line (--log-format's %(name)). The exchange keeps the buffers between requests.
func (s *Server) SetLogvar(handle int, key, value []byte) error {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return err
	}
	for i := range x.logvars {
		if bytes.Equal(x.logvars[i].Key, key) {
			x.logvars[i].Value = append(x.logvars[i].Value[:0], value...)
			return nil
		}
	}
	n := len(x.logvars)
	if n < cap(x.logvars) {
		x.logvars = x.logvars[:n+1]
	} else {
		x.logvars = append(x.logvars, accesslog.Var{})
	}
	v := &x.logvars[n]
	v.Key = append(v.Key[:0], key...)
	v.Value = append(v.Value[:0], value...)
	return nil
}

// Logvar is uwsgi.get_logvar on the request named by handle.
func (s *Server) Logvar(handle int, key []byte) ([]byte, bool, error) {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return nil, false, err
	}
	for _, v := range x.logvars {
		if bytes.Equal(v.Key, key) {
			return v.Value, true, nil
		}
	}
	return nil, false, nil
}

// refusals limits the log lines of refused requests and bad packets: anyone can send
// them, and a line each would let one client fill the disk and bury the log. Past
// refusalLines in a second, they are counted, and the count is logged when the second ends.
type refusals struct {
	mu      sync.Mutex
	second  time.Time // when the current second began
	lines   int       // written in it
	dropped int       // not written in it
}

const refusalLines = 20

// logRefusal logs a request or packet refused before it reached Python.
func (s *Server) logRefusal(format string, args ...any) {
	r := &s.refusals
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.second) >= time.Second && r.dropped == 0 {
		r.second, r.lines = now, 0
	}
	if r.lines < refusalLines {
		r.lines++
		r.mu.Unlock()
		s.cfg.Log.Printf(format, args...)
		return
	}
	if r.dropped == 0 {
		time.AfterFunc(time.Until(r.second.Add(time.Second)), s.logDropped)
	}
	r.dropped++
	r.mu.Unlock()
}

func (s *Server) logDropped() {
	r := &s.refusals
	r.mu.Lock()
	n := r.dropped
	r.dropped, r.second, r.lines = 0, time.Now(), 0
	r.mu.Unlock()
	s.cfg.Log.Printf("%d more refused requests or bad packets in the last second were not logged (at most %d lines a second)", n, refusalLines)
}
