package options

import (
	"strings"
	"testing"
)

// TestCPythonAppOptions: the CPython plugin's names are the PyPy options.
func TestCPythonAppOptions(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", `[uwsgi]
module = mysite.wsgi:application
callable = app
wsgi-file = app.py
pythonpath = /srv/a
python-path = /srv/b
pp = /srv/c
eval = x = 1
exec = boot.py
home = /srv/venv
env = DJANGO_SETTINGS_MODULE=mysite.settings
env = EMPTY=
plugins = python3,http
plugin = router_static
`)
	c := mustParse(t, []string{"-w", "other", ini})
	wantStrings(t, "settings", values(c), []string{
		"pypy-wsgi=other", "pypy-wsgi=mysite.wsgi:application", "callable=app", "pypy-wsgi-file=app.py",
		"pypy-pp=/srv/a", "pypy-pp=/srv/b", "pypy-pp=/srv/c", "pypy-eval=x = 1", "pypy-exec=boot.py",
		"virtualenv=/srv/venv", "env=DJANGO_SETTINGS_MODULE=mysite.settings", "env=EMPTY=",
		"plugins=python3,http", "plugins=router_static",
	})
	wantStrings(t, "notices", notices(c), []string{
		"info: plugin python3: nothing to load, uwsgo runs the app on its embedded PyPy (" + ini + ":13)",
		"info: plugin http: nothing to load, uwsgo's workers speak HTTP themselves (" + ini + ":13)",
		"warning: plugin router_static: uwsgo has no equivalent; ignored (" + ini + ":14)",
		"warning: both a module (mysite.wsgi:application, " + ini + ":2) and a file (app.py) are given: the module is loaded, as uWSGI does (" + ini + ":4)",
	})
	for _, name := range []string{"paste", "ini-paste", "wsgi", "file", "venv", "pyhome", "virtualenv"} {
		if Lookup(name) == nil {
			t.Errorf("%s is not an option", name)
		}
	}
	wantError(t, parseError(t, []string{"--env", "NOEQUALS"}), `--env NOEQUALS (command line): wants NAME=VALUE`)
	wantError(t, parseError(t, []string{"--env", "=x"}), `--env =x (command line): wants NAME=VALUE`)
}

// TestPolicy: every uWSGI option has a row; no-ops are quiet, the unimplemented warn,
// and --strict refuses all warnings at once.
func TestPolicy(t *testing.T) {
	for _, name := range strings.Fields(uwsgiNames) {
		if Lookup(name) == nil && !isLogic(name) {
			t.Errorf("uWSGI's %s has no row", name)
		}
	}
	for name, want := range map[string]Policy{
		"enable-threads": NoOp, "thunder-lock": NoOp, "single-interpreter": NoOp, "offload-threads": NoOp,
		"die-on-term": NoOp, "cheaper": Implemented, "cheaper-rss-limit-soft": Unimplemented, "route": Implemented, "route-if": Implemented, "error-route": Refused,
		"response-route-if": Refused, "emperor": Unimplemented,
		"master": Implemented, "module": Implemented,
	} {
		if got := Lookup(name).Policy; got != want {
			t.Errorf("%s: policy %v, want %v", name, got, want)
		}
	}
	if got := insteadOf("cheaper-rss-limit-soft"); got != "the number of workers follows the load only (the spare algorithm)" {
		t.Errorf("cheaper-rss-limit-soft: %q", got)
	}
	if got := insteadOf("smart-attach-daemon"); !strings.Contains(got, "not started") {
		t.Errorf("smart-attach-daemon: %q", got)
	}

	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\nenable-threads = true\nthunder-lock\ntouch-mules-reload = /tmp/x\nmaster\nmaxrequests = 10\n")
	c := mustParse(t, []string{"--offload-threads", "4", "--limit-as", "512", "--lazy-apps", "--emperor", ini})
	wantStrings(t, "notices", notices(c), []string{
		"warning: --limit-as 512: uWSGI's option is not implemented by uwsgo: " + insteadOf("limit-as") + " (command line)",
		"warning: --emperor: uWSGI's option is not implemented by uwsgo: uwsgo is one instance, not an Emperor: run one uwsgo per app (systemd templates do this) (command line)",
		"warning: touch-mules-reload /tmp/x: uWSGI's option is not implemented by uwsgo: nothing watches the file (" + ini + ":4)",
		"warning: maxrequests is not an option of uwsgo or uWSGI; ignored; did you mean max-requests? (" + ini + ":6)",
	})
	// An opaque option takes the next argument unless it is an option or an ini file.
	wantStrings(t, "settings", values(c)[:4], []string{"offload-threads=4", "limit-as=512", "lazy-apps=true", "emperor="})

	err := parseError(t, []string{"--strict", ini})
	wantError(t, err, "strict mode refuses this configuration (2 problems):\n"+
		"  "+ini+":4: touch-mules-reload /tmp/x: uWSGI's option is not implemented by uwsgo: nothing watches the file\n"+
		"  "+ini+":6: maxrequests is not an option of uwsgo or uWSGI; ignored; did you mean max-requests?")
	// A socket that would silently not be there stops the start instead.
	wantError(t, parseError(t, []string{"--https-socket", ":443,a.crt,a.key"}),
		"--https-socket :443,a.crt,a.key (command line): not served yet: terminate TLS in front of uwsgo (nginx, a load balancer) and give it --http-socket")
	ini = writeFile(t, dir, "route.ini", "[uwsgi]\nresponse-route = ^/admin addheader:X: y\n")
	wantError(t, parseError(t, []string{ini}), "response-route ^/admin addheader:X: y ("+ini+":2): "+noRouting)
	wantError(t, parseError(t, []string{"--fastcgi-socket", ":9000"}), "--fastcgi-socket :9000 (command line): "+noProtocol)
	wantError(t, parseError(t, []string{"--https", ":443,a.crt,a.key"}), "--https :443,a.crt,a.key (command line): "+noTLS)
	if Lookup("router-list").Policy != Unimplemented {
		t.Error("router-list is not a routing rule")
	}
	// Information is no offence.
	mustParse(t, []string{"--strict", "--plugins", "python3"})
}

func TestLogger(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "log.ini", "[uwsgi]\nlogger = file:/var/log/app.log\nlogger = main file:/var/log/main.log\nlogger = stdio\nlogger = syslog:app\nlog-master = true\n")
	c := mustParse(t, []string{ini})
	wantStrings(t, "settings", values(c), []string{"logto=/var/log/app.log", "logto=/var/log/main.log", "log-master=true"})
	wantStrings(t, "notices", notices(c), []string{
		"info: logger stdio: the log is standard error unless --logto names a file (" + ini + ":4)",
		"warning: logger syslog:app: uwsgo logs to standard error or a file (logger = file:PATH, --logto); this one is ignored (" + ini + ":5)",
	})
	wantError(t, parseError(t, []string{"--logger", "file:"}), "--logger file: (command line): file: needs a path")
}

func TestRouteRules(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "r.ini", `[uwsgi]
route-host = ^old\.example\.com$ redirect-301:https://example.com${REQUEST_URI}
route-if = startswith:${PATH_INFO};/admin goto:admin
route-run = last:
route-label = admin
route-remote-addr = ^10\. last:
route = .* break:403 Forbidden
`)
	c := mustParse(t, []string{ini})
	if len(c.all("route-label")) != 1 || len(c.all("route")) != 1 || len(c.Notices) != 0 {
		t.Errorf("settings %q notices %q", values(c), notices(c))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--route", "^/x static:/srv/x"}, `--route ^/x static:/srv/x (command line): uwsgo's routing has no "static" action`},
		{[]string{"--route", "^/x"}, `--route ^/x (command line): a rule is REGEXP ACTION`},
		{[]string{"--route-if", "isodd:1 last:"}, `--route-if isodd:1 last: (command line): uwsgo's routing has no "isodd" check`},
		{[]string{"--route-run", "goto:nowhere"}, `--route-run goto:nowhere (command line): no route-label nowhere`},
		{[]string{"--mount", "admin=admin.py"}, `--mount admin=admin.py (command line): wants /PREFIX=APP (a module, a file or a paste .ini)`},
		{[]string{"--static-map", "/static"}, `--static-map /static (command line): wants /MOUNT=DIR`},
		{[]string{"--add-header", "X-Frame-Options"}, `--add-header X-Frame-Options (command line): wants NAME: VALUE`},
	} {
		wantErrorContains(t, parseError(t, tc.args), tc.want)
	}
	mustParse(t, []string{"--route-run", "goto:3"})
}

func TestSetAndImport(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "s.ini", "[uwsgi]\nhttp-socket = :%(port)\npyimport = myapp.tasks\nimport = signals\n")
	c := mustParse(t, []string{"--set", "port=8000", "-S", "threads=3", ini})
	wantStrings(t, "settings", values(c), []string{"threads=3", "http-socket=:8000", "pypy-eval=import myapp.tasks", "pypy-eval=import signals"})
	if len(c.Notices) != 0 {
		t.Errorf("notices: %q", notices(c))
	}
	wantError(t, parseError(t, []string{"--set", "threads=lots"}), `--threads wants a whole number from 1 to 1024, got "lots" (command line)`)
	wantError(t, parseError(t, []string{"--set", "port"}), `--set port (command line): wants NAME=VALUE`)
	wantError(t, parseError(t, []string{"--pyimport", "my-app"}), `--pyimport my-app (command line): wants a module name (a.b.c)`)
}

func TestAddressSpaceLimits(t *testing.T) {
	c := mustParse(t, []string{"--reload-on-as", "512", "--evil-reload-on-as", "8192"})
	wantStrings(t, "notices", notices(c), []string{
		"warning: reload-on-as 512: a uwsgo worker maps about 2 GB of address space (Go's and PyPy's reservations, mostly never used), so every worker is replaced as soon as it is ready; --reload-on-rss limits the memory really used (command line)"})
}

func TestUWSGINamesWithTheirMeaning(t *testing.T) {
	dir := t.TempDir()
	base := writeFile(t, dir, "base.ini", "[uwsgi]\nmaster = true\nthreads = 2\n")
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\ninclude = "+base+"\nmules = 2\npidfile2 = /run/app.pid\ndaemonize2 = /var/log/app.log\n")
	c := mustParse(t, []string{ini})
	wantStrings(t, "settings", values(c), []string{"master=true", "threads=2", "mule=-", "mule=-", "pidfile=/run/app.pid", "daemonize=/var/log/app.log"})
	for args, want := range map[string]string{
		"--xml=app.xml":   "--xml app.xml (command line): " + noFormat,
		"--chroot=/jail":  "--chroot /jail (command line): " + noJail,
		"--mules=1000":    `--mules wants a whole number from 0 to 256, got "1000" (command line)`,
		"--include=x.yml": "cannot read ini file",
	} {
		wantErrorContains(t, parseError(t, []string{args}), want)
	}
}
