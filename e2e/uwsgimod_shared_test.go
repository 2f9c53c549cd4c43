package e2e

// Shared areas (--sharedarea) and metrics (--metric, exported by --stats).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUwsgiModSharedArea(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--sharedarea", "2", "--sharedarea", "1")
	steps := []struct {
		wid        int
		code, want string
	}{
		{1, "out = uwsgi.sharedarea_write(0, 100, b'hello')", "True"},
		{2, "out = uwsgi.sharedarea_read(0, 100, 5)", "b'hello'"},
		{2, "out = uwsgi.sharedarea_read(0, 98, 9)", "b'\\x00\\x00hello\\x00\\x00'"},
		{2, "out = uwsgi.sharedarea_readbyte(0, 101)", "101"}, // 'e'
		{2, "out = uwsgi.sharedarea_writebyte(0, 101, 69)", "True"},
		{1, "out = uwsgi.sharedarea_read(0, 100, 5)", "b'hEllo'"},
		{1, "out = uwsgi.sharedarea_readbyte(0, 8191)", "0"}, // the last byte of 2 pages
		{1, "out = uwsgi.sharedarea_writelong(0, 200, 1234567890123)", "True"},
		{2, "out = uwsgi.sharedarea_readlong(0, 200)", "1234567890123"},
		{2, "out = uwsgi.sharedarea_inclong(0, 200)", "1234567890124"},
		{1, "out = uwsgi.sharedarea_inclong(0, 200, 10)", "1234567890134"},
		{1, "out = uwsgi.sharedarea_writelong(0, 208, -5)", "True"},
		{2, "out = uwsgi.sharedarea_readlong(0, 208)", "-5"},
		// length 0 (or none): to the end of the area
		{2, "out = len(uwsgi.sharedarea_read(0, 8000))", "192"},
		{2, "out = len(uwsgi.sharedarea_read(0, 8000, 0))", "192"},
		// area 1 is another page
		{1, "out = uwsgi.sharedarea_write(1, 0, 'area one')", "True"},
		{2, "out = [uwsgi.sharedarea_read(1, 0, 8), uwsgi.sharedarea_read(0, 0, 8), len(uwsgi.sharedarea_read(1, 0))]", "[b'area one', b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00', 4096]"},
	}
	for _, st := range steps {
		umodEq(t, s, st.wid, st.code, st.want)
	}
	for _, code := range []string{
		"uwsgi.sharedarea_read(0, 8190, 10)",
		"uwsgi.sharedarea_read(0, 9000, 1)",
		"uwsgi.sharedarea_read(0, -1, 1)",
		"uwsgi.sharedarea_write(0, 8190, b'abc')",
		"uwsgi.sharedarea_write(1, 4096, b'a')",
		"uwsgi.sharedarea_readbyte(0, 8192)",
		"uwsgi.sharedarea_writebyte(0, 8192, 1)",
		"uwsgi.sharedarea_readlong(0, 8188)",
		"uwsgi.sharedarea_writelong(0, 8185, 1)",
		"uwsgi.sharedarea_inclong(1, 4090)",
		"uwsgi.sharedarea_read(2, 0, 1)",
		"uwsgi.sharedarea_write(-1, 0, b'a')",
	} {
		r := umodExec(t, s, code)
		if !strings.HasPrefix(r.Err(), "ValueError") {
			t.Errorf("%s: raised %q, want a ValueError (out of range); out = %s", code, r.Err(), r.Repr)
		}
	}
	// Nothing out of range was written: the last bytes are still zero.
	umodEq(t, s, 0, "out = uwsgi.sharedarea_read(0, 8184, 8) + uwsgi.sharedarea_read(1, 4088, 8)", "b'"+strings.Repeat("\\x00", 16)+"'")
}

// inclong from both workers and several threads at once: not one increment lost.
func TestUwsgiModSharedAreaIncConcurrent(t *testing.T) {
	t.Parallel()
	s := umodStart(t, "--sharedarea", "1", "--threads", "2")
	var wg sync.WaitGroup
	pids := sync.Map{}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := umodTryExecOn(s, 1+i%2, "for i in range(50): uwsgi.sharedarea_inclong(0, 16)", 60*time.Second)
			if err != nil || r.Err() != "" {
				t.Errorf("inclong: %v %s", err, r.Err())
			}
			pids.Store(r.PID, true)
		}()
	}
	wg.Wait()
	umodEq(t, s, 0, "out = uwsgi.sharedarea_readlong(0, 16)", "1000")
	n := 0
	pids.Range(func(k, v any) bool { n++; return true })
	if n != 2 {
		t.Errorf("the increments ran in %d processes, want 2", n)
	}
}

// umodMetricArgs: a counter and a gauge with an initial value.
var umodMetricArgs = []string{"--metric", "hits", "--metric", "name=level,type=gauge,initial_value=7"}

func TestUwsgiModMetrics(t *testing.T) {
	t.Parallel()
	s := umodStart(t, umodMetricArgs...)
	steps := []struct {
		wid        int
		code, want string
	}{
		{1, "out = [uwsgi.metric_get('hits'), uwsgi.metric_get('level')]", "[0, 7]"},
		{1, "out = uwsgi.metric_inc('hits')", "True"},
		{2, "out = uwsgi.metric_inc('hits', 4)", "True"},
		{1, "out = uwsgi.metric_get('hits')", "5"},
		{2, "out = uwsgi.metric_get('hits')", "5"},
		{2, "out = uwsgi.metric_dec('hits')", "True"},
		{1, "out = uwsgi.metric_mul('hits', 3)", "True"},
		{2, "out = uwsgi.metric_get('hits')", "12"},
		{2, "out = uwsgi.metric_div('hits', 5)", "True"},
		{1, "out = uwsgi.metric_get('hits')", "2"},
		{1, "out = uwsgi.metric_set('level', 42)", "True"},
		{2, "out = uwsgi.metric_get('level')", "42"},
		{2, "out = uwsgi.metric_dec('level', 50)", "True"},
		{1, "out = uwsgi.metric_get('level')", "-8"},
		// unknown metrics: None from the changes, 0 from metric_get
		{1, "out = [uwsgi.metric_inc('nope'), uwsgi.metric_set('nope', 1), uwsgi.metric_get('nope')]", "[None, None, 0]"},
	}
	for _, st := range steps {
		umodEq(t, s, st.wid, st.code, st.want)
	}
	// Concurrent increments from both workers.
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := umodTryExecOn(s, 1+i%2, "for i in range(100): uwsgi.metric_inc('hits')", 60*time.Second); err != nil || r.Err() != "" {
				t.Errorf("metric_inc: %v %s", err, r.Err())
			}
		}()
	}
	wg.Wait()
	umodEq(t, s, 0, "out = uwsgi.metric_get('hits')", "1002")
}

// The stats server exports the metrics: uWSGI's document has "metrics": {name: {"type",
// "oid", "value"}}; the Prometheus output has a sample per metric.
func TestUwsgiModMetricsStats(t *testing.T) {
	t.Parallel()
	stats := freeAddr(t)
	httpStats := freeAddr(t)
	s := umodStart(t, append([]string{"--stats", stats}, umodMetricArgs...)...)
	s2 := umodStart(t, append([]string{"--stats", httpStats, "--stats-http"}, umodMetricArgs...)...)
	for _, srv := range []*Server{s, s2} {
		umodOK(t, srv, umodExec(t, srv, "uwsgi.metric_inc('hits', 3); uwsgi.metric_set('level', 11)"))
	}

	check := func(name string, body []byte) {
		var doc struct {
			Metrics map[string]struct {
				Value int64 `json:"value"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Errorf("%s: %v in %.300s", name, err, body)
			return
		}
		if doc.Metrics == nil {
			t.Errorf("%s: the stats document has no \"metrics\"; keys: %s", name, umodKeys(body))
			return
		}
		if doc.Metrics["hits"].Value != 3 || doc.Metrics["level"].Value != 11 {
			t.Errorf("%s: metrics %+v, want hits 3 and level 11", name, doc.Metrics)
		}
	}
	c, err := net.DialTimeout("tcp", stats, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	body, _ := io.ReadAll(c)
	c.Close()
	check("--stats "+stats, body)

	resp, err := umodClient.Get("http://" + httpStats + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	check("--stats-http /", body)

	resp, err = umodClient.Get("http://" + httpStats + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	found := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		l := sc.Text()
		lines = append(lines, l)
		if strings.HasPrefix(l, "#") {
			continue
		}
		for _, m := range []struct{ name, value string }{{"hits", "3"}, {"level", "11"}} {
			if strings.Contains(l, m.name) && strings.HasSuffix(l, " "+m.value) {
				found[m.name] = true
			}
		}
	}
	if !found["hits"] || !found["level"] {
		t.Errorf("the Prometheus output has no sample of the metrics hits = 3 and level = 11 (found %v):\n%s", found, strings.Join(lines, "\n"))
	}
}

func umodKeys(doc []byte) string {
	var m map[string]any
	json.Unmarshal(doc, &m)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return fmt.Sprint(keys)
}
