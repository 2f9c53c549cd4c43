package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	ureqbin "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A WebSocket client (RFC 6455) written for these tests: it masks what it sends, checks
// that what the server sends is not masked, and records how each frame's length was
// encoded.

const ureqWSGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

const (
	ureqOpCont   = 0x0
	ureqOpText   = 0x1
	ureqOpBinary = 0x2
	ureqOpClose  = 0x8
	ureqOpPing   = 0x9
	ureqOpPong   = 0xA
)

type ureqWS struct {
	t    *testing.T
	c    net.Conn
	br   *bufio.Reader
	resp *http.Response
	key  string
}

type ureqFrame struct {
	fin     bool
	op      byte
	payload []byte
	lenCode byte // the 7-bit length field: the length itself, 126 or 127
}

// ureqAccept is the Sec-WebSocket-Accept a server must answer to key.
func ureqAccept(key string) string {
	sum := sha1.Sum([]byte(key + ureqWSGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func ureqRandom(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// ureqWSDial opens a connection, sends the opening handshake for target with a random
// key (and the extra header lines), and reads the answer. It does not judge the answer:
// see ureqWSOpen.
func ureqWSDial(t *testing.T, s *Server, target string, extra ...string) *ureqWS {
	t.Helper()
	key := base64.StdEncoding.EncodeToString(ureqRandom(16))
	c, br := s.Dial()
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", target, s.Addr)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n", key, s.Addr)
	for _, h := range extra {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatalf("handshake for %s: %v", target, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake for %s: reading the answer: %v\nserver output:\n%s", target, err, s.Log())
	}
	return &ureqWS{t: t, c: c, br: br, resp: resp, key: key}
}

// ureqWSOpen is ureqWSDial that requires a valid 101 answer (with protocol as
// Sec-WebSocket-Protocol, or none when protocol is ""), then the app's first message "open".
func ureqWSOpen(t *testing.T, s *Server, target, protocol string) *ureqWS {
	t.Helper()
	w := ureqWSDial(t, s, target)
	r := w.resp
	if r.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake for %s: status %d, want 101\nserver output:\n%s", target, r.StatusCode, s.Log())
	}
	if got := r.Header.Get("Upgrade"); !strings.EqualFold(got, "websocket") {
		t.Errorf("handshake: Upgrade %q, want websocket", got)
	}
	if got := r.Header.Get("Connection"); !strings.EqualFold(got, "Upgrade") {
		t.Errorf("handshake: Connection %q, want Upgrade", got)
	}
	if got, want := r.Header.Get("Sec-WebSocket-Accept"), ureqAccept(w.key); got != want {
		t.Errorf("handshake: Sec-WebSocket-Accept %q, want %q (key %q)", got, want, w.key)
	}
	if got := r.Header.Values("Sec-WebSocket-Protocol"); protocol == "" && len(got) != 0 {
		t.Errorf("handshake: Sec-WebSocket-Protocol %q, but the app named none", got)
	} else if protocol != "" && (len(got) != 1 || got[0] != protocol) {
		t.Errorf("handshake: Sec-WebSocket-Protocol %q, want %q", got, protocol)
	}
	w.expect(ureqOpText, []byte("open"))
	return w
}

// frame sends one frame; masked as a client must unless told otherwise. The length is
// encoded the shortest way, as RFC 6455 requires.
func (w *ureqWS) frame(fin bool, op byte, payload []byte, masked bool) {
	w.t.Helper()
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	var maskBit byte
	if masked {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		f = append(f, maskBit|byte(n))
	case n <= 0xFFFF:
		f = append(f, maskBit|126)
		f = ureqbin.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, maskBit|127)
		f = ureqbin.BigEndian.AppendUint64(f, uint64(n))
	}
	if masked {
		mask := ureqRandom(4)
		f = append(f, mask...)
		start := len(f)
		f = append(f, payload...)
		for i := range payload {
			f[start+i] ^= mask[i&3]
		}
	} else {
		f = append(f, payload...)
	}
	w.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.c.Write(f); err != nil {
		w.t.Fatalf("sending a frame (op %d, %d bytes): %v", op, len(payload), err)
	}
}

// send sends a whole message (or a control frame) in one masked frame.
func (w *ureqWS) send(op byte, payload []byte) { w.t.Helper(); w.frame(true, op, payload, true) }

// read reads one server frame; a masked one is an error.
func (w *ureqWS) read() (ureqFrame, error) {
	w.c.SetDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		return ureqFrame{}, err
	}
	f := ureqFrame{fin: h[0]&0x80 != 0, op: h[0] & 0x0F, lenCode: h[1] & 0x7F}
	if h[0]&0x70 != 0 {
		return f, fmt.Errorf("a server frame with RSV bits set: %#x", h[0])
	}
	if h[1]&0x80 != 0 {
		return f, errors.New("a masked server frame (RFC 6455 5.1: servers must not mask)")
	}
	n := uint64(f.lenCode)
	switch f.lenCode {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			return f, err
		}
		n = uint64(ureqbin.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			return f, err
		}
		n = ureqbin.BigEndian.Uint64(b[:])
	}
	if n > 64<<20 {
		return f, fmt.Errorf("a server frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(w.br, f.payload); err != nil {
		return f, err
	}
	return f, nil
}

// ureqLenCode is the 7-bit length field the shortest encoding of n uses.
func ureqLenCode(n int) byte {
	switch {
	case n < 126:
		return byte(n)
	case n <= 0xFFFF:
		return 126
	}
	return 127
}

// expect reads a frame and requires it to be the whole message payload with opcode op,
// its length encoded the shortest way.
func (w *ureqWS) expect(op byte, payload []byte) {
	w.t.Helper()
	f, err := w.read()
	if err != nil {
		w.t.Fatalf("waiting for a frame (op %d, %d bytes): %v", op, len(payload), err)
	}
	if !f.fin || f.op != op {
		w.t.Fatalf("got a frame fin=%v op=%d (%d bytes: %q), want fin=true op=%d", f.fin, f.op, len(f.payload), ureqShort(f.payload), op)
	}
	if !bytes.Equal(f.payload, payload) {
		w.t.Fatalf("op %d: got %d bytes %q, want %d bytes %q", op, len(f.payload), ureqShort(f.payload), len(payload), ureqShort(payload))
	}
	if want := ureqLenCode(len(payload)); f.lenCode != want {
		w.t.Errorf("a %d-byte frame with length field %d, want %d", len(payload), f.lenCode, want)
	}
}

// close sends a close frame (1000, "bye") and requires the server's close frame, then the
// end of the connection.
func (w *ureqWS) close() {
	w.t.Helper()
	w.send(ureqOpClose, append([]byte{0x03, 0xE8}, "bye"...))
	f, err := w.read()
	if err != nil {
		w.t.Fatalf("after our close frame: %v, want the server's close frame", err)
	}
	if f.op != ureqOpClose {
		w.t.Fatalf("after our close frame: a frame op=%d %q, want a close frame", f.op, ureqShort(f.payload))
	}
	if len(f.payload) == 1 || len(f.payload) >= 2 && ureqbin.BigEndian.Uint16(f.payload) != 1000 {
		w.t.Errorf("the server's close frame: payload %q, want none or status 1000", f.payload)
	}
	w.expectEOF()
}

// expectEOF requires the server to close the connection without sending more.
func (w *ureqWS) expectEOF() {
	w.t.Helper()
	w.c.SetDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(w.br)
	if err != nil {
		w.t.Errorf("waiting for the end of the connection: %v (after %d bytes)", err, len(rest))
	}
	if len(rest) > 0 {
		w.t.Errorf("after the session the server sent %d more bytes: %q", len(rest), ureqShort(rest))
	}
}

func ureqShort(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

// ureqLetters is n printable bytes (a valid UTF-8 text message), not a repeated pattern.
func ureqLetters(n int) []byte {
	b := ureqRandom(n)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return b
}

// TestUwsgiReqWebSocketEcho: handshake (Accept, Sec-WebSocket-Protocol), text and binary
// messages of every length encoding both ways, fragmented messages, ping/pong, the close
// handshake (IOError in the app), the access log's 101 and serving on afterwards, in a
// single process and in a worker of a master.
func TestUwsgiReqWebSocketEcho(t *testing.T) {
	t.Parallel()
	for _, cfg := range ureqConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, cfg.args...)
			rec := ureqRecFile(t)
			target := "/ws/echo?proto=chat&rec=" + url.QueryEscape(rec)
			w := ureqWSOpen(t, s, target, "chat")

			for _, n := range []int{0, 5, 125, 126, 1000, 65535, 65536, 200 << 10} {
				msg := ureqLetters(n)
				w.send(ureqOpText, msg)
				w.expect(ureqOpText, msg)
				bin := append([]byte("bin:"), ureqRandom(n)...)
				w.send(ureqOpBinary, bin)
				w.expect(ureqOpBinary, bin)
			}

			// A fragmented text message, and a fragmented binary one with a ping between its
			// fragments (control frames may come between fragments: RFC 6455 5.4).
			w.frame(false, ureqOpText, []byte("Hel"), true)
			w.frame(false, ureqOpCont, []byte("lo, "), true)
			w.frame(true, ureqOpCont, []byte("world"), true)
			w.expect(ureqOpText, []byte("Hello, world"))
			big := append([]byte("bin:"), ureqRandom(150<<10)...)
			w.frame(false, ureqOpBinary, big[:100], true)
			w.frame(false, ureqOpCont, big[100:70000], true)
			w.send(ureqOpPing, []byte("between fragments"))
			w.frame(true, ureqOpCont, big[70000:], true)
			w.expect(ureqOpPong, []byte("between fragments"))
			w.expect(ureqOpBinary, big)

			// Ping: a pong with the same payload; the session goes on.
			w.send(ureqOpPing, []byte("are you there?"))
			w.expect(ureqOpPong, []byte("are you there?"))
			w.send(ureqOpPing, nil)
			w.expect(ureqOpPong, nil)
			w.send(ureqOpText, []byte("after the pings"))
			w.expect(ureqOpText, []byte("after the pings"))

			w.close()
			if got := ureqWaitFile(t, s, rec); !strings.HasPrefix(got, "ioerror:") {
				t.Errorf("after the client's close frame the app's websocket_recv() gave %q, want an IOError", got)
			}
			if !s.WaitLog("GET /ws/echo?proto=chat", 10*time.Second) {
				t.Fatalf("no access log line for the session:\n%s", s.Log())
			}
			line := ureqLogLine(s.Log(), "GET /ws/echo?proto=chat")
			if !strings.Contains(line, "=> 101") {
				t.Errorf("access log line %q, want status 101", line)
			}

			// No protocol asked: no Sec-WebSocket-Protocol.
			w2 := ureqWSOpen(t, s, "/ws/echo", "")
			w2.send(ureqOpText, []byte("second session"))
			w2.expect(ureqOpText, []byte("second session"))
			w2.close()

			ureqServesOn(t, s)
			ureqNoCrash(t, s)
		})
	}
}

// TestUwsgiReqWebSocketNonBlocking: websocket_recv_nb() returns b"" at once when nothing
// came (the client sends nothing before the app reports it), and the message once it did.
func TestUwsgiReqWebSocketNonBlocking(t *testing.T) {
	t.Parallel()
	s := ureqStart(t)
	rec := ureqRecFile(t)
	w := ureqWSDial(t, s, "/ws/nb?rec="+url.QueryEscape(rec))
	if w.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d, want 101\n%s", w.resp.StatusCode, s.Log())
	}
	if got, want := w.resp.Header.Get("Sec-WebSocket-Accept"), ureqAccept(w.key); got != want {
		t.Errorf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	// The app reports its first websocket_recv_nb() before the client has sent anything:
	// that call cannot have waited for a message.
	w.expect(ureqOpText, []byte("nb-first:b''"))
	w.send(ureqOpText, []byte("hello, non-blocking"))
	w.expect(ureqOpText, []byte("nb-got:hello, non-blocking"))
	w.close()
	if got := ureqWaitFile(t, s, rec); !strings.HasPrefix(got, "ioerror:") {
		t.Errorf("the final blocking websocket_recv() after the close frame gave %q, want an IOError", got)
	}
	ureqServesOn(t, s)
}

// TestUwsgiReqWebSocketUnmaskedFrame: an unmasked client frame ends the session with an
// error in the app; the connection closes and the server goes on serving.
func TestUwsgiReqWebSocketUnmaskedFrame(t *testing.T) {
	t.Parallel()
	for _, cfg := range ureqConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			s := ureqStart(t, cfg.args...)
			rec := ureqRecFile(t)
			w := ureqWSOpen(t, s, "/ws/echo?rec="+url.QueryEscape(rec), "")
			w.send(ureqOpText, []byte("masked is fine"))
			w.expect(ureqOpText, []byte("masked is fine"))
			w.frame(true, ureqOpText, []byte("not masked"), false)
			// The connection ends; a close frame (1002) on the way is allowed, an echo is not.
			w.c.SetDeadline(time.Now().Add(10 * time.Second))
			for i := 0; i < 3; i++ {
				f, err := w.read()
				if err != nil {
					break
				}
				if f.op != ureqOpClose {
					t.Errorf("after an unmasked frame the server sent op=%d %q, want nothing or a close frame", f.op, ureqShort(f.payload))
				}
			}
			if _, err := w.br.ReadByte(); err == nil {
				t.Errorf("the connection is still open after an unmasked frame")
			}
			if got := ureqWaitFile(t, s, rec); !strings.HasPrefix(got, "ioerror:") {
				t.Errorf("the app's websocket_recv() on an unmasked frame gave %q, want an IOError", got)
			}
			ureqServesOn(t, s)
			ureqNoCrash(t, s)
		})
	}
}

// TestUwsgiReqWebSocketThreads: with --threads 2, a WebSocket session in progress leaves
// a thread to plain HTTP requests.
func TestUwsgiReqWebSocketThreads(t *testing.T) {
	t.Parallel()
	s := ureqStart(t, "--threads", "2")
	w := ureqWSOpen(t, s, "/ws/echo", "")
	w.send(ureqOpText, []byte("in progress"))
	w.expect(ureqOpText, []byte("in progress"))
	// The session's app is inside websocket_recv() now; a plain request is served.
	for i := 0; i < 3; i++ {
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(s.URL("/pid"))
		if err != nil {
			t.Fatalf("a plain request during the WebSocket session: %v\n%s", err, s.Log())
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("a plain request during the WebSocket session: status %d", resp.StatusCode)
		}
	}
	// And the session was in progress all along.
	w.send(ureqOpText, []byte("still here"))
	w.expect(ureqOpText, []byte("still here"))
	w.close()
}

// ureqLogLine is the last line of log that contains substr.
func ureqLogLine(log, substr string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}

// TestUwsgiReqWebSocketFrameWithHandshake: a client that sends its first frame right
// behind the handshake request, in the same write, has it echoed: bytes read ahead with
// the request head belong to the session.
func TestUwsgiReqWebSocketFrameWithHandshake(t *testing.T) {
	t.Parallel()
	s := ureqStart(t)
	key := base64.StdEncoding.EncodeToString(ureqRandom(16))
	c, br := s.Dial()
	w := &ureqWS{t: t, c: c, br: br, key: key}
	// Build the frame with the client's own framing, written to a buffer first.
	var frame bytes.Buffer
	mask := ureqRandom(4)
	payload := []byte("sent with the handshake")
	frame.Write([]byte{0x80 | ureqOpText, 0x80 | byte(len(payload))})
	frame.Write(mask)
	for i, b := range payload {
		frame.WriteByte(b ^ mask[i&3])
	}
	req := "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n" + frame.String()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake: %v\n%s", err, s.Log())
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != ureqAccept(key) {
		t.Fatalf("handshake: %d, Sec-WebSocket-Accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	w.expect(ureqOpText, []byte("open"))
	w.expect(ureqOpText, payload)
	w.close()
}

// TestUwsgiReqWebSocketIdleBeyondSocketTimeout: --socket-timeout bounds a stalled HTTP
// exchange, not the silence of a WebSocket client: a session idle for longer goes on.
func TestUwsgiReqWebSocketIdleBeyondSocketTimeout(t *testing.T) {
	t.Parallel()
	s := ureqStart(t, "--socket-timeout", "1")
	w := ureqWSOpen(t, s, "/ws/echo", "")
	w.send(ureqOpText, []byte("before"))
	w.expect(ureqOpText, []byte("before"))
	time.Sleep(2500 * time.Millisecond) // the app waits in websocket_recv() all along
	w.send(ureqOpText, []byte("after a silence longer than --socket-timeout"))
	w.expect(ureqOpText, []byte("after a silence longer than --socket-timeout"))
	w.close()
}
