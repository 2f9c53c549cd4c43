package e2e

// End-to-end tests of WebSockets in ASGI apps, with the tests' own RFC 6455 client
// (uwsgireq_ws_test.go): accept with a subprotocol and headers, text and binary messages
// both ways, pings, close codes both ways, refusal with 403 and with an HTTP response.

import (
	wsbin "encoding/binary"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestASGIWebSocketEcho(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t)
	w := ureqWSDial(t, s, "/ws/echo", "Sec-WebSocket-Protocol: chat, superchat")
	if w.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d\n%s", w.resp.StatusCode, s.Log())
	}
	if got, want := w.resp.Header.Get("Sec-WebSocket-Accept"), ureqAccept(w.key); got != want {
		t.Errorf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	if got := w.resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat" {
		t.Errorf("Sec-WebSocket-Protocol %q, want the app's choice chat", got)
	}
	if got := w.resp.Header.Get("X-Session"); got != "42" {
		t.Errorf("the app's header X-Session: %q, want 42", got)
	}
	w.expect(ureqOpText, []byte("open"))

	w.send(ureqOpText, []byte("héllo"))
	w.expect(ureqOpText, []byte("héllo"))
	big := ureqRandom(200000)
	w.send(ureqOpBinary, big)
	w.expect(ureqOpBinary, big)
	// A fragmented message with a ping in the middle: the ping is answered at once, the
	// message comes whole.
	w.frame(false, ureqOpText, []byte("frag"), true)
	w.send(ureqOpPing, []byte("p"))
	w.expect(ureqOpPong, []byte("p"))
	w.frame(true, ureqOpCont, []byte("mented"), true)
	w.expect(ureqOpText, []byte("fragmented"))

	w.close()
	asgiWaitRecord(t, rec, "ws disconnect 1000")
}

// The app closes with its own code and reason; the client sees them.
func TestASGIWebSocketAppCloses(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t)
	w := ureqWSOpen(t, s, "/ws/echo", "")
	w.send(ureqOpText, []byte("close please"))
	f, err := w.read()
	if err != nil || f.op != ureqOpClose || len(f.payload) < 2 {
		t.Fatalf("want the app's close frame, got op %d %q (%v)", f.op, f.payload, err)
	}
	if code, reason := wsbin.BigEndian.Uint16(f.payload), string(f.payload[2:]); code != 4001 || reason != "asked" {
		t.Errorf("close frame: code %d reason %q, want 4001 asked", code, reason)
	}
	asgiWaitRecord(t, rec, "ws closed by app")
	w.expectEOF()
}

// A client that goes away without a close frame: the app gets websocket.disconnect 1006.
// One that sends invalid UTF-8 in a text message: 1007, both ways.
func TestASGIWebSocketAbnormal(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t)
	w := ureqWSOpen(t, s, "/ws/echo", "")
	w.c.Close()
	asgiWaitRecord(t, rec, "ws disconnect 1006")

	w = ureqWSOpen(t, s, "/ws/echo", "")
	w.send(ureqOpText, []byte{0xff, 0xfe})
	f, err := w.read()
	if err != nil || f.op != ureqOpClose || len(f.payload) < 2 || wsbin.BigEndian.Uint16(f.payload) != 1007 {
		t.Fatalf("invalid UTF-8: want a close frame 1007, got op %d %q (%v)", f.op, f.payload, err)
	}
	asgiWaitRecord(t, rec, "ws disconnect 1007")
}

// websocket.close before accepting refuses the handshake with 403; websocket.http.response
// refuses it with the app's own response.
func TestASGIWebSocketDenied(t *testing.T) {
	t.Parallel()
	s, _ := asgiStart(t)
	w := ureqWSDial(t, s, "/ws/deny")
	if w.resp.StatusCode != http.StatusForbidden {
		t.Errorf("websocket.close before accept: status %d, want 403", w.resp.StatusCode)
	}
	w = ureqWSDial(t, s, "/ws/http")
	body, _ := io.ReadAll(w.resp.Body)
	if w.resp.StatusCode != http.StatusUnauthorized || string(body) != "no token" || w.resp.Header.Get("Www-Authenticate") != "Token" {
		t.Errorf("websocket.http.response: %d %q %v", w.resp.StatusCode, body, w.resp.Header)
	}
	// The request is logged once its task ended, which may come just after the answer.
	if !s.WaitLog("GET /ws/http => 401", 10*time.Second) {
		t.Errorf("the denial is not in the access log:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "Traceback") {
		t.Errorf("a traceback:\n%s", s.Log())
	}
}

// A worker that stops closes its WebSockets with 1001 (going away), and its app hears
// websocket.disconnect 1001: the stop does not wait for the client to leave.
func TestASGIWebSocketOnStop(t *testing.T) {
	t.Parallel()
	s, rec := asgiStart(t)
	w := ureqWSOpen(t, s, "/ws/echo", "")
	s.Cmd.Process.Signal(syscall.SIGTERM)
	f, err := w.read()
	if err != nil || f.op != ureqOpClose || len(f.payload) < 2 || wsbin.BigEndian.Uint16(f.payload) != 1001 {
		t.Fatalf("on stop: want a close frame 1001, got op %d %q (%v)", f.op, f.payload, err)
	}
	asgiWaitRecord(t, rec, "ws disconnect 1001")
	if s.Exited(10*time.Second) < 0 {
		t.Errorf("uwsgo still runs 10 s after SIGTERM with a WebSocket open:\n%s", s.Log())
	}
}
