package server

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"
)

// WebSockets (RFC 6455) as uWSGI offers them to Python: the app calls
// uwsgi.websocket_handshake() and then receives and sends messages itself, on its own
// thread, until it returns; the connection then closes. The thread is the app's for the
// whole session, as in uWSGI: size --threads for it.

// maxMessage bounds one received message, fragments included.
const maxMessage = 16 << 20

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opcodes.
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xA
)

// ErrWebSocketClosed is a session the client ended.
var ErrWebSocketClosed = errors.New("the client closed the WebSocket")

// WebSocketHandshake answers the request named by handle with 101 Switching Protocols.
func (s *Server) WebSocketHandshake(handle int, key, protocol string) error {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return err
	}
	if x.started || x.upgraded {
		return errors.New("the response has started: too late for a WebSocket handshake")
	}
	if key == "" {
		return errors.New("no Sec-WebSocket-Key: not a WebSocket request")
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	c := x.c
	c.out = append(c.out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	c.out = append(c.out, base64.StdEncoding.EncodeToString(sum[:])...)
	if protocol != "" {
		c.out = append(c.out, "\r\nSec-WebSocket-Protocol: "...)
		c.out = append(c.out, protocol...)
	}
	c.out = append(c.out, "\r\n\r\n"...)
	x.upgraded, x.close = true, true
	if !c.flush() {
		return ErrWebSocketClosed
	}
	return nil
}

// WebSocketRecv returns the next message. Without block it returns nil at once when
// none has arrived. Pings are answered and pongs skipped on the way.
func (s *Server) WebSocketRecv(handle int, block bool) ([]byte, error) {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return nil, err
	}
	if !x.upgraded {
		return nil, errors.New("no WebSocket: call uwsgi.websocket_handshake() first")
	}
	c := x.c
	if !block && c.br.Buffered() == 0 {
		c.nc.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.br.Peek(1)
		if errors.Is(err, syscall.EAGAIN) || isTimeout(err) {
			return nil, nil
		}
		if err != nil {
			return nil, ErrWebSocketClosed
		}
	}
	c.nc.SetReadDeadline(time.Time{})
	var msg []byte
	for {
		fin, op, payload, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		switch op {
		case wsPing:
			if err := c.writeFrame(wsPong, payload); err != nil {
				return nil, ErrWebSocketClosed
			}
			continue
		case wsPong:
			continue
		case wsClose:
			c.writeFrame(wsClose, payload)
			return nil, ErrWebSocketClosed
		}
		msg = append(msg, payload...)
		if len(msg) > maxMessage {
			return nil, fmt.Errorf("a WebSocket message larger than %d bytes", maxMessage)
		}
		if fin {
			if msg == nil {
				msg = []byte{}
			}
			return msg, nil
		}
	}
}

// WebSocketSend sends one message, text or binary.
func (s *Server) WebSocketSend(handle int, data []byte, binaryMsg bool) error {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return err
	}
	if !x.upgraded {
		return errors.New("no WebSocket: call uwsgi.websocket_handshake() first")
	}
	op := byte(wsText)
	if binaryMsg {
		op = wsBinary
	}
	if err := x.c.writeFrame(op, data); err != nil {
		return ErrWebSocketClosed
	}
	return nil
}

// readFrame reads one client frame; clients must mask theirs.
func (c *conn) readFrame() (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return false, 0, nil, ErrWebSocketClosed
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0F
	if h[1]&0x80 == 0 {
		return false, 0, nil, errors.New("an unmasked WebSocket frame from the client")
	}
	n := int64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return false, 0, nil, ErrWebSocketClosed
		}
		n = int64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return false, 0, nil, ErrWebSocketClosed
		}
		n = int64(binary.BigEndian.Uint64(b[:]))
	}
	if n < 0 || n > maxMessage {
		return false, 0, nil, fmt.Errorf("a WebSocket frame of %d bytes", n)
	}
	var mask [4]byte
	if _, err := io.ReadFull(c.br, mask[:]); err != nil {
		return false, 0, nil, ErrWebSocketClosed
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return false, 0, nil, ErrWebSocketClosed
	}
	for i := range payload {
		payload[i] ^= mask[i&3]
	}
	return fin, op, payload, nil
}

// writeFrame sends one unmasked, unfragmented server frame.
func (c *conn) writeFrame(op byte, payload []byte) error {
	f := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		f = append(f, byte(n))
	case n <= 0xFFFF:
		f = append(f, 126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	return writeAll(c.nc, append(f, payload...), c.s.cfg.SocketTimeout)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Disconnect closes the client's connection of the request named by handle at once
// (uwsgi.disconnect()): nothing more is sent.
func (s *Server) Disconnect(handle int) error {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return err
	}
	x.mu.Lock() // a held body's timer reads it
	x.close, x.disconnected = true, true
	x.mu.Unlock()
	return x.c.nc.Close()
}

// ConnectionFD is the descriptor of the client connection of the request named by handle.
func (s *Server) ConnectionFD(handle int) (int, error) {
	x, err := s.exchangeOf(handle)
	if err != nil {
		return -1, err
	}
	sc, ok := x.c.nc.(syscall.Conn)
	if !ok {
		return -1, errors.New("the connection has no descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	raw.Control(func(f uintptr) { fd = int(f) })
	return fd, nil
}
