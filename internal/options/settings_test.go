package options

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTypedDefaults(t *testing.T) {
	c := mustParse(t, nil)
	p, h := c.Processes, c.HTTP
	if p.Workers != 1 || p.Threads != 1 || p.Master || p.ReloadMercy != 60*time.Second || p.CheaperStep != 1 {
		t.Errorf("processes: %+v", p)
	}
	if h.SocketTimeout != 30*time.Second || h.KeepAlive != 60*time.Second || h.BufferSize != 65535 ||
		h.PostBuffering != 1<<20 || h.BodyDiskBudget != 1<<30 || h.Trusted != nil {
		t.Errorf("http: %+v", h)
	}
	if c.Shared.SpoolerFreq != 30*time.Second || c.Shared.CacheBlockSize != 65536 || c.Logging.Format != nil || c.Sockets.Umask != nil {
		t.Errorf("shared %+v, logging %+v, umask %v", c.Shared, c.Logging, c.Sockets.Umask)
	}
	if c.PyPy.App.Kind != NoApp || c.PyPy.App.Err == nil || !strings.Contains(c.PyPy.App.Err.Error(), "no app given") {
		t.Errorf("app: %+v", c.PyPy.App)
	}
}

func TestTypedValues(t *testing.T) {
	c := mustParse(t, []string{
		"--threads", "2", "--threads", "3", "--harakiri", "5", "--reload-on-rss", "100", "--log-slow", "250",
		"--http-keepalive", "true", "--socket-timeout", "7", "--max-requests", "9", "--pypy-pp", "a", "--pypy-pp", "b",
		"--pypy-eval", "x = 1", "--pypy-exec", "f.py", "--pyimport", "os", "--pypy-exec-post-fork", "g.py",
		"--chmod-socket", "--umask", "0", "--add-header", "X-A:  b ", "--static-map2", "/s=/srv",
		"--static-expires-type", "text/css=60", "--hook-asap", "print:hi", "--exec-asap", "true",
	})
	p := c.Processes
	if p.Threads != 3 || p.Harakiri != 5*time.Second || p.ReloadOnRSS != 100<<20 || p.MaxRequests != 9 {
		t.Errorf("processes: %+v", p)
	}
	if c.Logging.Slower != 250*time.Millisecond || c.HTTP.KeepAlive != 60*time.Second || c.HTTP.SocketTimeout != 7*time.Second {
		t.Errorf("durations: %v %v %v", c.Logging.Slower, c.HTTP.KeepAlive, c.HTTP.SocketTimeout)
	}
	wantSteps := []PyStep{{Value: "x = 1"}, {Exec: true, Value: "f.py"}, {Value: "import os"}}
	if !reflect.DeepEqual(c.PyPy.Path, []string{"a", "b"}) || !reflect.DeepEqual(c.PyPy.Startup, wantSteps) ||
		!reflect.DeepEqual(c.PyPy.PostFork, []PyStep{{Exec: true, Value: "g.py"}}) {
		t.Errorf("pypy: %+v", c.PyPy)
	}
	if c.Sockets.SocketMode != 0o666 || c.Sockets.Umask == nil || *c.Sockets.Umask != 0 {
		t.Errorf("modes: %v %v", c.Sockets.SocketMode, c.Sockets.Umask)
	}
	if !reflect.DeepEqual(c.HTTP.AddHeaders, [][2]string{{"X-A", "b"}}) ||
		!reflect.DeepEqual(c.Static.Maps, []StaticMap{{Prefix: "/s", Path: "/srv", Whole: true}}) ||
		len(c.Static.Expires) != 1 || c.Static.Expires[0].ContentType != "text/css" || c.Static.Expires[0].After != time.Minute {
		t.Errorf("http %+v, static %+v", c.HTTP.AddHeaders, c.Static)
	}
	hooks := c.Hooks["asap"]
	if len(hooks) != 2 || hooks[0].Action != "print" || hooks[0].Arg != "hi" || hooks[0].Origin != "command line" ||
		hooks[1].Action != "exec" || hooks[1].Given != "--exec-asap true" {
		t.Errorf("hooks: %+v", hooks)
	}
}

func TestWhatImpliesMaster(t *testing.T) {
	for _, args := range [][]string{
		{"--master"}, {"--processes", "2"}, {"--mule"}, {"--mules", "1"}, {"--spooler", "/tmp/s"},
		{"--attach-daemon", "sleep 9"}, {"--smart-attach-daemon", "/p sleep 9"}, {"--cron", "-1 -1 -1 -1 -1 true"},
	} {
		if !mustParse(t, args).Processes.Master {
			t.Errorf("%q: no master", args)
		}
	}
	if mustParse(t, []string{"--threads", "4", "--master=false"}).Processes.Master {
		t.Error("--master=false: master")
	}
}

func TestWhichLoaderWins(t *testing.T) {
	c := mustParse(t, []string{"--pypy-wsgi-file", "app.py", "--pypy-wsgi", "app:run"})
	if c.PyPy.App.Kind != AppModule || c.PyPy.App.Target != "app:run" {
		t.Errorf("module and file: %+v", c.PyPy.App)
	}
	if len(c.Notices) != 1 || !strings.Contains(c.Notices[0].Text, "the module is loaded") {
		t.Errorf("module and file: notices %v", c.Notices)
	}
	if a := mustParse(t, []string{"--pypy-paste", "x.ini", "--pypy-wsgi", "m"}).PyPy.App; a.Err == nil || !strings.Contains(a.Err.Error(), "not both") {
		t.Errorf("paste and module: %+v", a)
	}
	if a := mustParse(t, []string{"--pypy-paste", "config:x.ini"}).PyPy.App; a.Kind != AppPaste || a.Target != "config:x.ini" {
		t.Errorf("paste: %+v", a)
	}
	if a := mustParse(t, []string{"--mount", "/a=app.py"}).PyPy.App; a.Kind != MountsOnly || a.Err != nil {
		t.Errorf("mounts only: %+v", a)
	}
}

func TestFarms(t *testing.T) {
	c := mustParse(t, []string{"--mules", "2", "--mule", "job.py", "--farm", "f:1,3"})
	if !reflect.DeepEqual(c.Shared.Mules, []string{"", "", "job.py"}) || len(c.Shared.Farms) != 1 ||
		c.Shared.Farms[0].Name != "f" || !c.Shared.Farms[0].Has(3) || c.Shared.Farms[0].Has(2) {
		t.Errorf("mules %q, farms %+v", c.Shared.Mules, c.Shared.Farms)
	}
	wantError(t, parseError(t, []string{"--mule", "--farm", "f:1,2"}),
		"--farm f:1,2 (command line): 2 is not a mule id (mules are 1 to 1)")
	wantError(t, parseError(t, []string{"--mule", "--farm", "f"}),
		"--farm f (command line): wants NAME:MULE_ID[,MULE_ID]")
}

func TestCompiledOnce(t *testing.T) {
	c := mustParse(t, []string{"--log-format", "%(status) %(addr)", "--trusted-proxy", "10.0.0.0/8,unix"})
	if c.Logging.Format == nil || c.HTTP.Trusted == nil {
		t.Errorf("format %v, trusted %v", c.Logging.Format, c.HTTP.Trusted)
	}
	wantErrorContains(t, parseError(t, []string{"--log-format", "%(status"}), "--log-format", "no closing parenthesis", "(command line)")
	wantErrorContains(t, parseError(t, []string{"--trusted-proxy", "localhost"}, "UWSGI_THREADS=2"), "--trusted-proxy localhost", "not an IP address", "(command line)")
	wantError(t, parseError(t, []string{"--chmod-socket", "999"}), "--chmod-socket 999 (command line): not octal, such as 666 or 660")
	wantError(t, parseError(t, []string{"--sharedarea", "0"}), "--sharedarea 0 (command line): wants a number of 4096-byte pages")
}

// A worker decides from the list its master encoded exactly what the master decided.
func TestDecodeResolvesTheSame(t *testing.T) {
	c := mustParse(t, []string{"--processes", "3", "--cheaper", "1", "--http-socket", ":0", "--socket", "/tmp/s",
		"--pypy-wsgi", "m", "--pypy-eval", "1", "--log-format", "json", "--stats", ":1", "--umask", "022"})
	d, err := Decode(c.Encode())
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]any{
		{c.General, d.General}, {c.Sockets, d.Sockets}, {c.PyPy, d.PyPy}, {c.Processes, d.Processes},
		{c.Operations, d.Operations}, {c.Shared, d.Shared},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("parsed %+v, decoded %+v", pair[0], pair[1])
		}
	}
	if d.Logging.Format == nil {
		t.Error("decoded: --log-format not compiled")
	}
}

// Every implemented option has its effect in its row (To), unless only the parse or the
// setup module reads it.
func TestEveryOptionHasItsEffectInTheTable(t *testing.T) {
	notInGo := map[string]bool{
		// the parse itself: they stand for other settings
		"ini": true, "set": true, "pypy-ini-paste": true, "logger": true, "pyimport": true, "mules": true, "plugins": true,
		// the setup module reads them from the ordered list (uwsgi.opt, the routing rules)
		"callable": true, "manage-script-name": true,
		// rules.go warns about it; spare is the only algorithm
		"cheaper-algo": true,
	}
	for i := range Table {
		o := &Table[i]
		if o.Policy != Implemented || o.Group == "Routing" {
			continue
		}
		if (o.To == nil) != notInGo[o.Name] {
			t.Errorf("%s: To set %v, but listed as read outside Go %v", o.Name, o.To != nil, notInGo[o.Name])
		}
	}
}

// Pre-fork's options: --lazy-apps, --warmup (paths only, and only where there is a fork to
// warm up for), --touch-chain-reload.
func TestPreforkSettings(t *testing.T) {
	c := mustParse(t, []string{"--master", "--warmup", "/a?b=1", "--warmup", "/c", "--warmup-requests", "50", "--touch-chain-reload", "/tmp/x"})
	p := c.Processes
	if p.LazyApps || strings.Join(p.Warmup, " ") != "/a?b=1 /c" || p.WarmupRequests != 50 || strings.Join(p.TouchChainReload, " ") != "/tmp/x" {
		t.Errorf("got %+v", p)
	}
	if c := mustParse(t, nil); c.Processes.WarmupRequests != 1000 {
		t.Errorf("--warmup-requests defaults to %d, want 1000", c.Processes.WarmupRequests)
	}
	if c := mustParse(t, []string{"--lazy"}); !c.Processes.LazyApps {
		t.Error("--lazy (uWSGI's alias) did not set --lazy-apps")
	}
	wantError(t, parseError(t, []string{"--master", "--warmup", "index.html"}), "--warmup index.html (command line): a path from the root please (/...)")
	for _, args := range [][]string{{"--warmup", "/"}, {"--master", "--lazy-apps", "--warmup", "/"}} {
		wantStrings(t, "notices", notices(mustParse(t, args)), []string{
			"warning: warmup /: warm-up requests run in the loaded app before the workers are forked, which needs --master without --lazy-apps: ignored (command line)"})
	}
	// An ASGI app is forked like a WSGI app, but its loop runs in the workers only: no warm-up.
	c = mustParse(t, []string{"--master", "--pypy-asgi", "app", "--warmup", "/"})
	if c.Processes.LazyApps || c.Processes.Warmup != nil {
		t.Errorf("an ASGI app under a master: lazy-apps %v, warm-up %q; want pre-fork without warm-up", c.Processes.LazyApps, c.Processes.Warmup)
	}
	wantStrings(t, "notices", notices(c), []string{
		"warning: warmup /: warm-up requests go through a WSGI app's request path; an ASGI app's event loop runs in the workers only: ignored (command line)"})
}
