package server

import (
	"io"
	"net/http"
	"testing"
	"time"

	"uwsgo/internal/pypy"
)

// The ASGI path through the App seam: Go functions play the loop, answering through Send
// and ASGIEvent as asgi.py does, so that the request's course (answered in the call that
// started it, or pending and finished from another goroutine) is tested without PyPy.

// A handle names its request until the request ends; a reused entry gets a new
// generation, so a handle kept too long reaches nothing.
func TestASGIHandles(t *testing.T) {
	l := &asgiLoop{}
	a, b := &asgiReq{}, &asgiReq{}
	ha := l.register(a)
	if ha&asgiBit == 0 || l.lookup(ha) != a {
		t.Fatalf("handle %#x: lookup %p, want %p", ha, l.lookup(ha), a)
	}
	l.unregister(ha)
	hb := l.register(b)
	if hb == ha || l.lookup(ha) != nil || l.lookup(hb) != b {
		t.Errorf("after reuse: old handle %#x finds %p, new %#x finds %p", ha, l.lookup(ha), hb, l.lookup(hb))
	}
	if l.lookup(5) != nil || (*asgiLoop)(nil).lookup(hb) != nil {
		t.Errorf("a WSGI handle, or any without an ASGI app, found a request")
	}
}

// A response completed while the task goes on is written at once; the request ends (and
// the connection serves the next one) when the task does.
func TestASGIPendingResponse(t *testing.T) {
	done := make(chan int)
	var sv *served
	sv = serveGo(t, nil, Config{App: App{ASGI: func(op pypy.ASGIOp, handle int, a, b []byte, flags int) (int, time.Duration) {
		if op != pypy.ASGIHTTP {
			return 0, -1
		}
		go func() {
			sv.Send(handle, []byte(textHead), []byte("later"), true)
			<-done // the client has read the answer: only now does the task end
			sv.ASGIEvent(pypy.ASGIEventDone, handle, pypy.Handled, nil)
		}()
		return pypy.ASGIPending, -1
	}}})
	client := &http.Client{Timeout: 10 * time.Second}
	for range 2 { // the second request proves the connection went on after the task ended
		resp, err := client.Get("http://" + sv.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "later" {
			t.Fatalf("body %q", body)
		}
		done <- 1
	}
}

// A task that ends without a response is a 500.
func TestASGINoResponse(t *testing.T) {
	sv := serveGo(t, nil, Config{App: App{ASGI: func(op pypy.ASGIOp, handle int, a, b []byte, flags int) (int, time.Duration) {
		return pypy.FailedBeforeHeaders, -1
	}}})
	resp, err := http.Get("http://" + sv.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
}
