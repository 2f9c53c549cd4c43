package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// A busy worker does not take connections it cannot serve: with two one-thread workers,
// one of them in a long request, quick requests on new connections all go to the other
// and are answered before the long one ends. Before, some of them waited for it (4 of 10 in one try).
func TestRelBusyWorkerLeavesConnectionsToIdleOnes(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--master", "--processes", "2", "--threads", "1")
	slept := make(chan time.Time, 1)
	go func() {
		resp, err := http.Get(s.URL("/sleep?8"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		slept <- time.Now()
	}()
	if !s.WaitLog("rel_app sleeping 8", 20*time.Second) {
		t.Fatalf("the long request did not start; output:\n%s", s.Log())
	}
	var mu sync.Mutex
	var last time.Time
	var failed []string
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Post(s.URL("/quick"), "text/plain", strings.NewReader("x"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, err.Error())
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			last = time.Now()
		}()
	}
	wg.Wait()
	end := <-slept
	if len(failed) > 0 {
		t.Fatalf("quick requests failed: %v", failed)
	}
	if !last.Before(end) {
		t.Fatalf("a quick request waited for the long one (answered %v after it)", last.Sub(end))
	}
}

// The slow-client protection stays: connections that send nothing, or their head a byte at
// a time, hold no thread, so a one-thread worker serves a quick request with 100 of them
// connected (their socket timeout is 60 s; the quick request must not wait for it).
func TestRelSlowClientsDoNotBlockAccepting(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"), "--threads", "1", "--socket-timeout", "60")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if i%2 == 0 {
			fmt.Fprintf(c, "GET /slow%d HTTP/1.1\r\nHo", i) // a head never finished
		}
	}
	start := time.Now()
	resp, body := s.Get("/quick")
	if resp.StatusCode != 200 || !strings.Contains(body, "/quick") {
		t.Fatalf("quick request: %d %q", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the quick request took %v behind 100 slow clients", d)
	}
	t.Logf("a quick request behind 100 slow clients took %v", time.Since(start))
}
