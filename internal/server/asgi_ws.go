package server

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"uwsgo/internal/proto"
	"uwsgo/internal/pypy"
)

// WebSockets of ASGI apps. The app's answer to websocket.connect comes from the loop:
// websocket.accept becomes the 101 response, websocket.close before it a 403, and a
// websocket.http.response an ordinary HTTP response (through Send, as any request's).
// Once accepted, the connection's reader goroutine hands the client's messages to the
// loop one call each, and what the app sends is queued on a stream (stream.go), whose own
// goroutine writes it: a slow client never holds the loop, its backlog waits in memory
// or on disk within the worker's response budgets.

// wsSession is an accepted WebSocket.
type wsSession struct {
	c       *conn
	st      *stream
	closing atomic.Bool // a close frame went out: nothing more may follow it
}

// accept answers the handshake with 101 and the app's extra headers (head: a status
// line and name NUL value lines, as for a response).
func (r *asgiReq) accept(head []byte) int64 {
	x := r.x
	c := x.c
	line, _, err := proto.AppendResponseHead(nil, head)
	if err != nil {
		return -1
	}
	// The app's status line is replaced: what follows is the protocol's, not the app's.
	if i := bytes.Index(line, crlf); i >= 0 {
		line = line[i+2:]
	}
	key := bytes.TrimSpace(joinedHeader(&x.req, "sec-websocket-key"))
	sum := sha1.Sum(append(key, wsGUID...))
	out := append([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "), base64.StdEncoding.EncodeToString(sum[:])...)
	out = append(out, "\r\n"...)
	out = append(out, line...)
	out = append(out, "\r\n"...)
	x.mu.Lock()
	x.upgraded, x.close, x.status = true, true, 101
	x.headBytes = int64(len(out))
	x.mu.Unlock()
	ws := &wsSession{c: c, st: newStream(c)}
	ws.st.push(out)
	r.ws.Store(ws)
	signal(r.wake)
	return 0
}

// wsSend queues one message from the app.
func (r *asgiReq) wsSend(payload []byte, binaryMsg bool) int64 {
	ws := r.ws.Load()
	if ws == nil || ws.closing.Load() {
		return -1
	}
	op := byte(wsText)
	if binaryMsg {
		op = wsBinary
	}
	ws.st.push(appendFrameHead(nil, op, len(payload)), payload)
	r.x.sent += int64(len(payload))
	if ws.st.failed() {
		return -1
	}
	l, handle := r.x.c.s.asgi, r.handle
	if ws.st.whenDrained(asgiHighWater, asgiLowWater, func() { l.drive(pypy.ASGIDrained, handle, nil, nil, 0) }) {
		return pypy.ASGISendWait
	}
	return 0
}

// wsClose queues the app's close frame.
func (r *asgiReq) wsClose(code int, reason []byte) int64 {
	ws := r.ws.Load()
	if ws == nil {
		return -1
	}
	ws.close(code, reason)
	return 0
}

func (ws *wsSession) close(code int, reason []byte) {
	if ws.closing.Swap(true) {
		return
	}
	payload := binary.BigEndian.AppendUint16(nil, uint16(code))
	payload = append(payload, reason[:min(len(reason), 123)]...)
	ws.st.push(appendFrameHead(nil, wsClose, len(payload)), payload)
}

// end closes a session whose app returned, and waits until its last frames are written.
func (ws *wsSession) end() {
	ws.close(1000, nil)
	ws.st.finish()
}

// readWebSocket hands the loop the client's messages until the session ends.
func (c *conn) readWebSocket(r *asgiReq, done chan struct{}) {
	defer close(done)
	l, ws := c.s.asgi, r.ws.Load()
	c.nc.SetReadDeadline(time.Time{})
	closed := func(code int) {
		if !r.stopping.Load() {
			l.drive(pypy.ASGIWSClosed, r.handle, nil, nil, code)
		}
	}
	var msg []byte
	var msgOp byte
	for {
		fin, op, payload, err := c.readFrame()
		if err != nil {
			code := 1006 // gone without a close frame
			if !errors.Is(err, ErrWebSocketClosed) && !r.stopping.Load() {
				code = 1002
				ws.close(code, []byte(err.Error()))
			}
			closed(code)
			return
		}
		switch op {
		case wsPing:
			ws.st.push(appendFrameHead(nil, wsPong, len(payload)), payload)
			continue
		case wsPong:
			continue
		case wsClose:
			code := 1005 // no status code given
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
				ws.close(code, nil)
			} else {
				ws.close(1000, nil)
			}
			closed(code)
			return
		case wsText, wsBinary:
			if msgOp != 0 {
				ws.close(1002, []byte("a new message inside a fragmented one"))
				closed(1002)
				return
			}
			msgOp, msg = op, append(msg[:0], payload...)
		case wsContinuation:
			if msgOp == 0 {
				ws.close(1002, []byte("a continuation frame outside a message"))
				closed(1002)
				return
			}
			msg = append(msg, payload...)
		default:
			ws.close(1002, []byte("an unknown opcode"))
			closed(1002)
			return
		}
		if len(msg) > maxMessage {
			ws.close(1009, nil)
			closed(1009)
			return
		}
		if !fin {
			continue
		}
		flags := 0
		if msgOp == wsBinary {
			flags = pypy.ASGIBinary
		} else if !utf8.Valid(msg) {
			ws.close(1007, []byte("a text message that is not UTF-8"))
			closed(1007)
			return
		}
		l.drive(pypy.ASGIWSMessage, r.handle, msg, nil, flags)
		msgOp = 0
	}
}

// closeWebSockets ends the open WebSocket sessions of a stopping worker: the client gets
// a close frame with 1001 (going away), the app websocket.disconnect with the same code,
// so that its handler returns and the worker can stop.
func (l *asgiLoop) closeWebSockets() {
	l.tab.Lock()
	var open []*asgiReq
	for _, r := range l.reqs {
		if r != nil && r.ws.Load() != nil {
			open = append(open, r)
		}
	}
	l.tab.Unlock()
	for _, r := range open {
		r.ws.Load().close(1001, []byte("the server is stopping"))
		l.drive(pypy.ASGIWSClosed, r.handle, nil, nil, 1001)
	}
}
