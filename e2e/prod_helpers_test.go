package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// notifySocket is a NOTIFY_SOCKET listener, as systemd has one: it collects every
// datagram sent to it.
type notifySocket struct {
	Name string
	msgs chan string
}

var abstractSeq atomic.Int64

// listenNotify listens on a unixgram socket: a file in a temporary directory, or a name in
// the abstract namespace ("@...") when abstract is set.
func listenNotify(t *testing.T, abstract bool) *notifySocket {
	t.Helper()
	name := filepath.Join(t.TempDir(), "notify")
	if abstract {
		name = "@uwsgo-e2e-notify-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(abstractSeq.Add(1), 10)
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	n := &notifySocket{Name: name, msgs: make(chan string, 64)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	return n
}

// next returns the next message, failing the test after 20 s without one.
func (n *notifySocket) next(t *testing.T, s *Server) string {
	t.Helper()
	select {
	case m := <-n.msgs:
		return m
	case <-time.After(20 * time.Second):
		t.Fatalf("no message on NOTIFY_SOCKET within 20 s; server output:\n%s", s.Log())
	}
	return ""
}

// until returns the next message that has the line want, skipping (and returning) the
// others before it.
func (n *notifySocket) until(t *testing.T, s *Server, want string) (msg string, skipped []string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		m := n.next(t, s)
		if hasLine(m, want) {
			return m, skipped
		}
		skipped = append(skipped, m)
	}
	t.Fatalf("no %s among 50 messages: %q", want, skipped)
	return "", nil
}

func hasLine(msg, line string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// statusOf is the STATUS= value of a message.
func statusOf(msg string) string {
	for _, l := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(l, "STATUS="); ok {
			return v
		}
	}
	return ""
}

// getJSON fetches url and decodes its JSON body into a map.
func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	return getJSONWith(t, url, nil)
}

// getJSONWith is getJSON with request headers, on a new connection.
func getJSONWith(t *testing.T, url string, header map[string]string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: %d %q is not JSON: %v", url, resp.StatusCode, b, err)
	}
	return m
}

// getRetry fetches url until the connection is accepted (at most 20 s): the server may
// not listen yet.
func getRetry(t *testing.T, s *Server, url string) (*http.Response, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v; output:\n%s", url, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
