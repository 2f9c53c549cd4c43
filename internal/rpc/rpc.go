// Package rpc calls functions on other uWSGI-protocol nodes: other uwsgo instances, and
// real uWSGI instances with their rpc plugin (registered from Python, Lua, ...).
//
// A call is one connection: a modifier 173/0 packet carrying the item list (function
// name, then arguments, each u16-length-prefixed), answered by a 173/0 packet holding the
// raw result, or by 173/5 with a vars block giving CONTENT_LENGTH when the result is
// larger than a packet's 16-bit size. A node that knows no such function closes the
// connection without answering.
package rpc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"uwsgo/internal/instance"
	"uwsgo/internal/proto"
)

// Timeout bounds a whole call, connection included.
var Timeout = 30 * time.Second

// Call runs the call encoded in items on node ("host:port", or a UNIX socket path).
func Call(node string, items []byte) ([]byte, error) {
	if len(items) > proto.MaxVarLen {
		return nil, fmt.Errorf("the call is %d bytes, more than a uwsgi packet holds (%d)", len(items), proto.MaxVarLen)
	}
	network := "tcp"
	if instance.IsUnixPath(node) {
		network = "unix"
	}
	c, err := net.DialTimeout(network, node, Timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(Timeout))
	packet := proto.AppendPacketHeader(make([]byte, 0, 4+len(items)), proto.PacketHeader{Modifier1: proto.ModifierRPC, Size: uint16(len(items))})
	if _, err := c.Write(append(packet, items...)); err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	h, err := proto.ReadPacketHeader(r)
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the node closed the connection without an answer (no such function there?)")
	}
	if err != nil {
		return nil, err
	}
	if h.Modifier1 != proto.ModifierRPC {
		return nil, fmt.Errorf("the node answered with modifier1 %d, not an RPC result", h.Modifier1)
	}
	size := int64(h.Size)
	if h.Modifier2 == proto.RPCLarge {
		vars := make([]byte, h.Size)
		if _, err := io.ReadFull(r, vars); err != nil {
			return nil, err
		}
		size = -1
		proto.EachVar(vars, func(k, v []byte) bool {
			if string(k) == "CONTENT_LENGTH" {
				size, _ = strconv.ParseInt(string(v), 10, 64)
				return false
			}
			return true
		})
		if size < 0 {
			return nil, errors.New("the node's large result has no CONTENT_LENGTH")
		}
	}
	res := make([]byte, size)
	if _, err := io.ReadFull(r, res); err != nil {
		return nil, fmt.Errorf("reading the %d-byte result: %w", size, err)
	}
	return res, nil
}
