package e2e

// Real uWSGI configurations (issue 16): ini files written the way Django and Flask
// projects and Docker images write them, run unchanged by the real binary.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cfgWrite writes a file (making its directory) and returns its path.
func cfgWrite(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cfgProject is a Django-style project: mysite/wsgi.py exposing "app" (not
// "application", so that only --callable can find it), answering with an environment
// variable and a name from a package that lives in a PyPy virtualenv.
func cfgProject(t *testing.T) (dir, venv string) {
	t.Helper()
	dir = t.TempDir()
	cfgWrite(t, filepath.Join(dir, "src", "mysite", "__init__.py"), "")
	// Only --pyimport imports this one.
	cfgWrite(t, filepath.Join(dir, "src", "mysite", "early.py"), "import os\nos.environ['IMPORTED_EARLY'] = 'yes'\n")
	cfgWrite(t, filepath.Join(dir, "src", "mysite", "wsgi.py"), `import os

import greet

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s %s %s %s" % (os.environ.get("GREETING"), greet.WORD, environ.get("PATH_INFO"),
                                  os.environ.get("DROPPED"), os.environ.get("IMPORTED_EARLY"))).encode()]
`)
	cfgWrite(t, filepath.Join(dir, "other.py"), `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the file, not the module"]
`)
	venv = filepath.Join(dir, "venv")
	if out, err := rooted(exec.Command("pypy3", "-m", "venv", "--without-pip", venv)).CombinedOutput(); err != nil {
		t.Fatalf("pypy3 -m venv: %v\n%s", err, out)
	}
	site, err := filepath.Glob(filepath.Join(venv, "lib", "pypy*", "site-packages"))
	if err != nil || len(site) != 1 {
		t.Fatalf("no site-packages in the PyPy virtualenv: %v %v", site, err)
	}
	cfgWrite(t, filepath.Join(site[0], "greet.py"), "WORD = 'from-the-venv'\n")
	return dir, venv
}

// TestUWSGIConfigCPythonNames: a uWSGI ini using the CPython plugin's names (module,
// callable, pythonpath, home, env, plugins, wsgi-file next to module) serves the app.
func TestUWSGIConfigCPythonNames(t *testing.T) {
	t.Parallel()
	dir, venv := cfgProject(t)
	addr := freeAddr(t)
	ini := cfgWrite(t, filepath.Join(dir, "uwsgi.ini"), `[uwsgi]
# the app
plugins = python3
chdir = `+dir+`
pythonpath = %(chdir)/src
module = mysite.wsgi
callable = app
; left over from an older layout: uWSGI loads the module and says so
wsgi-file = other.py
home = `+venv+`
set = word=hello
env = GREETING=%(word)
env = LANG=C.UTF-8
unenv = DROPPED
pyimport = mysite.early

master = true
processes = 2
enable-threads = true
thunder-lock = true
http-socket = `+addr+`
`)
	s := Run(t, []string{"--ini", ini}, Dir(dir), Env("DROPPED=yes"))
	s.Addr = addr
	resp, body := s.Get("/x")
	if want := "hello from-the-venv /x None yes"; resp.StatusCode != 200 || body != want {
		t.Fatalf("GET /x = %d %q, want 200 %q\n%s", resp.StatusCode, body, want, s.Log())
	}
	log := s.Log()
	for _, want := range []string{
		"info: plugin python3: nothing to load",
		"warning: both a module (mysite.wsgi, " + ini + ":6) and a file (other.py) are given: the module is loaded",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "enable-threads") || strings.Contains(log, "thunder-lock") {
		t.Errorf("no-op options were warned about:\n%s", log)
	}
}

// TestUWSGIConfigCPythonVirtualenv: a CPython virtualenv is refused with the reason.
func TestUWSGIConfigCPythonVirtualenv(t *testing.T) {
	t.Parallel()
	dir, _ := cfgProject(t)
	cvenv := filepath.Join(dir, "cvenv")
	if out, err := exec.Command("python3", "-m", "venv", "--without-pip", cvenv).CombinedOutput(); err != nil {
		t.Skipf("python3 -m venv: %v\n%s", err, out)
	}
	code, out := Run(t, []string{"--http-socket", freeAddr(t), "--chdir", dir,
		"--pythonpath", "src", "--module", "mysite.wsgi", "--callable", "app", "--virtualenv", cvenv}, NoWait()).ExitWithin(30 * time.Second)
	if code != 1 || !strings.Contains(out, "--virtualenv "+cvenv+" is a CPython virtualenv (lib/python3.") ||
		!strings.Contains(out, "cannot run on PyPy") {
		t.Fatalf("exit %d, want 1 naming the CPython virtualenv; output:\n%s", code, out)
	}
}

// dockerIni is a Docker image's uwsgi.ini: everything from the environment, config
// logic for development, comments after numbers, uWSGI's log-format.
const dockerIni = `[uwsgi]
; set by the Dockerfile / docker-compose
http-socket = $(BIND)
chdir = $(APP_DIR)
wsgi-file = app.py
callable = app
master = true
processes = 2            ; two per container
threads = %(processes * 2)
post-buffering = true
http-keepalive = 1
buffer-size = 65536
strict = $(STRICT)
die-on-term = true
vacuum

if-env = DEV_MODE
env = MODE=%(_)
endif
if-not-env = DEV_MODE
env = MODE=production
endif
for = ONE TWO
env = %(_)=set
endfor

log-format = %(addr) %(method) %(uri) => %(status) [cfg]
`

// cfgAppIni writes NAME in dir: an ini running cfgDockerApp's app with MODE=mode and
// rest after it.
func cfgAppIni(t *testing.T, dir, name, mode, rest string) string {
	t.Helper()
	return cfgWrite(t, filepath.Join(dir, name), "[uwsgi]\nchdir = %d\nwsgi-file = app.py\ncallable = app\n"+
		"env = MODE="+mode+"\nenv = ONE=1\nenv = TWO=2\n"+rest)
}

func cfgDockerApp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfgWrite(t, filepath.Join(dir, "app.py"), `import os, uwsgi

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s %s cores=%d" % (os.environ["MODE"], os.environ["ONE"], os.environ["TWO"], uwsgi.cores)).encode()]
`)
	cfgWrite(t, filepath.Join(dir, "uwsgi.ini"), dockerIni)
	return dir
}

// TestUWSGIConfigIniLanguage: the Docker-style ini serves, with the environment's
// values, config logic and log-format as uWSGI would read them.
func TestUWSGIConfigIniLanguage(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	addr := freeAddr(t)
	s := Run(t, []string{"uwsgi.ini"}, Dir(dir), Env("BIND="+addr, "APP_DIR="+dir, "DEV_MODE=development", "STRICT=false"))
	s.Addr = addr
	resp, body := s.Get("/hi")
	if resp.StatusCode != 200 || body != "development set set cores=4" {
		t.Fatalf("GET /hi = %d %q, want \"development set set cores=4\"\n%s", resp.StatusCode, body, s.Log())
	}
	if !s.WaitLog("127.0.0.1 GET /hi => 200 [cfg]", 5*time.Second) {
		t.Errorf("no request line in the ini's log-format:\n%s", s.Log())
	}
	// http-keepalive = 1 is on (uWSGI's meaning): the connection is kept.
	if resp.Close {
		t.Errorf("http-keepalive = 1 closed the connection")
	}
}

// TestUWSGIConfigStrictAndPrintConfig: --print-config shows each setting and where it
// came from; strict refuses unimplemented and unknown lines, all listed at once.
func TestUWSGIConfigStrictAndPrintConfig(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	ini := filepath.Join(dir, "uwsgi.ini")
	cfgWrite(t, filepath.Join(dir, "extra.ini"), "[uwsgi]\ncheaper-rss-limit-soft = 1\nlimit-as = 512\nharakiri-timeout = 30\n")
	env := []string{"BIND=127.0.0.1:0", "APP_DIR=" + dir}

	code, out := Run(t, []string{"--ini", ini, "--ini", filepath.Join(dir, "extra.ini"), "--print-config"}, Env(append(env, "STRICT=false")...), NoWait()).ExitWithin(30 * time.Second)
	for _, want := range []string{
		"pypy-wsgi-file = app.py", ini + ":5",
		"threads = 4                              ; " + ini + ":9\n",
		"env = MODE=production                    ; " + ini + ":21\n",
		"die-on-term = true", "(accepted, no effect in uwsgo)",
		"cheaper-rss-limit-soft = 1", "(not implemented: a warning at start)",
		"; warning: harakiri-timeout is not an option of uwsgo or uWSGI; ignored (" + dir + "/extra.ini:4)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q", want)
		}
	}
	if code != 0 || t.Failed() {
		t.Fatalf("--print-config: exit %d, output:\n%s", code, out)
	}

	code, out = Run(t, []string{"--ini", ini, "--ini", filepath.Join(dir, "extra.ini")}, Env(append(env, "STRICT=true")...), NoWait()).ExitWithin(30 * time.Second)
	if code != 1 || !strings.Contains(out, "strict mode refuses this configuration (3 problems):\n"+
		"  "+dir+"/extra.ini:2: cheaper-rss-limit-soft 1: uWSGI's option is not implemented by uwsgo: the number of workers follows the load only (the spare algorithm)\n"+
		"  "+dir+"/extra.ini:3: limit-as 512: uWSGI's option is not implemented by uwsgo: no limit is set: a uwsgo process maps about 2 GB of address space (Go's and PyPy's reservations), which a limit sized for CPython would not allow; --reload-on-rss limits the memory really used\n"+
		"  "+dir+"/extra.ini:4: harakiri-timeout is not an option of uwsgo or uWSGI; ignored") {
		t.Fatalf("strict: exit %d, output:\n%s", code, out)
	}

	// A routing rule uwsgo cannot run is refused even without strict: it may guard a path.
	cfgWrite(t, filepath.Join(dir, "route.ini"), "[uwsgi]\n; keep the admin private\nroute = ^/admin basicauth:Admin,admin:secret\n")
	code, out = Run(t, []string{"--ini", ini, "--ini", filepath.Join(dir, "route.ini")}, Env(append(env, "STRICT=false")...), NoWait()).ExitWithin(30 * time.Second)
	if code != 1 || !strings.Contains(out, "uwsgo: route ^/admin basicauth:Admin,admin:secret ("+dir+"/route.ini:3): uwsgo's routing has no \"basicauth\" action") {
		t.Fatalf("route: exit %d, output:\n%s", code, out)
	}
}

// TestUWSGIConfigProcessOptions: umask, chown-socket, max-fd, http11-socket and
// no-orphans from a production-style ini.
func TestUWSGIConfigProcessOptions(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("chown-socket needs root")
	}
	dir := cfgDockerApp(t)
	addr := freeAddr(t)
	sock := filepath.Join(dir, "app.sock")
	ini := cfgAppIni(t, dir, "prod.ini", "prod", `http11-socket = `+addr+`
socket = `+sock+`
chown-socket = nobody:nogroup
umask = 077
max-fd = 2048
no-orphans = true
master = true
processes = 1
`)
	s := Run(t, []string{ini}, Dir(dir), Env(nil...))
	s.Addr = addr
	if resp, body := s.Get("/"); resp.StatusCode != 200 || !strings.HasPrefix(body, "prod 1 2") {
		t.Fatalf("GET / over http11-socket = %d %q\n%s", resp.StatusCode, body, s.Log())
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	nobody, _ := user.Lookup("nobody")
	if strconv.Itoa(int(st.Uid)) != nobody.Uid || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket owner %d mode %v, want nobody's uid %s and 0700 (umask 077)", st.Uid, fi.Mode().Perm(), nobody.Uid)
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", s.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Max open files +2048 +2048 `).Match(limits) {
		t.Errorf("max-fd = 2048 not applied:\n%s", limits)
	}
	if strings.Contains(s.Log(), "warning") {
		t.Errorf("implemented options were warned about:\n%s", s.Log())
	}
}

// TestUWSGIConfigMount: several apps by prefix (mount + manage-script-name), as a
// Flask site with an admin app mounted beside it writes it; the module given without
// mount answers the rest.
func TestUWSGIConfigMount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := func(name string) string {
		return `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("` + name + ` %s|%s" % (environ["SCRIPT_NAME"], environ["PATH_INFO"])).encode()]
`
	}
	cfgWrite(t, filepath.Join(dir, "frontpage.py"), app("site"))
	cfgWrite(t, filepath.Join(dir, "admin.py"), app("admin"))
	cfgWrite(t, filepath.Join(dir, "api", "wsgi.py"), app("api"))
	cfgWrite(t, filepath.Join(dir, "api", "__init__.py"), "")
	addr := freeAddr(t)
	ini := cfgWrite(t, filepath.Join(dir, "uwsgi.ini"), `[uwsgi]
chdir = %d
http-socket = `+addr+`
pythonpath = %d
module = frontpage
mount = /admin=admin.py
mount = /api/v1=api.wsgi
manage-script-name = true
`)
	s := Run(t, []string{ini}, Dir(dir), Env(nil...))
	s.Addr = addr
	for path, want := range map[string]string{
		"/admin/users": "admin /admin|/users",
		"/admin":       "admin /admin|",
		"/administer":  "site |/administer",
		"/api/v1/x":    "api /api/v1|/x",
		"/api/v2/x":    "site |/api/v2/x",
		"/":            "site |/",
	} {
		if resp, body := s.Get(path); resp.StatusCode != 200 || body != want {
			t.Errorf("GET %s = %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	if !strings.Contains(s.Log(), "/admin="+filepath.Join(dir, "admin.py")+":application") {
		t.Errorf("the start-up log does not name the mounted apps:\n%s", s.Log())
	}
}

// TestUWSGIConfigLogMaxsize: logto (or a file: logger) + log-maxsize rotate the log by
// size (master and workers move to the new file), as uWSGI's log rotation does.
func TestUWSGIConfigLogMaxsize(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"master", "single"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := cfgDockerApp(t)
			addr := freeAddr(t)
			logfile := filepath.Join(dir, "logs", "uwsgi.log")
			if err := os.MkdirAll(filepath.Dir(logfile), 0o755); err != nil {
				t.Fatal(err)
			}
			// The single process names its file as a uWSGI logger does.
			master, logto := "processes = 2\nmaster = true\n", "logto = %dlogs/uwsgi.log"
			if mode == "single" {
				master, logto = "", "logger = file:%dlogs/uwsgi.log"
			}
			ini := cfgAppIni(t, dir, "log.ini", "log", `http-socket = `+addr+`
`+master+logto+`
log-maxsize = 4000   ; bytes
`)
			s := Run(t, []string{ini}, ReadyIn(logfile))
			s.Addr = addr
			var backups []string
			for i := 0; i < 400 && len(backups) == 0; i++ {
				s.Get(fmt.Sprintf("/request-%d", i))
				backups, _ = filepath.Glob(logfile + ".*")
				if i%20 == 19 {
					eventually(2*time.Second, func() bool { backups, _ = filepath.Glob(logfile + ".*"); return len(backups) > 0 })
				}
			}
			if len(backups) == 0 {
				t.Fatalf("no rotated log after 400 requests")
			}
			// New requests land in the new file, from every process.
			if !eventually(10*time.Second, func() bool {
				s.Get("/after-rotation")
				b, _ := os.ReadFile(logfile)
				return strings.Contains(string(b), "GET /after-rotation")
			}) {
				b, _ := os.ReadFile(logfile)
				t.Fatalf("requests after the rotation are not in the new log:\n%s", b)
			}
			old, _ := os.ReadFile(backups[0])
			if !strings.Contains(string(old), "GET /request-0 ") {
				t.Errorf("the rotated file %s lacks the first requests", backups[0])
			}
		})
	}
}

// TestUWSGIConfigMemoryLimits: reload-on-as replaces a worker gracefully, evil-reload-on-rss
// kills one outright; with 1 MB every PyPy worker is over both, so each happens at once.
func TestUWSGIConfigMemoryLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ option, line string }{
		{"reload-on-as", `master: worker 1 \(pid \d+\) has \d+ MB of address space \(--reload-on-as 1\): replacing it`},
		{"evil-reload-on-rss", `master: worker 1 \(pid \d+\) uses \d+ MB of memory \(--evil-reload-on-rss 1\): killing it`},
	} {
		t.Run(tc.option, func(t *testing.T) {
			t.Parallel()
			dir := cfgDockerApp(t)
			ini := cfgAppIni(t, dir, "mem.ini", "m", "master = true\nprocesses = 1\n"+tc.option+" = 1   ; MB\n")
			s := Start(t, ini)
			re := regexp.MustCompile(tc.line)
			if !eventually(20*time.Second, func() bool { return len(re.FindAllString(s.Log(), -1)) >= 2 }) {
				t.Fatalf("no two %q lines within 20 s:\n%s", tc.line, s.Log())
			}
			// A limit under what every uwsgo worker maps is warned about (the log shows why).
			if warned := strings.Contains(s.Log(), "warning: "+tc.option+" 1: a uwsgo worker maps about 2 GB"); warned != (tc.option == "reload-on-as") {
				t.Errorf("%s: warned %v:\n%s", tc.option, warned, s.Log())
			}
		})
	}
}

// TestUWSGIConfigAttachDaemon: a Django site's ini running a queue consumer beside the
// workers: started, started again when it dies, stopped with the instance.
func TestUWSGIConfigAttachDaemon(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	pids := filepath.Join(dir, "daemon.pids")
	ini := cfgAppIni(t, dir, "daemon.ini", "d", `; the worker queue, as celery would be
attach-daemon = echo $$ >> %ddaemon.pids; exec sleep 600
`)
	s := Start(t, ini)
	read := func() []string {
		b, _ := os.ReadFile(pids)
		return strings.Fields(string(b))
	}
	if !eventually(10*time.Second, func() bool { return len(read()) == 1 }) {
		t.Fatalf("the daemon did not start:\n%s", s.Log())
	}
	first, _ := strconv.Atoi(read()[0])
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return len(read()) == 2 }) {
		t.Fatalf("the daemon was not started again after it died:\n%s", s.Log())
	}
	second, _ := strconv.Atoi(read()[1])
	if !strings.Contains(s.Log(), fmt.Sprintf("(pid %d) was killed by SIGKILL: starting it again", first)) {
		t.Errorf("the log does not say why the daemon was restarted:\n%s", s.Log())
	}
	s.Stop()
	if !eventually(10*time.Second, func() bool { return syscall.Kill(second, 0) != nil }) {
		t.Errorf("the daemon (pid %d) outlived the instance", second)
	}
}

// TestUWSGIConfigCron: a cron line in uWSGI's syntax runs its command from the master
// (every minute: so at once, in the first minute).
func TestUWSGIConfigCron(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	ini := cfgAppIni(t, dir, "cron.ini", "c", `; clear the sessions every minute
cron = -1 -1 -1 -1 -1 echo "$MODE ran" >> %dcron.out
`)
	s := Start(t, ini)
	if !eventually(10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "cron.out"))
		return string(b) == "c ran\n"
	}) {
		t.Fatalf("the cron command did not run:\n%s", s.Log())
	}
	code, out := Run(t, []string{"--http-socket", freeAddr(t), "--cron", "5 4 * * * cmd", "--pypy-wsgi-file", filepath.Join(dir, "app.py")}, NoWait()).ExitWithin(20 * time.Second)
	if code != 1 || !strings.Contains(out, `--cron "5 4 * * * cmd": "*" is not a number (-1 for any, -N for every N)`) {
		t.Errorf("a crontab-style line: exit %d, output:\n%s", code, out)
	}
}

// TestUWSGIConfigHooks: hooks and exec- options at each phase uwsgo has, in the order of
// an instance's life; a misspelt action stops the start naming it.
func TestUWSGIConfigHooks(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	order := filepath.Join(dir, "order")
	ini := cfgAppIni(t, dir, "hooks.ini", "h", `master = true
processes = 1
hook-asap = mkdir:%drun/app
exec-asap = echo asap >> %dorder
hook-as-root = exec:echo as-root >> %dorder
exec-as-user = echo as-user >> %dorder
hook-master-start = write:%drun/app/started yes
hook-master-start = exec:echo master-start >> %dorder
exec-pre-app = echo pre-app >> %dorder
hook-post-app = exec:echo post-app >> %dorder
hook-post-app = print:the app is in
hook-accepting = exec:echo accepting >> %dorder
exec-as-user-atexit = echo atexit >> %dorder
`)
	s := Start(t, ini)
	read := func() string { b, _ := os.ReadFile(order); return string(b) }
	want := "asap\nas-root\nas-user\nmaster-start\npre-app\npost-app\naccepting\n"
	if !eventually(10*time.Second, func() bool { return read() == want }) {
		t.Fatalf("hooks ran as %q, want %q\n%s", read(), want, s.Log())
	}
	if b, err := os.ReadFile(filepath.Join(dir, "run", "app", "started")); err != nil || string(b) != "yes" {
		t.Errorf("write: gave %q, %v", b, err)
	}
	if !strings.Contains(s.Log(), "the app is in") {
		t.Errorf("print: did not log:\n%s", s.Log())
	}
	s.Stop()
	if got := read(); got != want+"atexit\n" {
		t.Errorf("after the stop the hooks ran as %q", got)
	}

	code, out := Run(t, []string{"--http-socket", freeAddr(t), "--hook-as-root", "exce:true", "--pypy-wsgi-file", filepath.Join(dir, "app.py")}, NoWait()).ExitWithin(20 * time.Second)
	if code != 1 || !strings.Contains(out, `--hook-as-root exce:true: uwsgo has no "exce" action`) {
		t.Errorf("a misspelt action: exit %d, output:\n%s", code, out)
	}
}

// TestUWSGIConfigRouting: uWSGI's request chain of internal routing with the common
// actions, as sites write it: a host redirect, a 403, a rewrite with groups, headers
// added and removed, a goto over a guard, a log line, and a bare break.
func TestUWSGIConfigRouting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgWrite(t, filepath.Join(dir, "app.py"), `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Secret", "yes")])
    return [("%s?%s" % (environ["PATH_INFO"], environ.get("QUERY_STRING", ""))).encode()]
`)
	ini := cfgWrite(t, filepath.Join(dir, "routes.ini"), `[uwsgi]
chdir = %d
wsgi-file = app.py
; the old domain moves for good
route-host = ^old\.example\.com$ redirect-301:https://example.com${REQUEST_URI}
route = ^/admin break:403 Forbidden
route = ^/legacy/(.*)$ rewrite:/new/$1?from=legacy
route-uri = .* addheader:X-Served-By: uwsgo
route = ^/public delheader:X-Secret
route-if = equal:${qs[token]};abc goto:ok
route = ^/guarded break:401
route-label = ok
route-if-not = empty:${HTTP_X_DEBUG} log:debug request for ${PATH_INFO}
route = ^/drop break:
route = ^/old-page redirect:/new-page
; an app mounted under /sub by the proxy
route = ^/sub/ addvar:SCRIPT_NAME=/sub
route-run = fixpathinfo:
`)
	s := Start(t, ini)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", s.URL(path), nil)
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, s.Log())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, tc := range []struct {
		path   string
		hdr    map[string]string
		status int
		body   string
		header map[string]string
	}{
		{"/x?y=1", map[string]string{"Host": "old.example.com"}, 301, "", map[string]string{"Location": "https://example.com/x?y=1"}},
		{"/admin/users", nil, 403, "", map[string]string{"X-Served-By": ""}},
		{"/legacy/a/b", nil, 200, "/new/a/b?from=legacy", map[string]string{"X-Served-By": "uwsgo", "X-Secret": "yes"}},
		{"/public/x", nil, 200, "/public/x?", map[string]string{"X-Served-By": "uwsgo", "X-Secret": ""}},
		{"/guarded", nil, 401, "", nil},
		{"/guarded?token=abc", nil, 200, "/guarded?token=abc", nil},
		{"/old-page", nil, 302, "", map[string]string{"Location": "/new-page", "X-Served-By": "uwsgo"}},
		{"/debug", map[string]string{"X-Debug": "1"}, 200, "/debug?", nil},
		{"/sub/page", nil, 200, "/page?", nil},
	} {
		resp, body := get(tc.path, tc.hdr)
		if resp.StatusCode != tc.status || (tc.status == 200 && body != tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
		for k, v := range tc.header {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, k, got, v)
			}
		}
	}
	if !s.WaitLog("debug request for /debug", 5*time.Second) {
		t.Errorf("no log: line:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "debug request for /public") {
		t.Errorf("route-if-not logged without X-Debug:\n%s", s.Log())
	}
	// A bare break closes the request: no response at all.
	if out := s.Raw("GET /drop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); out != "" {
		t.Errorf("break: answered %q, want the connection closed", out)
	}
}

// TestUWSGIConfigStatic: static-map and check-static serve files (from Go, with
// sendfile) before the app, a Django site's usual lines; add-header marks every response.
func TestUWSGIConfigStatic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgWrite(t, filepath.Join(dir, "app.py"), `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("app " + environ["PATH_INFO"]).encode()]
`)
	css := strings.Repeat("body { color: red }\n", 5000)
	cfgWrite(t, filepath.Join(dir, "collected", "css", "site.css"), css)
	cfgWrite(t, filepath.Join(dir, "public", "robots.txt"), "User-agent: *\n")
	cfgWrite(t, filepath.Join(dir, "secret.txt"), "secret\n")
	ini := cfgWrite(t, filepath.Join(dir, "static.ini"), `[uwsgi]
chdir = %d
wsgi-file = app.py
static-map = /static=%dcollected
check-static = %dpublic
add-header = X-Frame-Options: DENY
`)
	s := Start(t, ini)
	resp, body := s.Get("/static/css/site.css")
	if resp.StatusCode != 200 || body != css || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" && resp.Header.Get("Content-Type") != "text/css" {
		t.Errorf("static file: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("static file headers: %v", resp.Header)
	}
	req, _ := http.NewRequest("GET", s.URL("/static/css/site.css"), nil)
	req.Header.Set("If-Modified-Since", resp.Header.Get("Last-Modified"))
	if r2, err := http.DefaultClient.Do(req); err != nil || r2.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %v %v", r2, err)
	} else {
		r2.Body.Close()
	}
	for path, want := range map[string]string{
		"/robots.txt":         "User-agent: *\n",
		"/static/missing.css": "app /static/missing.css",
		// A path out of the directory is no file of the map's: the app gets it.
		"/static/../secret.txt":     "app /static/../secret.txt",
		"/static/%2e%2e/secret.txt": "app /static/../secret.txt",
		"/static/css":               "app /static/css",
		"/hello":                    "app /hello",
	} {
		resp, body := s.Get(path)
		if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s = %d %q (X-Frame-Options %q), want %q", path, resp.StatusCode, body, resp.Header.Get("X-Frame-Options"), want)
		}
	}
}

// TestUWSGIConfigSmartAttachDaemon: a daemon that puts itself in the background (as
// celery --detach does) is followed through its pidfile: started again when that pid
// dies, sent SIGTERM when the instance stops.
func TestUWSGIConfigSmartAttachDaemon(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	pidfile := filepath.Join(dir, "worker.pid")
	ini := cfgAppIni(t, dir, "smart.ini", "s", `smart-attach-daemon = %dworker.pid sleep 600 & echo $! > %dworker.pid
`)
	s := Start(t, ini)
	pid := func() int {
		b, _ := os.ReadFile(pidfile)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	if !eventually(10*time.Second, func() bool { return pid() != 0 }) {
		t.Fatalf("the smart daemon did not write its pidfile:\n%s", s.Log())
	}
	first := pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !eventually(15*time.Second, func() bool { return pid() != first && pid() != 0 }) {
		t.Fatalf("the smart daemon was not started again after pid %d died:\n%s", first, s.Log())
	}
	second := pid()
	s.Stop()
	if !eventually(10*time.Second, func() bool { return syscall.Kill(second, 0) != nil }) {
		t.Errorf("the smart daemon (pid %d) outlived the instance:\n%s", second, s.Log())
	}
}

// TestUWSGIConfigRealFiles: three [uwsgi] sections as they are published (Django's
// deployment tutorial, a Flask Docker image, a hardened production file), with only
// the sockets, paths and app changed, start and serve; their warnings are exactly the
// options uwsgo does not implement.
func TestUWSGIConfigRealFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ini string
		warnings  []string
	}{
		{"django tutorial", `[uwsgi]

# Django-related settings
# the base directory (full path)
chdir           = %d
# Django's wsgi file
module          = mysite.wsgi
# the virtualenv (full path)
home            = %dvenv

# process-related settings
# master
master          = true
# maximum number of worker processes
processes       = 2
# the socket (use the full path to be safe
socket          = %dmysite.sock
# ... with appropriate permissions - may be needed
chmod-socket    = 664
# clear environment on exit
vacuum          = true
`, nil},
		{"flask docker image", `[uwsgi]
socket = %dflask.sock
chown-socket = nobody:nogroup
chmod-socket = 664
# Graceful shutdown on SIGTERM, see https://github.com/unbit/uwsgi/issues/849#issuecomment-118869386
hook-master-start = unix_signal:15 gracefully_kill_them_all
need-app = true
die-on-term = true
# For debugging and testing
show-config = true

chdir = %d
module = mysite.wsgi
home = %dvenv
wsgi-disable-file-wrapper = true
`, []string{"wsgi-disable-file-wrapper true: uWSGI's option is not implemented by uwsgo"}},
		{"production", `[uwsgi]
strict = false
master = true
enable-threads = true
vacuum = true                        ; Delete sockets during shutdown
single-interpreter = true
die-on-term = true                   ; Shutdown when receiving SIGTERM (default is respawn)
need-app = true

chdir = %d
module = mysite.wsgi:app
home = %dvenv

disable-logging = true               ; Disable built-in logging
log-4xx = true                       ; but log 4xx's anyway
log-5xx = true                       ; and 5xx's

harakiri = 60                        ; forcefully kill workers after 60 seconds
py-callos-afterfork = true           ; allow workers to trap signals

max-requests = 1000                  ; Restart workers after this many requests
max-worker-lifetime = 3600           ; Restart workers after this many seconds
reload-on-rss = 2048                 ; Restart workers after this much resident memory
worker-reload-mercy = 60             ; How long to wait before forcefully killing workers

cheaper-algo = busyness
processes = 4                        ; Maximum number of workers allowed
cheaper = 1                          ; Minimum number of workers allowed
cheaper-initial = 2                  ; Workers created at startup
cheaper-overload = 1                 ; Length of a cycle in seconds
cheaper-step = 2                     ; How many workers to spawn at a time

auto-procname = true
procname-prefix = "myapp "           ; note the space
`, []string{
			"auto-procname true: uWSGI's option is not implemented by uwsgo: process names stay uwsgo's",
			"procname-prefix \"myapp \": uWSGI's",
			// What only the whole file shows comes last: the blog this file comes
			// from misspells uWSGI's py-call-osafterfork.
			"py-callos-afterfork is not an option of uwsgo or uWSGI; ignored; did you mean py-call-osafterfork?",
			"cheaper-algo busyness: uwsgo has uWSGI's default algorithm, spare, and uses it",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := cfgProject(t)
			// The project's package sits at the top, as in Django's layout.
			if err := os.Rename(filepath.Join(dir, "src", "mysite"), filepath.Join(dir, "mysite")); err != nil {
				t.Fatal(err)
			}
			ini := cfgWrite(t, filepath.Join(dir, "uwsgi.ini"), tc.ini)
			s := Start(t, "--ini", ini, "--callable", "app", "--env", "GREETING=hi")
			if resp, body := s.Get("/"); resp.StatusCode != 200 || !strings.HasPrefix(body, "hi from-the-venv /") {
				t.Fatalf("GET / = %d %q\n%s", resp.StatusCode, body, s.Log())
			}
			if strings.Contains(tc.ini, "show-config = true") && !strings.Contains(s.Log(), "hook-master-start = unix_signal:15 gracefully_kill_them_all ; "+ini+":6") {
				t.Errorf("show-config did not print the configuration:\n%s", s.Log())
			}
			var warnings []string
			for _, line := range strings.Split(s.Log(), "\n") {
				if _, w, ok := strings.Cut(line, "uwsgo: warning: "); ok {
					warnings = append(warnings, w)
				}
			}
			if len(warnings) != len(tc.warnings) {
				t.Fatalf("%d warnings, want %d:\n%s", len(warnings), len(tc.warnings), strings.Join(warnings, "\n"))
			}
			for i, w := range tc.warnings {
				if !strings.HasPrefix(warnings[i], w) {
					t.Errorf("warning %d: %q, want it to start with %q", i, warnings[i], w)
				}
			}
		})
	}
}

// TestUWSGIConfigCheaper: cheaper's spare algorithm: one worker at first, more while
// all are busy (up to processes), back to one once they idle.
func TestUWSGIConfigCheaper(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgWrite(t, filepath.Join(dir, "app.py"), `import time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`)
	ini := cfgWrite(t, filepath.Join(dir, "cheaper.ini"), `[uwsgi]
chdir = %d
wsgi-file = app.py
master = true
processes = 3          ; at most
cheaper = 1            ; at least
cheaper-initial = 1
cheaper-step = 1
cheaper-overload = 1
`)
	s := Start(t, ini)
	started := regexp.MustCompile(`master: worker (\d) \(pid \d+\) is ready`)
	if n := len(started.FindAllString(s.Log(), -1)); n != 1 {
		t.Fatalf("%d workers started, want cheaper-initial's 1:\n%s", n, s.Log())
	}
	// Slow requests keep every worker busy: the master adds workers up to 3.
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := http.Get(s.URL("/slow")); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	if !s.WaitLog("master: worker 3 (pid", 30*time.Second) || !s.WaitLog("cheaper: all 2 workers busy: starting 1 more (at most 3)", 5*time.Second) {
		t.Fatalf("no third worker under load:\n%s", s.Log())
	}
	close(stop)
	// Idle again: back down to one.
	if !s.WaitLog("master: stopping worker 2 (pid", 30*time.Second) || !s.WaitLog("cheaper: idle for", 5*time.Second) {
		t.Fatalf("the idle workers were not stopped:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "stopping worker 1 ") {
		t.Errorf("cheaper stopped below its minimum:\n%s", s.Log())
	}
	if resp, body := s.Get("/"); resp.StatusCode != 200 || body != "ok" {
		t.Errorf("after the cheaper cycle: %d %q", resp.StatusCode, body)
	}
}

// TestUWSGIConfigMulesAndIncludes: mules = N starts N mules; include reads another ini
// where it stands; pidfile2 and logto2 are uWSGI's later-written pidfile and log.
func TestUWSGIConfigMulesAndIncludes(t *testing.T) {
	t.Parallel()
	dir := cfgDockerApp(t)
	cfgWrite(t, filepath.Join(dir, "common.ini"), "[uwsgi]\nmaster = true\nmules = 2\n")
	ini := cfgAppIni(t, dir, "inc.ini", "i", "include = %dcommon.ini\npidfile2 = %dapp.pid\n")
	s := Start(t, ini)
	for _, want := range []string{"master: mule 1 (pid", "master: mule 2 (pid"} {
		if !s.WaitLog(want, 20*time.Second) {
			t.Fatalf("no %q:\n%s", want, s.Log())
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "app.pid")); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(s.Cmd.Process.Pid) {
		t.Errorf("pidfile2: %q %v, want the master's pid %d", b, err, s.Cmd.Process.Pid)
	}
}
