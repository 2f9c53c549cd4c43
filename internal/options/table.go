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
		Name: "socket-timeout", Kind: Int, Group: "HTTP", Meta: "SECONDS",
		Default: "30", Min: 1,
		Help:  "a read or write that stalls this long closes the connection",
		UWSGI: "uWSGI's default is 4",
	},
	{
		Name: "http-keepalive", Kind: Int, Group: "HTTP", Meta: "SECONDS",
		Default: "60", Min: 0,
		Help:  "how long an idle keep-alive connection is kept; 0 closes after every response",
		UWSGI: "uWSGI's option of this name switches keep-alive on in its HTTP router and its value is optional; here the value is required",
	},

	// Logging
	{
		Name: "disable-logging", Short: 'L', Kind: Flag, Group: "Logging",
		Help: "no per-request log lines",
	},
}

// groupOrder is the order of sections in --help: from how to start, to
// where it listens, what it runs, how it runs it, and what it prints.
var groupOrder = []string{"General", "Sockets", "PyPy", "Processes", "HTTP", "Logging"}
