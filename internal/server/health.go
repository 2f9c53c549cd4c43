package server

import (
	"bytes"
	"strconv"
)

// The health check (--health-path) is answered here, before any Python: it costs no
// thread slot, so a busy or stuck app does not make the probe time out, and it answers
// 503 from the moment the instance starts stopping (Drain), while --shutdown-delay keeps
// it serving, so that load balancers and Kubernetes move traffic away before the
// listeners close. Probes are not written to the access log: they come every few seconds
// and say nothing about the app's traffic.

// Drain marks the instance as stopping: the health check answers 503 from now on.
func (s *Server) Drain() { s.unhealthy.Store(true) }

// isHealthCheck: GET or HEAD of exactly the health path, whatever the query string.
func (c *conn) isHealthCheck(x *exchange) bool {
	m := x.req.Method
	return bytes.Equal(x.req.Path, c.s.healthPath) && (string(m) == "GET" || string(m) == "HEAD")
}

// answerHealth queues the health check's answer; false means close the connection.
func (c *conn) answerHealth(x *exchange) bool {
	code, body := "200 OK", "ok\n"
	down := c.s.unhealthy.Load()
	if down {
		code, body = "503 Service Unavailable", "stopping\n"
	}
	keepAlive := !down && !x.req.Close && c.s.cfg.KeepAlive > 0 && !c.s.draining.Load()
	c.out = append(c.out, "HTTP/1.1 "...)
	c.out = append(c.out, code...)
	c.out = append(c.out, "\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nContent-Length: "...)
	c.out = strconv.AppendInt(c.out, int64(len(body)), 10)
	switch {
	case !keepAlive:
		c.out = append(c.out, "\r\nConnection: close"...)
	case x.req.KeepAlive10:
		c.out = append(c.out, "\r\nConnection: keep-alive"...)
	}
	c.out = append(c.out, "\r\n"...)
	c.out = append(c.out, *dateHeader.Load()...)
	c.out = append(c.out, "\r\n"...)
	if !x.isHEAD() {
		c.out = append(c.out, body...)
	}
	return keepAlive
}
