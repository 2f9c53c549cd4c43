package server

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"uwsgo/internal/proto"
	"uwsgo/internal/pypy"
)

// Protocol is what a listener speaks.
type Protocol int

const (
	HTTP  Protocol = iota // --http-socket
	Uwsgi                 // --socket: uWSGI's binary protocol, as nginx's uwsgi_pass speaks it
)

// serveUwsgi answers one uwsgi packet, then closes: nginx opens a connection per request
// to a uwsgi upstream and reads the response to its end.
func (c *conn) serveUwsgi() {
	defer c.release()
	defer c.containPanic()
	// The body ends where the connection does: nginx passes an upstream's body through
	// untouched, so chunked framing (chosen for HTTP/1.1 clients) would reach the client.
	c.x.closeDelimited = true
	if !c.awaitRequest(true) {
		return
	}
	start := time.Now()
	c.nc.SetReadDeadline(start.Add(c.s.cfg.SocketTimeout))
	h, err := proto.ReadPacketHeader(c.br)
	if err != nil {
		if err != io.EOF {
			c.s.logRefusal("%s: uwsgi packet header cut short: %v", c.nc.RemoteAddr(), err)
		}
		return
	}
	if int(h.Size) > c.s.cfg.MaxHeadBytes {
		c.s.logRefusal("%s: uwsgi packet of %d bytes is larger than --buffer-size %d: closing", c.nc.RemoteAddr(), h.Size, c.s.cfg.MaxHeadBytes)
		return
	}
	if cap(c.packet) < int(h.Size) {
		c.packet = make([]byte, h.Size)
	}
	c.packet = c.packet[:h.Size]
	if _, err := io.ReadFull(c.br, c.packet); err != nil {
		c.s.logRefusal("%s: uwsgi packet cut short: %v", c.nc.RemoteAddr(), err)
		return
	}
	switch {
	case h.Modifier1 == proto.ModifierWSGI:
		c.uwsgiRequest(start)
	case h.Modifier1 == proto.ModifierRPC && h.Modifier2 == proto.RPCItems:
		c.rpcPacket()
	case h.Modifier1 == proto.ModifierRPC && h.Modifier2 == proto.RPCPath:
		c.rpcPath()
	default:
		// uWSGI gives other modifiers to code evaluation, management and plugins uwsgo
		// does not have; none of them may run here.
		c.s.logRefusal("%s: uwsgi packet with modifier1 %d, modifier2 %d refused: uwsgo serves only requests (0) and RPC (173)", c.nc.RemoteAddr(), h.Modifier1, h.Modifier2)
		return
	}
	c.flush()
}

func (c *conn) uwsgiRequest(start time.Time) {
	x := &c.x
	vars, err := proto.UwsgiRequest(c.packet, &x.req, x.vars[:0])
	x.vars = vars
	if err != nil {
		c.s.logRefusal("%s: malformed uwsgi request: %v", c.nc.RemoteAddr(), err)
		return
	}

	defer x.releaseBody()
	if err := c.readBody(x); err != nil {
		c.s.logRefusal("%s: uwsgi request body: %v", c.nc.RemoteAddr(), err)
		return
	}
	c.dispatch(x, start, false)
}

// rpc runs an RPC call in Python holding a slot; the result lands in x.rpcResult.
func (s *Server) rpc(x *exchange, items []byte) int {
	x.rpcResult = x.rpcResult[:0]
	slot, handle := s.enter(x)
	rc := s.cfg.App.RPC(handle, items)
	s.leave(slot)
	return rc
}

// RPCReply implements pypy.Sink.
func (s *Server) RPCReply(handle int, result []byte) {
	if x, err := s.exchangeOf(handle); err == nil {
		defer x.containPanic(nil)
		x.rpcResult = append(x.rpcResult[:0], result...)
	}
}

// rpcPacket answers modifier 173/0: items in, the raw result out. An unknown function
// gets no reply at all, as from uWSGI.
func (c *conn) rpcPacket() {
	items, err := proto.SplitItems(c.packet, c.x.items)
	if err != nil {
		c.s.logRefusal("%s: malformed RPC call: %v", c.nc.RemoteAddr(), err)
		return
	}
	c.x.items = items
	if !c.callRPC(c.packet, items[0]) {
		return
	}
	res := c.x.rpcResult
	if len(res) == 0 {
		return // uWSGI answers an empty result with no reply at all; its callers read None
	}
	if len(res) <= proto.MaxVarLen {
		c.out = proto.AppendPacketHeader(c.out, proto.PacketHeader{Modifier1: proto.ModifierRPC, Size: uint16(len(res))})
	} else {
		vars := proto.AppendVar(nil, "CONTENT_LENGTH", strconv.Itoa(len(res)))
		c.out = proto.AppendPacketHeader(c.out, proto.PacketHeader{Modifier1: proto.ModifierRPC, Size: uint16(len(vars)), Modifier2: proto.RPCLarge})
		c.out = append(c.out, vars...)
	}
	c.out = append(c.out, res...)
}

// rpcPath answers modifier 173/2 (nginx: uwsgi_modifier1 173; uwsgi_modifier2 2): the
// PATH_INFO /fn/a/b of a vars block means fn(a, b), and the answer is HTTP.
func (c *conn) rpcPath() {
	var path []byte
	err := proto.EachVar(c.packet, func(k, v []byte) bool {
		if string(k) == "PATH_INFO" {
			path = v
			return false
		}
		return true
	})
	parts := bytes.Split(bytes.TrimPrefix(path, []byte("/")), []byte("/"))
	if err != nil || len(path) == 0 || len(parts[0]) == 0 {
		c.httpAnswer(400, "Bad Request", []byte("an RPC path is /function/arg1/arg2...\n"))
		return
	}
	var items []byte
	// nginx has decoded PATH_INFO already: the parts are the arguments as they are.
	for _, p := range parts {
		if items, err = proto.AppendItem(items, p); err != nil {
			c.httpAnswer(400, "Bad Request", []byte("RPC argument too long\n"))
			return
		}
	}
	if len(parts) > proto.MaxRPCItems {
		c.httpAnswer(400, "Bad Request", []byte("too many RPC arguments\n"))
		return
	}
	if !c.callRPC(items, parts[0]) {
		c.httpAnswer(404, "Not Found", []byte("no such RPC function\n"))
		return
	}
	c.httpAnswer(200, "OK", c.x.rpcResult)
}

func (c *conn) callRPC(items, name []byte) bool {
	switch rc := c.s.rpc(&c.x, items); rc {
	case pypy.RPCDone:
		return true
	case pypy.RPCUnknown:
		c.s.logRefusal("%s: RPC call of %q: no such function registered", c.nc.RemoteAddr(), name)
	default:
		c.s.cfg.Log.Printf("%s: RPC call of %q failed (traceback above)", c.nc.RemoteAddr(), name)
	}
	return false
}

// httpAnswer is the response to nginx's RPC form: uWSGI answers it as application/binary.
func (c *conn) httpAnswer(code int, reason string, body []byte) {
	c.out = append(c.out, "HTTP/1.0 "...)
	c.out = strconv.AppendInt(c.out, int64(code), 10)
	c.out = append(c.out, ' ')
	c.out = append(c.out, reason...)
	c.out = append(c.out, "\r\nContent-Type: application/binary\r\nContent-Length: "...)
	c.out = strconv.AppendInt(c.out, int64(len(body)), 10)
	c.out = append(c.out, "\r\n\r\n"...)
	c.out = append(c.out, body...)
}
