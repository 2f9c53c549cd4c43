package options

// Table is every option uwsgo understands, on the command line (--name), in
// ini files (name = value) and in the environment (UWSGI_NAME=value).
//
// To add an option, add a row; parsing, validation and --help follow from it.
// Keep Name identical to uWSGI's when the option means the same thing, so
// existing uWSGI command lines and ini files keep working, and say in UWSGI
// how it differs when it does. TestTableIsConsistent checks new rows.
var Table = []Option{
	// General
	//
	// ini is read by Parse where it appears and never shows up in
	// Config.Settings: its effect is the settings of the file.
	{
		Name: "ini", Kind: List, Group: "General", Meta: "FILE[:SECTION]",
		Help:  "read options from the [uwsgi] section (or SECTION) of an ini file, in place",
		UWSGI: "only local files; uWSGI also reads http://, fd:// and exec:// sources",
	},
	{
		Name: "help", Short: 'h', Kind: Flag, Group: "General",
		Help: "show this help and exit",
	},
	{
		Name: "version", Kind: Flag, Group: "General",
		Help: "print the version and exit",
	},
	{
		Name: "print-sym", Kind: String, Group: "General", Meta: "NAME",
		Help:  "print the named embedded symbol (uwsgi_pypy_setup) and exit",
		UWSGI: "only symbols embedded in uwsgo can be printed",
	},

	// Sockets
	{
		Name: "http-socket", Kind: List, Group: "Sockets", Meta: "ADDR",
		Help: "serve HTTP/1.1 on ADDR: host:port, :port, [::1]:port or a UNIX socket path",
	},
	{
		Name: "socket", Aliases: []string{"uwsgi-socket"}, Short: 's', Kind: List, Group: "Sockets", Meta: "ADDR",
		Help: "serve the uwsgi protocol (nginx's uwsgi_pass, RPC) on ADDR: host:port or a UNIX socket path; keep it private",
	},
	{
		Name: "http", Kind: List, Group: "Sockets", Meta: "ADDR",
		Help:  "the same as --http-socket",
		UWSGI: "uWSGI starts a separate HTTP router process; uwsgo's workers speak HTTP/1.1 themselves",
	},
	{
		Name: "listen", Short: 'l', Kind: Int, Group: "Sockets", Meta: "N",
		Default: "0", Min: 0, Max: 65535,
		Help:  "listen queue (backlog) of every socket; 0 = the system's maximum (net.core.somaxconn)",
		UWSGI: "uWSGI's default is 100",
	},
	{
		Name: "chmod-socket", Kind: String, Group: "Sockets", Meta: "MODE", Implicit: "666",
		Help: "permissions of UNIX sockets (octal; given alone: 666)",
	},

	// PyPy
	{
		Name: "pypy-home", Kind: String, Group: "PyPy", Meta: "DIR",
		Help: "PyPy home directory (holding lib-python and lib_pypy)",
	},
	{
		Name: "pypy-lib", Kind: String, Group: "PyPy", Meta: "FILE",
		Help:  "file or directory holding libpypy",
		UWSGI: "uWSGI accepts only the library file itself",
	},
	{
		Name: "pypy-setup", Kind: String, Group: "PyPy", Meta: "FILE",
		Help: "run this setup script instead of the embedded uwsgi_pypy_setup",
	},
	{
		Name: "pypy-wsgi", Kind: String, Group: "PyPy", Meta: "MODULE[:CALLABLE]",
		Help: "load the WSGI app from a module (CALLABLE defaults to application)",
	},
	{
		Name: "pypy-wsgi-file", Kind: String, Group: "PyPy", Meta: "FILE",
		Help: "load the WSGI app from a Python file",
	},
	{
		Name: "pypy-paste", Kind: String, Group: "PyPy", Meta: "[config:]FILE",
		Help: "load the app with paste.deploy's loadapp from FILE, after configuring logging from its logging sections",
	},
	// pypy-ini-paste, like ini, never shows up in Config.Settings: its effect is the [uwsgi]
	// section's settings followed by pypy-paste = config:/abs/FILE.
	{
		Name: "pypy-ini-paste", Kind: String, Group: "PyPy", Meta: "FILE",
		Help: "read FILE's [uwsgi] section, if any, as options (with %(here)s and %(__file__)s), then load its app as --pypy-paste",
	},
	{
		Name: "pypy-eval", Kind: List, Group: "PyPy", Meta: "CODE",
		Help: "run Python code before the app loads",
	},
	{
		Name: "pypy-eval-post-fork", Kind: List, Group: "PyPy", Meta: "CODE",
		Help: "run Python code in each worker after fork",
	},
	{
		Name: "pypy-exec", Kind: List, Group: "PyPy", Meta: "FILE",
		Help: "run a Python file before the app loads",
	},
	{
		Name: "pypy-exec-post-fork", Kind: List, Group: "PyPy", Meta: "FILE",
		Help: "run a Python file in each worker after fork",
	},
	{
		Name: "pypy-pp", Aliases: []string{"pypy-python-path", "pypy-pythonpath"},
		Kind: List, Group: "PyPy", Meta: "DIR",
		Help: "add DIR to sys.path",
	},

	// Processes
	{
		Name: "master", Short: 'M', Kind: Flag, Group: "Processes",
		Help: "run a master process that starts, watches, respawns and reloads the workers",
	},
	{
		Name: "processes", Aliases: []string{"workers"}, Short: 'p', Kind: Int, Group: "Processes", Meta: "N",
		Default: "1", Min: 1, Max: 1024,
		Help:  "worker processes; more than one implies --master",
		UWSGI: "uWSGI without --master forks unsupervised workers; uwsgo always supervises them",
	},
	{
		Name: "binary-path", Kind: String, Group: "Processes", Meta: "FILE",
		Help: "the executable the master starts for each worker (default: the running one; in library mode, bin/uwsgo-pypy again)",
	},
	{
		Name: "harakiri", Short: 't', Kind: Int, Group: "Processes", Meta: "SECONDS",
		Default: "0", Min: 0,
		Help: "kill (and respawn) a worker whose request runs longer than this; 0 = never",
	},
	{
		Name: "max-requests", Short: 'R', Kind: Int, Group: "Processes", Meta: "N",
		Default: "0", Min: 0,
		Help: "replace a worker after it served this many requests; 0 = never",
	},
	{
		Name: "reload-on-rss", Kind: Int, Group: "Processes", Meta: "MB",
		Default: "0", Min: 0,
		Help: "replace a worker whose resident memory grows past this; 0 = never",
	},
	{
		Name: "max-worker-lifetime", Kind: Int, Group: "Processes", Meta: "SECONDS",
		Default: "0", Min: 0,
		Help: "replace a worker after it ran this long; 0 = never",
	},
	{
		Name: "worker-reload-mercy", Kind: Int, Group: "Processes", Meta: "SECONDS",
		Default: "60", Min: 1,
		Help: "how long a stopping worker may take to finish its requests before it is killed",
	},
	{
		Name: "shutdown-delay", Kind: Int, Group: "Processes", Meta: "SECONDS",
		Default: "0", Min: 0,
		Help:  "on a graceful stop, go on serving this long with --health-path answering 503, so that load balancers move traffic away first",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "die-on-term", Kind: Flag, Group: "Processes",
		Help:  "accepted for uWSGI 2.0 configurations: SIGTERM always stops uwsgo gracefully",
		UWSGI: "uWSGI 2.0 reloads on SIGTERM unless this is given; uwsgo follows uWSGI 2.1",
	},
	{
		Name: "touch-reload", Kind: List, Group: "Processes", Meta: "FILE",
		Help: "reload the workers gracefully when FILE's modification time changes",
	},
	{
		Name: "master-fifo", Kind: List, Group: "Processes", Meta: "PATH",
		Help: "a FIFO taking one-letter commands: r/w reload, R/W reload now, q stop, Q stop now, s stats",
	},
	{
		Name: "threads", Kind: Int, Group: "Processes", Meta: "N",
		Default: "1", Min: 1, Max: 1024,
		Help: "threads serving requests",
	},
	{
		Name: "honour-stdin", Kind: Flag, Group: "Processes",
		Help: "keep stdin; otherwise it is /dev/null",
	},
	{
		Name: "need-app", Kind: Flag, Group: "Processes",
		Help: "exit with status 22 when the app cannot be loaded",
	},

	// HTTP
	{
		Name: "buffer-size", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "65535", Min: 1024, Max: 65535,
		Help:  "largest request head (request line + headers) accepted",
		UWSGI: "uWSGI's default is 4096",
	},
	{
		Name: "limit-post", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "0", Min: 0,
		Help: "largest request body accepted; 0 = unlimited",
	},
	{
		Name: "post-buffering", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "1048576", Min: 0,
		Help:  "request bodies larger than this are spilled to a temporary file",
		UWSGI: "uWSGI defaults to 0 (no buffering); uwsgo always reads the whole body before Python sees it",
	},
	{
		Name: "body-memory-budget", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "67108864", Min: 0,
		Help:  "request bodies a worker holds in memory for Python, all together; past it they go to temporary files; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "body-disk-budget", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "1073741824", Min: 0,
		Help:  "request bodies a worker keeps in temporary files, all together: a larger body gets 413, one that does not fit while others wait 503; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "response-memory-budget", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "67108864", Min: 0,
		Help:  "streamed and large responses a worker holds in memory for slow clients, all together; past it they go to temporary files; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "response-disk-budget", Kind: Int, Group: "HTTP", Meta: "BYTES",
		Default: "1073741824", Min: 0,
		Help:  "responses a worker keeps in temporary files for slow clients, all together; past it the app waits for its client; 0 = unlimited",
		UWSGI: "uWSGI has no equivalent",
	},
	{
		Name: "socket-timeout", Kind: Int, Group: "HTTP", Meta: "SECONDS",
		Default: "30", Min: 1,
		Help:  "a read or write that stalls this long closes the connection",
		UWSGI: "uWSGI's default is 4",
	},
	{
		Name: "trusted-proxy", Kind: List, Group: "HTTP", Meta: "IP|CIDR|unix",
		Help:  "take REMOTE_ADDR from X-Forwarded-For and wsgi.url_scheme from X-Forwarded-Proto, only on connections from these addresses (unix: peers on UNIX sockets)",
		UWSGI: "uWSGI has no equivalent (its --http router sets X-Forwarded-For; the app had to trust it)",
	},
	{
		Name: "health-path", Kind: String, Group: "HTTP", Meta: "PATH",
		Help:  "answer GET/HEAD of PATH on HTTP sockets without Python: 200 \"ok\" while serving, 503 once the instance stops",
		UWSGI: "uWSGI needs an internal routing rule (--route) for this",
	},
	{
		Name: "http-keepalive", Kind: Int, Group: "HTTP", Meta: "SECONDS",
		Default: "60", Min: 0,
		Help:  "how long an idle keep-alive connection is kept; 0 closes after every response",
		UWSGI: "uWSGI's option of this name switches keep-alive on in its HTTP router and its value is optional; here the value is required",
	},

	// Shared state
	{
		Name: "locks", Kind: Int, Group: "Shared state", Meta: "N",
		Default: "0", Min: 0, Max: 4096,
		Help: "user locks for uwsgi.lock(n): n from 0 to N (lock 0 always exists)",
	},
	{
		Name: "cache2", Kind: List, Group: "Shared state", Meta: "SPEC",
		Help: "a cache shared by all workers: name=NAME,items=N[,blocksize=BYTES][,keysize=BYTES]",
	},
	{
		Name: "cache", Kind: Int, Group: "Shared state", Meta: "N",
		Default: "0", Min: 0,
		Help: "the legacy default cache, of N items (--cache-blocksize bytes each)",
	},
	{
		Name: "cache-blocksize", Kind: Int, Group: "Shared state", Meta: "BYTES",
		Default: "65536", Min: 8,
		Help: "largest value of the legacy --cache",
	},
	{
		Name: "sharedarea", Kind: List, Group: "Shared state", Meta: "PAGES",
		Help: "a shared area of PAGES 4 KiB pages for uwsgi.sharedarea_* (repeatable: ids 0, 1, ...)",
	},
	{
		Name: "metric", Kind: List, Group: "Shared state", Meta: "SPEC",
		Help: "a metric: NAME or name=NAME[,type=counter|gauge][,initial_value=N]; exported by --stats",
	},

	{
		Name: "mule", Kind: List, Group: "Shared state", Meta: "[FILE.py]", Implicit: "-",
		Help: "a mule: a process that loads the app but serves no requests; alone it runs uwsgi.mule_msg_hook for each message, with FILE.py it runs the script",
	},
	{
		Name: "farm", Kind: List, Group: "Shared state", Meta: "NAME:ID,ID...",
		Help: "a farm of mules (by mule id, from 1) for uwsgi.farm_msg",
	},
	{
		Name: "spooler", Kind: List, Group: "Shared state", Meta: "DIR",
		Help: "a spooler process running the jobs uwsgi.spool() writes into DIR (created if missing)",
	},
	{
		Name: "spooler-frequency", Kind: Int, Group: "Shared state", Meta: "SECONDS",
		Default: "30", Min: 1,
		Help:  "how often the spooler looks for jobs it was not told about and retries SPOOL_RETRY jobs",
		UWSGI: "uwsgo's own uwsgi.spool() wakes the spooler at once",
	},

	// Operations
	{
		Name: "chdir", Kind: String, Group: "Operations", Meta: "DIR",
		Help: "change to DIR before anything else",
	},
	{
		Name: "pidfile", Kind: String, Group: "Operations", Meta: "FILE",
		Help: "write the master's (or the single process's) pid to FILE",
	},
	{
		Name: "daemonize", Short: 'd', Kind: String, Group: "Operations", Meta: "LOGFILE",
		Help: "go to the background, logging to LOGFILE",
	},
	{
		Name: "logto", Kind: String, Group: "Operations", Meta: "FILE",
		Help:  "append the log (uwsgo's and the app's output) to FILE; SIGUSR2 reopens it",
		UWSGI: "uWSGI's SIGUSR2 prints the workers' status instead",
	},
	{
		Name: "uid", Kind: String, Group: "Operations", Meta: "USER",
		Help: "run as this user (name or number) once the sockets are bound",
	},
	{
		Name: "gid", Kind: String, Group: "Operations", Meta: "GROUP",
		Help: "run as this group (name or number) once the sockets are bound",
	},
	{
		Name: "vacuum", Kind: Flag, Group: "Operations",
		Help: "remove UNIX sockets and the pidfile on exit",
	},
	{
		Name: "stats", Kind: String, Group: "Operations", Meta: "ADDR",
		Help: "serve uWSGI's stats JSON on ADDR (TCP or UNIX) to every connection",
	},
	{
		Name: "stats-http", Kind: Flag, Group: "Operations",
		Help:  "speak HTTP on --stats: the JSON at /, Prometheus metrics at /metrics",
		UWSGI: "uWSGI has no Prometheus output",
	},

	// Logging
	{
		Name: "disable-logging", Short: 'L', Kind: Flag, Group: "Logging",
		Help: "no per-request log lines",
	},
	{
		Name: "log-format", Aliases: []string{"logformat"}, Kind: String, Group: "Logging", Meta: "FORMAT",
		Help:  "per-request line: %(method) %(uri) %(status) %(size) %(msecs) %(addr) %(pid) %(wid) ... and logvars; \"json\" for one JSON object per request",
		UWSGI: "\"json\" is uwsgo's; uWSGI builds JSON with --log-encoder",
	},
	{
		Name: "log-x-forwarded-for", Kind: Flag, Group: "Logging",
		Help: "log the first X-Forwarded-For address as the client's (%(addr))",
	},
	{
		Name: "log-reopen", Kind: Flag, Group: "Logging",
		Help: "reopen the log file (--logto, --daemonize) on every reload too; SIGUSR2 always reopens it",
	},
	{
		Name: "touch-logreopen", Kind: List, Group: "Logging", Meta: "FILE",
		Help: "reopen the log file when FILE's modification time changes (for logrotate's postrotate)",
	},
}

// groupOrder is the order of sections in --help: from how to start, to
// where it listens, what it runs, how it runs it, and what it prints.
var groupOrder = []string{"General", "Sockets", "PyPy", "Processes", "HTTP", "Shared state", "Operations", "Logging"}
