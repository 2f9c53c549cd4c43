package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// relLoad is a load client that counts every failed request: each of its clients POSTs
// in a loop on its own keep-alive connection. A POST is not replayed by Go's client once
// it was written, so a request the server drops is a failure, not a silent retry.
type relLoad struct {
	ok, failed, refused atomic.Int64
	// freshResets are resets of a request on a connection just opened, counted apart
	// when lastCopy is set (see TestRelStopLosesNoKeepAliveRequest).
	freshResets atomic.Int64
	lastCopy    bool
	stop        chan struct{}
	wg          sync.WaitGroup

	mu   sync.Mutex
	errs []string // the first failures, for the report
}

// relUnderLoad starts a master of two workers on rel_app.py, under 16 keep-alive clients
// POSTing to it: what a reload or a stop must not make fail.
func relUnderLoad(t *testing.T) (*Server, *relLoad) {
	t.Helper()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--master", "--processes", "2")
	return s, relStartLoad(s.URL("/post"), 16)
}

func relStartLoad(url string, clients int) *relLoad {
	l := &relLoad{stop: make(chan struct{})}
	for i := 0; i < clients; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
			body := []byte(fmt.Sprintf("client %d", i))
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.one(client, url, body)
			}
		}()
	}
	return l
}

func (l *relLoad) one(client *http.Client, url string, body []byte) {
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "POST", url, bytes.NewReader(body))
	resp, err := client.Do(req)
	if err != nil {
		// Refused at connect: the server stopped listening, nothing was sent.
		if errors.Is(err, syscall.ECONNREFUSED) {
			l.refused.Add(1)
			time.Sleep(10 * time.Millisecond)
			return
		}
		if l.lastCopy && !reused && errors.Is(err, syscall.ECONNRESET) {
			l.freshResets.Add(1)
			return
		}
		l.fail(fmt.Sprintf("%v (reused connection: %v)", err, reused))
		return
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !bytes.Contains(b, []byte(fmt.Sprint(" ", len(body)))) {
		l.fail(fmt.Sprintf("%d %q %v", resp.StatusCode, b, err))
		return
	}
	l.ok.Add(1)
}

func (l *relLoad) fail(what string) {
	l.failed.Add(1)
	l.mu.Lock()
	if len(l.errs) < 10 {
		l.errs = append(l.errs, what)
	}
	l.mu.Unlock()
}

// until waits for at least n more successful requests (60 s at most).
func (l *relLoad) until(t *testing.T, n int64) {
	t.Helper()
	want := l.ok.Load() + n
	if !eventually(60*time.Second, func() bool { return l.ok.Load() >= want }) {
		t.Fatalf("the load made no progress: %d ok, %d failed: %s", l.ok.Load(), l.failed.Load(), l.report())
	}
}

// end stops the clients and fails the test if a single request failed.
func (l *relLoad) end(t *testing.T, what string) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	t.Logf("%s: %d requests ok, %d failed, %d refused at connect, %d reset on a new connection", what, l.ok.Load(), l.failed.Load(), l.refused.Load(), l.freshResets.Load())
	if l.failed.Load() != 0 {
		t.Fatalf("%s: %d of %d requests failed: %s", what, l.failed.Load(), l.failed.Load()+l.ok.Load(), l.report())
	}
}

func (l *relLoad) report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.errs, "; ")
}

// relReload sends n SIGHUPs to a master, each once the previous reload is done, under
// whatever load runs.
func relReload(t *testing.T, s *Server, l *relLoad, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		l.until(t, 200)
		s.Cmd.Process.Signal(syscall.SIGHUP)
		if !eventually(60*time.Second, func() bool { return strings.Count(s.Log(), "reload done") >= i }) {
			t.Fatalf("reload %d did not finish; output:\n%s", i, s.Log())
		}
	}
	l.until(t, 200)
}
