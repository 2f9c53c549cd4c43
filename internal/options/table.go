package options

import (
	"os"
	"strings"
	"time"
)

// Table is every option uwsgo understands, on the command line (--name), in
// ini files (name = value) and in the environment (UWSGI_NAME=value).
//
// To add an option, add a row; parsing, validation and --help follow from it.
// Keep Name identical to uWSGI's when the option means the same thing, so
// existing uWSGI command lines and ini files keep working, and say in UWSGI
// how it differs when it does. TestTableIsConsistent checks new rows.
var Table = append([]Option{
	// General
	//
	// ini is read by Parse where it appears and never shows up in
	// Config.Settings: its effect is the settings of the file.
	{
		Name: "ini", Aliases: []string{"include", "inherit"}, Kind: List, Group: "General", Meta: "FILE[:SECTION]",
		Help:  "read options from the [uwsgi] section (or SECTION) of an ini file, in place",
		UWSGI: "only local files; uWSGI also reads http://, fd:// and exec:// sources",
	},
	{
		Name: "set", Aliases: []string{"set-placeholder", "set-ph"}, Short: 'S', Kind: List, Group: "General", Meta: "NAME=VALUE", Check: checkPair("=", "NAME=VALUE", false),
		Help: "set an option (when NAME is one) or a placeholder for %(NAME)",
	},
	{
		Name: "help", Short: 'h', Kind: Flag, To: toBool(func(c *Config) *bool { return &c.General.Help }), Group: "General",
		Help: "show this help and exit",
	},
	{
		Name: "version", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.General.Version }), Group: "General",
		Help: "print the version and exit",
	},
	{
		Name: "strict", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.General.Strict }), Group: "General",
		Help: "refuse to start when the configuration has warnings (options uwsgo does not implement or know), listing them all",
	},
	{
		Name: "print-config", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.General.PrintConfig }), Group: "General",
		Help:  "print every setting as uwsgo understood it, with where it came from, and exit",
		UWSGI: "uwsgo's; --show-config prints the same and goes on to start, as uWSGI's does",
	},
	{
		Name: "show-config", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.General.ShowConfig }), Group: "General",
		Help: "print every setting as uwsgo understood it, with where it came from, then start",
	},
	{
		Name: "print-sym", Kind: String, To: toString(func(c *Config) *string { return &c.General.PrintSym }), Group: "General", Meta: "NAME",
		Help:  "print the named embedded symbol (uwsgi_pypy_setup) and exit",
		UWSGI: "only symbols embedded in uwsgo can be printed",
	},

	// Sockets
	{
		Name: "http-socket", Aliases: []string{"http11-socket"}, Kind: List, To: toList(func(c *Config) *[]string { return &c.Sockets.HTTPSocket }), Group: "Sockets", Meta: "ADDR",
		Help: "serve HTTP/1.1 on ADDR: host:port, :port, [::1]:port or a UNIX socket path",
	},
	{
		Name: "socket", Aliases: []string{"uwsgi-socket"}, Short: 's', Kind: List, To: toList(func(c *Config) *[]string { return &c.Sockets.UwsgiSocket }), Group: "Sockets", Meta: "ADDR",
		Help: "serve the uwsgi protocol (nginx's uwsgi_pass, RPC) on ADDR: host:port or a UNIX socket path; keep it private",
	},
	{
		Name: "http", Kind: List, To: toList(func(c *Config) *[]string { return &c.Sockets.HTTP }), Group: "Sockets", Meta: "ADDR",
		Help:  "the same as --http-socket",
		UWSGI: "uWSGI starts a separate HTTP router process; uwsgo's workers speak HTTP/1.1 themselves",
	},
	{
		Name: "https-socket", Kind: List, Group: "Sockets", Meta: "ADDR,CERT,KEY", Policy: Refused,
		Help: "not served yet: terminate TLS in front of uwsgo (nginx, a load balancer) and give it --http-socket",
	},
	{
		Name: "listen", Short: 'l', Kind: Int, To: toInt(func(c *Config) *int { return &c.Sockets.Backlog }), Group: "Sockets", Meta: "N",
		Default: "0", Min: 0, Max: 65535,
		Help:  "listen queue (backlog) of every socket; 0 = the system's maximum (net.core.somaxconn)",
		UWSGI: "uWSGI's default is 100",
	},
	{
		Name: "chmod-socket", Aliases: []string{"chmod"}, Short: 'C', Kind: String, Check: checkOctal("666 or 660"), To: toOctal(func(c *Config) *os.FileMode { return &c.Sockets.SocketMode }), Group: "Sockets", Meta: "MODE", Implicit: "666",
		Help: "permissions of UNIX sockets (octal; given alone: 666)",
	},
	{
		Name: "chown-socket", Kind: String, To: toString(func(c *Config) *string { return &c.Sockets.SocketOwner }), Group: "Sockets", Meta: "USER[:GROUP]",
		Help: "owner (name or number) of UNIX sockets, and their group if given",
	},
	{
		Name: "umask", Kind: String, Check: checkOctal("022 or 077"), To: toUmask, Group: "Sockets", Meta: "MASK",
		Help: "the process's umask (octal), set first of all: sockets, logs and workers are made under it",
	},

	// PyPy
	{
		Name: "pypy-home", Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.Home }), Group: "PyPy", Meta: "DIR",
		Help: "PyPy home directory (holding lib-python and lib_pypy)",
	},
	{
		Name: "pypy-lib", Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.Lib }), Group: "PyPy", Meta: "FILE",
		Help:  "file or directory holding libpypy",
		UWSGI: "uWSGI accepts only the library file itself",
	},
	{
		Name: "pypy-setup", Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.Setup }), Group: "PyPy", Meta: "FILE",
		Help: "run this setup script instead of the embedded uwsgi_pypy_setup",
	},
	{
		Name: "pypy-wsgi", Aliases: []string{"module", "wsgi"}, Short: 'w', Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.module }), Group: "PyPy", Meta: "MODULE[:CALLABLE]",
		Help:  "load the WSGI app from a module (CALLABLE defaults to --callable, else application)",
		UWSGI: "given with --wsgi-file, this one wins (with a warning), as in uWSGI",
	},
	{
		Name: "pypy-wsgi-file", Aliases: []string{"wsgi-file", "file"}, Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.file }), Group: "PyPy", Meta: "FILE",
		Help: "load the WSGI app from a Python file (its --callable, else application)",
	},
	{
		Name: "pypy-asgi", Aliases: []string{"asgi"}, Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.asgiModule }), Group: "PyPy", Meta: "MODULE[:CALLABLE]",
		Help:  "load an ASGI 3 app from a module (CALLABLE defaults to --callable, else app, then application) and serve it on one event loop per worker",
		UWSGI: "uwsgo's: uWSGI has no ASGI",
	},
	{
		Name: "pypy-asgi-file", Aliases: []string{"asgi-file"}, Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.asgiFile }), Group: "PyPy", Meta: "FILE",
		Help:  "load an ASGI 3 app from a Python file (its --callable, else app, then application)",
		UWSGI: "uwsgo's: uWSGI has no ASGI",
	},
	{
		Name: "callable", Kind: String, Group: "PyPy", Meta: "NAME",
		Help: "the name of the app in the module (unless MODULE:CALLABLE names it) or file",
	},
	{
		Name: "pypy-paste", Aliases: []string{"paste"}, Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.paste }), Group: "PyPy", Meta: "[config:]FILE",
		Help: "load the app with paste.deploy's loadapp from FILE, after configuring logging from its logging sections",
	},
	// pypy-ini-paste, like ini, never shows up in Config.Settings: its effect is the [uwsgi]
	// section's settings followed by pypy-paste = config:/abs/FILE.
	{
		Name: "pypy-ini-paste", Aliases: []string{"ini-paste", "ini-paste-logged"}, Kind: String, Group: "PyPy", Meta: "FILE",
		Help: "read FILE's [uwsgi] section, if any, as options (with %(here)s and %(__file__)s), then load its app as --pypy-paste",
	},
	{
		Name: "pypy-eval", Aliases: []string{"eval"}, Kind: List, To: toStep(false, func(c *Config) *[]PyStep { return &c.PyPy.Startup }), Group: "PyPy", Meta: "CODE",
		Help: "run Python code before the app loads",
	},
	{
		Name: "pypy-eval-post-fork", Kind: List, To: toStep(false, func(c *Config) *[]PyStep { return &c.PyPy.PostFork }), Group: "PyPy", Meta: "CODE",
		Help: "run Python code in each worker after fork",
	},
	{
		Name: "pypy-exec", Aliases: []string{"exec"}, Kind: List, To: toStep(true, func(c *Config) *[]PyStep { return &c.PyPy.Startup }), Group: "PyPy", Meta: "FILE",
		Help: "run a Python file before the app loads",
	},
	{
		Name: "pypy-exec-post-fork", Kind: List, To: toStep(true, func(c *Config) *[]PyStep { return &c.PyPy.PostFork }), Group: "PyPy", Meta: "FILE",
		Help: "run a Python file in each worker after fork",
	},
	{
		Name: "pypy-pp", Aliases: []string{"pypy-python-path", "pypy-pythonpath", "pythonpath", "python-path", "pp"},
		Kind: List, To: toList(func(c *Config) *[]string { return &c.PyPy.Path }), Group: "PyPy", Meta: "DIR",
		Help: "add DIR to sys.path",
	},

	{
		Name: "mount", Kind: List, To: toList(func(c *Config) *[]string { return &c.PyPy.Mounts }), Group: "PyPy", Meta: "/PREFIX=APP", Check: checkPair("=", "/PREFIX=APP (a module, a file or a paste .ini)", true),
		Help: "one more app (a module, a .py/.wsgi file or a paste .ini) for requests whose SCRIPT_NAME is PREFIX; the app given without --mount answers the rest",
	},
	{
		Name: "manage-script-name", Kind: Flag, Group: "PyPy",
		Help: "choose the --mount app by the longest PREFIX the path starts with, and move that PREFIX from PATH_INFO to SCRIPT_NAME",
	},
	{
		Name: "virtualenv", Aliases: []string{"venv", "home", "pyhome"}, Short: 'H', Kind: String, To: toString(func(c *Config) *string { return &c.PyPy.Virtualenv }), Group: "PyPy", Meta: "DIR",
		Help:  "add the site-packages of DIR, a PyPy virtualenv (pypy3 -m venv DIR), to sys.path",
		UWSGI: "a CPython virtualenv is refused: its packages cannot run on PyPy; PyPy itself is found with --pypy-home",
	},
	{
		Name: "env", Kind: List, To: toList(func(c *Config) *[]string { return &c.PyPy.Env }), Group: "PyPy", Meta: "NAME=VALUE", Check: checkPair("=", "NAME=VALUE", false),
		Help: "set an environment variable before anything loads (inherited by every process)",
	},
	{
		Name: "pyimport", Aliases: []string{"import", "py-import", "python-import"}, Kind: List, Group: "PyPy", Meta: "MODULE", Check: checkModule,
		Help: "import MODULE before the app loads (recorded as --pypy-eval \"import MODULE\")",
	},
	{
		Name: "unenv", Kind: List, To: toList(func(c *Config) *[]string { return &c.PyPy.Unenv }), Group: "PyPy", Meta: "NAME",
		Help: "remove an environment variable before anything loads",
	},
	{
		Name: "plugins", Aliases: []string{"plugin"}, Kind: List, Group: "PyPy", Meta: "NAME[,NAME]...",
		Help:  "accepted for uWSGI configurations: python*, pypy* and the features uwsgo has built in need no plugin",
		UWSGI: "nothing is loaded; a plugin uwsgo has no equivalent of gets a warning",
	},

	// Processes
	{
		Name: "master", Short: 'M', Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Processes.Master }), Group: "Processes",
		Help: "run a master process that starts, watches, respawns and reloads the workers",
	},
	{
		Name: "processes", Aliases: []string{"workers"}, Short: 'p', Kind: Int, To: toInt(func(c *Config) *int { return &c.Processes.Workers }), Group: "Processes", Meta: "N",
		Default: "1", Min: 1, Max: 1024,
		Help:  "worker processes; more than one implies --master",
		UWSGI: "uWSGI without --master forks unsupervised workers; uwsgo always supervises them",
	},
	{
		Name: "binary-path", Kind: String, To: toString(func(c *Config) *string { return &c.Processes.BinaryPath }), Group: "Processes", Meta: "FILE",
		Help: "the executable the master starts for each worker (default: the running one; in library mode, bin/uwsgo-pypy again)",
	},
	{
		Name: "cheaper", Kind: Int, To: toInt(func(c *Config) *int { return &c.Processes.Cheaper }), Group: "Processes", Meta: "N",
		Default: "0", Min: 0,
		Help:  "adaptive workers: keep at least N (fewer than --processes), add --cheaper-step while all are busy, stop one idle for --cheaper-overload; 0 = always --processes",
		UWSGI: "uwsgo's algorithm is uWSGI's default, spare",
	},
	{
		Name: "cheaper-initial", Kind: Int, To: toInt(func(c *Config) *int { return &c.Processes.CheaperInitial }), Group: "Processes", Meta: "N",
		Default: "0", Min: 0,
		Help: "with --cheaper, the workers started at first (0: --cheaper's N)",
	},
	{
		Name: "cheaper-step", Kind: Int, To: toInt(func(c *Config) *int { return &c.Processes.CheaperStep }), Group: "Processes", Meta: "N",
		Default: "1", Min: 1,
		Help: "with --cheaper, the workers added at a time",
	},
	{
		Name: "cheaper-overload", Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.Processes.CheaperOverload }), Group: "Processes", Meta: "SECONDS",
		Default: "3", Min: 1,
		Help: "with --cheaper, how long the newest worker may idle before it is stopped",
	},
	{
		Name: "cheaper-algo", Kind: String, Group: "Processes", Meta: "NAME",
		Help: "spare (uWSGI's default) is the one uwsgo has; another name gets a warning",
	},
	{
		Name: "harakiri", Short: 't', Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.Processes.Harakiri }), Group: "Processes", Meta: "SECONDS",
		Default: "0", Min: 0,
		Help: "kill (and respawn) a worker whose request runs longer than this; 0 = never",
	},
	{
		Name: "max-requests", Short: 'R', Kind: Int, To: toUint64(func(c *Config) *uint64 { return &c.Processes.MaxRequests }), Group: "Processes", Meta: "N",
		Default: "0", Min: 0,
		Help: "replace a worker after it served this many requests; 0 = never",
	},
	{
		Name: "reload-on-rss", Kind: Int, To: toMegabytes(func(c *Config) *int64 { return &c.Processes.ReloadOnRSS }), Group: "Processes", Meta: "MB",
		Default: "0", Min: 0,
		Help: "replace a worker whose resident memory grows past this; 0 = never",
	},
	{
		Name: "reload-on-as", Kind: Int, To: toMegabytes(func(c *Config) *int64 { return &c.Processes.ReloadOnAS }), Group: "Processes", Meta: "MB",
		Default: "0", Min: 0,
		Help: "replace a worker whose address space (virtual size) grows past this; 0 = never",
	},
	{
		Name: "evil-reload-on-rss", Kind: Int, To: toMegabytes(func(c *Config) *int64 { return &c.Processes.EvilReloadOnRSS }), Group: "Processes", Meta: "MB",
		Default: "0", Min: 0,
		Help: "kill (and respawn) a worker at once, its requests with it, when its resident memory grows past this; 0 = never",
	},
	{
		Name: "evil-reload-on-as", Kind: Int, To: toMegabytes(func(c *Config) *int64 { return &c.Processes.EvilReloadOnAS }), Group: "Processes", Meta: "MB",
		Default: "0", Min: 0,
		Help: "kill (and respawn) a worker at once when its address space grows past this; 0 = never",
	},
	{
		Name: "max-worker-lifetime", Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.Processes.MaxWorkerLifetime }), Group: "Processes", Meta: "SECONDS",
		Default: "0", Min: 0,
		Help: "replace a worker after it ran this long; 0 = never",
	},
	{
		Name: "worker-reload-mercy", Aliases: []string{"reload-mercy"}, Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.Processes.ReloadMercy }), Group: "Processes", Meta: "SECONDS",
		Default: "60", Min: 1,
		Help: "how long a stopping worker may take to finish its requests before it is killed",
	},
	{
		Name: "shutdown-delay", Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.Processes.ShutdownDelay }), Group: "Processes", Meta: "SECONDS",
		Default: "0", Min: 0,
		Help:  "on a graceful stop, go on serving this long with --health-path answering 503, so that load balancers move traffic away first",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "die-on-term", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help:  "accepted for uWSGI 2.0 configurations: SIGTERM always stops uwsgo gracefully",
		UWSGI: "uWSGI 2.0 reloads on SIGTERM unless this is given; uwsgo follows uWSGI 2.1",
	},
	{
		Name: "touch-reload", Aliases: []string{"touch-workers-reload"}, Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.TouchReload }), Group: "Processes", Meta: "FILE",
		Help:  "reload the workers gracefully when FILE's modification time changes",
		UWSGI: "uWSGI's reload also re-executes the master; uwsgo's replaces the workers, as touch-workers-reload does",
	},
	{
		Name: "touch-chain-reload", Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.TouchChainReload }), Group: "Processes", Meta: "FILE",
		Help: "replace the workers one at a time, each once its replacement serves, when FILE's modification time changes",
	},
	{
		Name: "master-fifo", Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.MasterFIFO }), Group: "Processes", Meta: "PATH",
		Help: "a FIFO taking one-letter commands: r/w reload, c chain reload, R/W reload now, q stop, Q stop now, s stats",
	},
	{
		Name: "lazy-apps", Aliases: []string{"lazy"}, Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Processes.LazyApps }), Group: "Processes",
		Help: "every worker loads PyPy and the app itself, instead of being forked from one process that loaded them (the default with a master)",
	},
	{
		Name: "warmup", Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.Warmup }), Group: "Processes", Meta: "URI",
		Help:  "before forking the workers, send --warmup-requests GET requests for URI (a path) through the loaded app, to warm PyPy's JIT; responses are dropped",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "warmup-requests", Kind: Int, To: toInt(func(c *Config) *int { return &c.Processes.WarmupRequests }), Group: "Processes", Meta: "N",
		Default: "1000", Min: 1,
		Help:  "how many requests each --warmup URI gets",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "max-fd", Kind: Int, To: toUint64(func(c *Config) *uint64 { return &c.Processes.MaxFD }), Group: "Processes", Meta: "N",
		Default: "0", Min: 0,
		Help: "set the open files limit (soft and hard) of every process; 0 = leave it",
	},
	{
		Name: "threads", Kind: Int, To: toInt(func(c *Config) *int { return &c.Processes.Threads }), Group: "Processes", Meta: "N",
		Default: "1", Min: 1, Max: 1024,
		Help: "threads serving requests",
	},
	{
		Name: "honour-stdin", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Processes.HonourStdin }), Group: "Processes",
		Help: "keep stdin; otherwise it is /dev/null",
	},
	{
		Name: "need-app", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Processes.NeedApp }), Group: "Processes",
		Help: "exit with status 22 when the app cannot be loaded",
	},

	// HTTP
	{
		Name: "buffer-size", Short: 'b', Kind: Int, To: toInt(func(c *Config) *int { return &c.HTTP.BufferSize }), Group: "HTTP", Meta: "BYTES",
		Default: "65535", Min: 1024,
		Help:  "largest request head (request line + headers) accepted; above 65535 it is 65535, the most a uwsgi packet holds",
		UWSGI: "uWSGI's default is 4096",
	},
	{
		Name: "limit-post", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.HTTP.LimitPost }), Group: "HTTP", Meta: "BYTES",
		Default: "0", Min: 0,
		Help: "largest request body accepted; 0 = unlimited",
	},
	{
		Name: "post-buffering", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.HTTP.PostBuffering }), Group: "HTTP", Meta: "BYTES",
		Default: "1048576", Min: 0,
		Help:  "request bodies larger than this are spilled to a temporary file (0: every body); true or yes, uWSGI's \"no buffering\", means the default",
		UWSGI: "uWSGI defaults to 0 (no buffering); uwsgo always reads the whole body before Python sees it",
	},
	{
		Name: "body-memory-budget", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.HTTP.BodyMemoryBudget }), Group: "HTTP", Meta: "BYTES",
		Default: "67108864", Min: 0,
		Help:  "request bodies a worker holds in memory for Python, all together; past it they go to temporary files; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "body-disk-budget", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.HTTP.BodyDiskBudget }), Group: "HTTP", Meta: "BYTES",
		Default: "1073741824", Min: 0,
		Help:  "request bodies a worker keeps in temporary files, all together: a larger body gets 413, one that does not fit while others wait 503; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "response-memory-budget", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.HTTP.ResponseMemoryBudget }), Group: "HTTP", Meta: "BYTES",
		Default: "67108864", Min: 0,
		Help:  "streamed and large responses a worker holds in memory for slow clients, all together; past it they go to temporary files; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "response-disk-budget", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.HTTP.ResponseDiskBudget }), Group: "HTTP", Meta: "BYTES",
		Default: "1073741824", Min: 0,
		Help:  "responses a worker keeps in temporary files for slow clients, all together; past it the app waits for its client; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "socket-timeout", Aliases: []string{"http-timeout"}, Short: 'z', Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.HTTP.SocketTimeout }), Group: "HTTP", Meta: "SECONDS",
		Default: "30", Min: 1,
		Help:  "a read or write that stalls this long closes the connection",
		UWSGI: "uWSGI's default is 4; --http-timeout, the timeout of uWSGI's HTTP router, sets this too",
	},
	{
		Name: "trusted-proxy", Kind: List, To: toList(func(c *Config) *[]string { return &c.HTTP.trusted }), Group: "HTTP", Meta: "IP|CIDR|unix",
		Help:  "take REMOTE_ADDR from X-Forwarded-For and wsgi.url_scheme from X-Forwarded-Proto, only on connections from these addresses (unix: peers on UNIX sockets)",
		UWSGI: "uWSGI has no equivalent (its --http router sets X-Forwarded-For; the app had to trust it)",
	},
	{
		Name: "health-path", Kind: String, To: toString(func(c *Config) *string { return &c.HTTP.HealthPath }), Group: "HTTP", Meta: "PATH",
		Help:  "answer GET/HEAD of PATH on HTTP sockets without Python: 200 \"ok\" while serving, 503 once the instance stops",
		UWSGI: "uWSGI needs an internal routing rule (--route) for this",
	},
	{
		Name: "http-keepalive", Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.HTTP.KeepAlive }), Group: "HTTP", Meta: "SECONDS",
		Default: "60", Min: 0,
		Help:     "how long an idle keep-alive connection is kept; 0 (or false) closes after every response; 1 (or true, or no value) is on with the default",
		UWSGI:    "uWSGI's option of this name switches keep-alive on in its HTTP router: 1 means on there too, not one second",
		Implicit: "60",
	},

	{
		Name: "add-header", Kind: List, To: toHeader, Group: "HTTP", Meta: "NAME: VALUE", Check: checkPair(":", "NAME: VALUE", false),
		Help: "add this header to every response",
	},

	// Static files (internal/static reads all of these, in static.New)
	{
		Name: "static-map", Kind: List, To: toStaticMap(false), Group: "Static files", Meta: "/MOUNT=DIR", Check: checkPair("=", "/MOUNT=DIR", true),
		Help: "serve the files of DIR (or a FILE) under the URL prefix /MOUNT without Python; a missing file goes to the app; longest prefix first, several DIRs for one prefix in the order given",
	},
	{
		Name: "static-map2", Kind: List, To: toStaticMap(true), Group: "Static files", Meta: "/MOUNT=DIR", Check: checkPair("=", "/MOUNT=DIR", true),
		Help: "like --static-map, but the whole path is looked up under DIR: /MOUNT/a.png is DIR/MOUNT/a.png",
	},
	{
		Name: "check-static", Kind: List, To: toList(func(c *Config) *[]string { return &c.Static.Check }), Group: "Static files", Meta: "DIR",
		Help: "serve any path that names a file under DIR before the app is asked (after the --static-map prefixes)",
	},
	{
		Name: "static-index", Kind: List, To: toList(func(c *Config) *[]string { return &c.Static.Index }), Group: "Static files", Meta: "NAME",
		Help: "serve NAME (index.html) for a directory; without it a directory goes to the app (there is no listing)",
	},
	{
		Name: "static-skip-ext", Kind: List, To: toList(func(c *Config) *[]string { return &c.Static.SkipExt }), Group: "Static files", Meta: "EXT",
		Help: "never serve files ending in EXT (.php, .py); the app gets those paths",
	},
	{
		Name: "static-safe", Kind: List, To: toList(func(c *Config) *[]string { return &c.Static.Safe }), Group: "Static files", Meta: "DIR",
		Help: "symbolic links that lead out of a static directory are followed when they lead into DIR",
	},
	{
		Name: "static-dotfiles", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Static.Dotfiles }), Group: "Static files",
		Help:  "serve names starting with \".\" (otherwise such paths go to the app)",
		UWSGI: "uWSGI has no such option: it always serves dotfiles",
	},
	{
		Name: "static-expires-type", Kind: List, Check: checkExpiry(ByContentType), To: toExpiry(ByContentType), Group: "Static files", Meta: "MIME=SECONDS",
		Help: "Expires and Cache-Control: max-age for files of this Content-Type",
	},
	{
		Name: "static-expires", Kind: List, Check: checkExpiry(ByPath), To: toExpiry(ByPath), Group: "Static files", Meta: "REGEXP SECONDS",
		Help: "Expires and Cache-Control: max-age for files whose path on disk matches REGEXP",
	},
	{
		Name: "static-expires-uri", Kind: List, Check: checkExpiry(ByURI), To: toExpiry(ByURI), Group: "Static files", Meta: "REGEXP SECONDS",
		Help: "Expires and Cache-Control: max-age for requests whose REQUEST_URI matches REGEXP",
	},
	{
		Name: "static-immutable", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Static.Immutable }), Group: "Static files",
		Help:  "Cache-Control: public, max-age=31536000, immutable for names with a content hash (app.0123456789ab.css, Django's ManifestStaticFilesStorage)",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "static-gzip-all", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Static.GzipAll }), Group: "Static files",
		Help:  "serve FILE.br or FILE.gz beside FILE to clients that accept br or gzip",
		UWSGI: "uWSGI looks for FILE.gz only",
	},
	{
		Name: "static-gzip-dir", Aliases: []string{"static-gzip-prefix"}, Kind: List, To: toList(func(c *Config) *[]string { return &c.Static.GzipDirs }), Group: "Static files", Meta: "DIR",
		Help:  "like --static-gzip-all, for the files under DIR",
		UWSGI: "uWSGI looks for FILE.gz only",
	},
	{
		Name: "mimefile", Aliases: []string{"mime-file"}, Kind: List, To: toList(func(c *Config) *[]string { return &c.Static.MimeFiles }), Group: "Static files", Meta: "FILE",
		Help: "read more Content-Types from a mime.types FILE (the system's /etc/mime.types is always read)",
	},

	// Shared state
	{
		Name: "locks", Kind: Int, To: toInt(func(c *Config) *int { return &c.Shared.Locks }), Group: "Shared state", Meta: "N",
		Default: "0", Min: 0, Max: 4096,
		Help: "user locks for uwsgi.lock(n): n from 0 to N (lock 0 always exists)",
	},
	{
		Name: "cache2", Kind: List, To: toList(func(c *Config) *[]string { return &c.Shared.Caches }), Group: "Shared state", Meta: "SPEC",
		Help: "a cache shared by all workers: name=NAME,items=N[,blocksize=BYTES][,keysize=BYTES]",
	},
	{
		Name: "cache", Kind: Int, To: toInt(func(c *Config) *int { return &c.Shared.Cache }), Group: "Shared state", Meta: "N",
		Default: "0", Min: 0,
		Help: "the legacy default cache, of N items (--cache-blocksize bytes each)",
	},
	{
		Name: "cache-blocksize", Kind: Int, To: toInt(func(c *Config) *int { return &c.Shared.CacheBlockSize }), Group: "Shared state", Meta: "BYTES",
		Default: "65536", Min: 8,
		Help: "largest value of the legacy --cache",
	},
	{
		Name: "sharedarea", Short: 'A', Kind: List, Check: checkPages, To: toPages, Group: "Shared state", Meta: "PAGES",
		Help: "a shared area of PAGES 4 KiB pages for uwsgi.sharedarea_* (repeatable: ids 0, 1, ...)",
	},
	{
		Name: "metric", Kind: List, To: toList(func(c *Config) *[]string { return &c.Shared.Metrics }), Group: "Shared state", Meta: "SPEC",
		Help: "a metric: NAME or name=NAME[,type=counter|gauge][,initial_value=N]; exported by --stats",
	},

	{
		Name: "mule", Kind: List, To: toMule, Group: "Shared state", Meta: "[FILE.py]", Implicit: "-",
		Help: "a mule: a process that loads the app but serves no requests; alone it runs uwsgi.mule_msg_hook for each message, with FILE.py it runs the script",
	},
	{
		Name: "attach-daemon", Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.AttachDaemon }), Group: "Processes", Meta: "COMMAND",
		Help:  "run COMMAND (through /bin/sh) beside the workers, start it again when it exits and stop it with the instance; implies --master",
		UWSGI: "worker reloads leave it running",
	},
	{
		Name: "smart-attach-daemon", Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.SmartAttachDaemon }), Group: "Processes", Meta: "PIDFILE COMMAND", Check: checkPair(" ", "PIDFILE COMMAND", false),
		Help: "run COMMAND, a daemon that goes to the background and writes PIDFILE; start it again when that pid is gone, stop it with the instance; implies --master",
	},
	{
		Name: "cron", Kind: List, To: toList(func(c *Config) *[]string { return &c.Processes.Cron }), Group: "Processes", Meta: "MIN HOUR DAY MONTH WEEKDAY COMMAND",
		Help: "run COMMAND (through /bin/sh) from the master at every matching minute; -1 is any, -N every N; implies --master",
	},
	{
		Name: "mules", Kind: Int, Group: "Shared state", Meta: "N", Min: 0, Max: 256,
		Help: "N mules without a script (as many --mule)",
	},
	{
		Name: "farm", Kind: List, Check: checkFarm, To: toFarm, Group: "Shared state", Meta: "NAME:ID,ID...",
		Help: "a farm of mules (by mule id, from 1) for uwsgi.farm_msg",
	},
	{
		Name: "spooler", Short: 'Q', Kind: List, To: toList(func(c *Config) *[]string { return &c.Shared.Spoolers }), Group: "Shared state", Meta: "DIR",
		Help: "a spooler process running the jobs uwsgi.spool() writes into DIR (created if missing)",
	},
	{
		Name: "spooler-frequency", Aliases: []string{"spooler-freq"}, Kind: Int, To: toSeconds(func(c *Config) *time.Duration { return &c.Shared.SpoolerFreq }), Group: "Shared state", Meta: "SECONDS",
		Default: "30", Min: 1,
		Help:  "how often the spooler looks for jobs it was not told about and retries SPOOL_RETRY jobs",
		UWSGI: "uwsgo's own uwsgi.spool() wakes the spooler at once",
	},

	// Operations
	{
		Name: "chdir", Kind: String, To: toString(func(c *Config) *string { return &c.Operations.Chdir }), Group: "Operations", Meta: "DIR",
		Help: "change to DIR before anything else",
	},
	{
		Name: "pidfile", Aliases: []string{"safe-pidfile", "pidfile2", "safe-pidfile2"}, Kind: String, To: toString(func(c *Config) *string { return &c.Operations.Pidfile }), Group: "Operations", Meta: "FILE",
		Help: "write the master's (or the single process's) pid to FILE",
	},
	{
		Name: "daemonize", Aliases: []string{"daemonize2"}, Short: 'd', Kind: String, To: toString(func(c *Config) *string { return &c.Operations.Daemonize }), Group: "Operations", Meta: "LOGFILE",
		Help: "go to the background, logging to LOGFILE",
	},
	{
		Name: "logto", Aliases: []string{"logto2"}, Kind: String, To: toString(func(c *Config) *string { return &c.Operations.Logto }), Group: "Operations", Meta: "FILE",
		Help:  "append the log (uwsgo's and the app's output) to FILE; SIGUSR2 reopens it",
		UWSGI: "uWSGI's SIGUSR2 prints the workers' status instead",
	},
	{
		Name: "logger", Kind: List, Group: "Operations", Meta: "[NAME ]file:PATH",
		Help:  "a file: logger is --logto PATH; stdio is standard error; other uWSGI loggers get a warning",
		UWSGI: "one log for everything: uwsgo has no syslog, socket or other logger plugins, nor named loggers",
	},
	{
		Name: "uid", Kind: String, To: toString(func(c *Config) *string { return &c.Operations.UID }), Group: "Operations", Meta: "USER",
		Help: "run as this user (name or number) once the sockets are bound",
	},
	{
		Name: "gid", Kind: String, To: toString(func(c *Config) *string { return &c.Operations.GID }), Group: "Operations", Meta: "GROUP",
		Help: "run as this group (name or number) once the sockets are bound",
	},
	{
		Name: "vacuum", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Operations.Vacuum }), Group: "Operations",
		Help: "remove UNIX sockets and the pidfile on exit",
	},
	{
		Name: "stats", Aliases: []string{"stats-server"}, Kind: String, To: toString(func(c *Config) *string { return &c.Operations.Stats }), Group: "Operations", Meta: "ADDR",
		Help: "serve uWSGI's stats JSON on ADDR (TCP or UNIX) to every connection",
	},
	{
		Name: "stats-http", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Operations.StatsHTTP }), Group: "Operations",
		Help:  "speak HTTP on --stats: the JSON at /, Prometheus metrics at /metrics",
		UWSGI: "uWSGI has no Prometheus output",
	},

	// Logging
	{
		Name: "disable-logging", Short: 'L', Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Logging.Disabled }), Group: "Logging",
		Help: "no per-request log lines",
	},
	{
		Name: "log-format", Aliases: []string{"logformat"}, Kind: String, To: toString(func(c *Config) *string { return &c.Logging.formatSpec }), Group: "Logging", Meta: "FORMAT",
		Help:  "per-request line: %(method) %(uri) %(status) %(size) %(msecs) %(addr) %(pid) %(wid) ... and logvars; \"json\" for one JSON object per request",
		UWSGI: "\"json\" is uwsgo's; uWSGI builds JSON with --log-encoder",
	},
	{
		Name: "req-logger", Kind: List, To: toList(func(c *Config) *[]string { return &c.Logging.ReqLogger }), Group: "Logging", Meta: "file:PATH",
		Help:  "write the request lines to PATH instead of the log, opened again with it (SIGUSR2, --touch-logreopen)",
		UWSGI: "of uWSGI's request loggers uwsgo has file: only; any other is warned about and its lines stay in the log",
	},
	{
		Name: "memory-report", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Logging.MemoryReport }), Group: "Logging",
		Help: "end each request's log line with the worker's address space and resident memory, as uWSGI does",
	},
	{
		Name: "log-4xx", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Logging.Log4xx }), Group: "Logging",
		Help: "with --disable-logging, still log the requests answered with a 4xx status",
	},
	{
		Name: "log-5xx", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Logging.Log5xx }), Group: "Logging",
		Help: "with --disable-logging, still log the requests answered with a 5xx status",
	},
	{
		Name: "log-slow", Kind: Int, To: toDuration(time.Millisecond, func(c *Config) *time.Duration { return &c.Logging.Slower }), Group: "Logging", Meta: "MILLISECONDS", Min: 0,
		Help: "with --disable-logging, still log the requests that took longer than this",
	},
	{
		Name: "log-big", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.Logging.Bigger }), Group: "Logging", Meta: "BYTES", Min: 0,
		Help: "with --disable-logging, still log the requests whose response body is larger than this",
	},
	{
		Name: "log-x-forwarded-for", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Logging.XForwardedFor }), Group: "Logging",
		Help: "log the first X-Forwarded-For address as the client's (%(addr))",
	},
	{
		Name: "log-reopen", Kind: Flag, To: toBool(func(c *Config) *bool { return &c.Logging.Reopen }), Group: "Logging",
		Help: "reopen the log file (--logto, --daemonize) on every reload too; SIGUSR2 always reopens it",
	},
	{
		Name: "log-maxsize", Kind: Int, To: toInt64(func(c *Config) *int64 { return &c.Logging.MaxSize }), Group: "Logging", Meta: "BYTES",
		Default: "0", Min: 0,
		Help: "once the log file (--logto, --daemonize) reaches this size, rename it and start a new one; 0 = never",
	},
	{
		Name: "log-backupname", Kind: String, To: toString(func(c *Config) *string { return &c.Logging.BackupName }), Group: "Logging", Meta: "FILE",
		Help: "the name --log-maxsize gives the full log (default: the log file's name, a dot and the Unix time)",
	},
	{
		Name: "touch-logreopen", Kind: List, To: toList(func(c *Config) *[]string { return &c.Logging.TouchReopen }), Group: "Logging", Meta: "FILE",
		Help: "reopen the log file when FILE's modification time changes (for logrotate's postrotate)",
	},

	// uWSGI options that mean nothing in uwsgo: what they turn on is how uwsgo always
	// works, or what they tune does not exist here. Help is the reason.
	{
		Name: "enable-threads", Short: 'T', Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "Python threads always work in uwsgo (uWSGI's CPython plugin needed this to create the GIL)",
	},
	{
		Name: "single-interpreter", Short: 'i', Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "uwsgo always runs one interpreter per process",
	},
	{
		Name: "thunder-lock", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "uwsgo's workers accept on non-blocking sockets from Go's poller; there is no accept lock to turn on",
	},
	{
		Name: "offload-threads", Kind: Opaque, Group: noOpGroup, Meta: "N", Policy: NoOp,
		Help: "responses and static files are always written by Go, never by a worker thread: offloading is built in",
	},
	{
		Name: "disable-write-exception", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "a client that went away ends the response inside uwsgo; uWSGI's IOError is never raised into the app",
	},
	{
		Name: "ignore-sigpipe", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "uwsgo never dies of SIGPIPE: broken connections are handled where they happen",
	},
	{
		Name: "ignore-write-errors", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "a write to a client that went away is not logged as an error",
	},
	{
		Name: "reaper", Short: 'r', Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "the master always reaps its children; an app's own subprocesses are its to wait for",
	},
	{
		Name: "master-as-root", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "the master drops privileges (--uid, --gid) once the sockets are bound, like the workers",
	},
	{
		Name: "http-auto-chunked", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "responses without a Content-Length are always chunked on HTTP/1.1",
	},
	{
		Name: "no-orphans", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "workers always die with their master (the kernel's parent-death signal), so none is ever orphaned",
	},
	{
		Name: "log-master", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "every process writes whole lines to the shared log itself; --log-maxsize and log reopening work without it",
	},
	{
		Name: "pcre-jit", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "uwsgo uses no PCRE",
	},
	{
		Name: "plugins-dir", Aliases: []string{"plugin-dir"}, Kind: List, Group: noOpGroup, Meta: "DIR", Policy: NoOp,
		Help: "uwsgo loads no plugins",
	},
	{
		Name: "no-default-app", Kind: Flag, Group: noOpGroup, Policy: NoOp,
		Help: "uwsgo serves one app, the default one",
	},
}, append(hookRows(), routeRows()...)...)

// groupOrder is the order of sections in --help: from how to start, to
// where it listens, what it runs, how it runs it, and what it prints.
var groupOrder = []string{"General", "Sockets", "PyPy", "Processes", "HTTP", "Static files", "Shared state", "Operations", "Logging", "Hooks", "Routing", noOpGroup, unimplementedGroup}

// noOpGroup holds the NoOp rows.
const noOpGroup = "uWSGI options accepted without effect"

// unimplementedGroup holds the rows policy.go adds for uWSGI's other options.
const unimplementedGroup = "uWSGI options uwsgo does not implement"

// HookPhases are the moments of an instance's life uwsgo runs --hook-PHASE and
// --exec-PHASE at (internal/hooks); Exec marks the phases uWSGI has an exec- option for.
var HookPhases = []struct {
	Name, When string
	Exec       bool
}{
	{"asap", "right after the configuration is read", true},
	{"as-root", "once the sockets are bound, before privileges are dropped", true},
	{"as-user", "after privileges are dropped", true},
	{"master-start", "when the master starts", false},
	{"pre-app", "in each worker before it loads the app", true},
	{"post-app", "in each worker after it loaded the app", true},
	{"accepting", "in each worker once it serves its sockets", false},
	{"as-user-atexit", "when the instance has stopped", true},
}

// hookRows are the --hook-PHASE and --exec-PHASE rows, one pair per phase.
func hookRows() []Option {
	var rows []Option
	for _, ph := range HookPhases {
		rows = append(rows, Option{
			Name: "hook-" + ph.Name, Kind: List, To: toHook(ph.Name, false), Group: "Hooks", Meta: "ACTION:ARG",
			Help: "run ACTION " + ph.When + " (exec:, print:, log:, mkdir:, unlink:, write:FILE TEXT, putenv:, chdir:)",
		})
		if ph.Exec {
			rows = append(rows, Option{
				Name: "exec-" + ph.Name, Kind: List, To: toHook(ph.Name, true), Group: "Hooks", Meta: "COMMAND",
				Help: "run COMMAND through /bin/sh " + ph.When + " (as --hook-" + ph.Name + " exec:COMMAND)",
			})
		}
	}
	return rows
}

// routeSubjects are uWSGI's --route-SUBJECT options of the request chain, with the
// request variable each matches its regexp against.
var routeSubjects = map[string]string{
	"route": "PATH_INFO", "route-uri": "REQUEST_URI", "route-qs": "QUERY_STRING",
	"route-host": "HTTP_HOST", "route-remote-addr": "REMOTE_ADDR", "route-referer": "HTTP_REFERER",
	"route-user-agent": "HTTP_USER_AGENT", "route-remote-user": "REMOTE_USER",
}

// routeActions are the actions of uWSGI's internal routing uwsgo has (the setup module
// runs them); routeChecks the --route-if checks.
var (
	routeActions = []string{"continue", "last", "break", "return", "break-with-status", "redirect", "redirect-302",
		"redirect-permanent", "redirect-301", "rewrite", "rewrite-last", "addheader", "delheader", "remheader",
		"addvar", "log", "logvar", "goto", "fixpathinfo"}
	routeChecks = []string{"exists", "isfile", "isdir", "isexec", "empty", "equal", "isequal", "eq", "==",
		"startswith", "endswith", "contains", "contain", "regexp", "re",
		"ishigherequal", ">=", "ishigher", ">", "islower", "<", "islowerequal", "<="}
)

// routeRows are the rows of the request chain's routing options.
func routeRows() []Option {
	var rows []Option
	for _, name := range []string{"route", "route-uri", "route-qs", "route-host", "route-remote-addr", "route-referer", "route-user-agent", "route-remote-user"} {
		rows = append(rows, Option{
			Name: name, Kind: List, Group: "Routing", Meta: "REGEXP ACTION", Check: checkRoute(name, "REGEXP ACTION"),
			Help: "before the app: when " + routeSubjects[name] + " matches REGEXP, run ACTION (" + strings.Join(routeActions, ", ") + ")",
		})
	}
	return append(rows,
		Option{Name: "route-if", Kind: List, Group: "Routing", Meta: "CHECK:SUBJECT[;PATTERN] ACTION", Check: checkRoute("route-if", "CHECK:SUBJECT[;PATTERN] ACTION"),
			Help: "run ACTION when the check holds (" + strings.Join(routeChecks, ", ") + ")"},
		Option{Name: "route-if-not", Kind: List, Group: "Routing", Meta: "CHECK:SUBJECT[;PATTERN] ACTION", Check: checkRoute("route-if-not", "CHECK:SUBJECT[;PATTERN] ACTION"),
			Help: "run ACTION when the check does not hold"},
		Option{Name: "route-run", Kind: List, Group: "Routing", Meta: "ACTION", Help: "run ACTION for every request", Check: checkRoute("route-run", "ACTION")},
		Option{Name: "route-label", Kind: List, Group: "Routing", Meta: "NAME", Help: "a place in the rules for goto:NAME"},
	)
}
