package options

import (
	_ "embed"
	"fmt"
	"strings"
)

// Policy is what uwsgo does with an option. Every uWSGI option has one, so that a
// uWSGI configuration never fails on a name uWSGI knows:
//
//   - Implemented: the option works (Table's own rows).
//   - NoOp: the option has no meaning in uwsgo, because what it turns on is how
//     uwsgo always works or what it tunes does not exist here; accepted silently,
//     with the reason in --help.
//   - Unimplemented: uWSGI has it and uwsgo does not; accepted with a warning at
//     start-up saying what happens instead, and refused under --strict.
//   - Refused: uWSGI has it and starting without it would be worse than not starting
//     (a socket that would silently not be there); an error whose text is Help.
//
// A name uWSGI does not know either gets a warning with the closest name that
// exists (and is refused under --strict), as does a UWSGI_* variable naming no option.
type Policy uint8

const (
	Implemented Policy = iota
	NoOp
	Unimplemented
	Refused
)

func (p Policy) String() string {
	switch p {
	case NoOp:
		return "accepted, no effect in uwsgo"
	case Unimplemented:
		return "not implemented: a warning at start"
	case Refused:
		return "not implemented: an error"
	}
	return "implemented"
}

// uwsgiNames is every option name uWSGI 2.0 prints in --help with its core, the python3
// and pypy3 plugins and the plugins Debian ships loaded (scripts/uwsgi-option-names
// makes it). Each name not in Table becomes an Unimplemented row at init.
//
//go:embed uwsgi_options.txt
var uwsgiNames string

// noRouting refuses the routing chains uwsgo does not have (error, response, final): a
// rule that protects a path (break:403, a redirect to https) must not silently stop
// applying.
const noRouting = "uwsgo's internal routing has the request chain only (--route, --route-if, ...): starting without this rule could expose what it guards; do it in the proxy in front or in the app"

// refusedOptions are uWSGI options that starting without would be worse than not
// starting: listeners uwsgo cannot open (their clients would go unanswered), other
// configuration formats (the whole configuration would be missing) and confinement
// (the process would run unconfined). They are refused with the reason.
var refusedOptions = map[string]string{
	"xml": noFormat, "xmlconfig": noFormat, "yaml": noFormat, "yml": noFormat, "json": noFormat, "js": noFormat,
	"config": noFormat, "fallback-config": noFormat,
	"chroot": noJail, "jailed": noJail, "unshare": noJail, "unshare2": noJail, "namespace": noJail, "ns": noJail,
	"namespace-net": noJail, "ns-net": noJail, "pivot-root": noJail, "pivot_root": noJail, "setns": noJail,
	"https": noTLS, "https2": noTLS, "ssl-socket": noTLS, "suwsgi-socket": noTLS,
	"fastcgi-socket": noProtocol, "fastcgi-nph-socket": noProtocol, "scgi-socket": noProtocol,
	"scgi-nph-socket": noProtocol, "raw-socket": noProtocol, "puwsgi-socket": noProtocol,
	"shared-socket": noProtocol,
}

const (
	noTLS      = "uwsgo has no TLS: terminate it in front of uwsgo (nginx, a load balancer) and give uwsgo --http-socket or --socket"
	noProtocol = "uwsgo serves HTTP (--http-socket) and the uwsgi protocol (--socket) only: starting without this socket would leave its clients unanswered"
	noFormat   = "uwsgo reads ini files (and the command line and UWSGI_* variables) only: write this configuration as an ini file"
	noJail     = "uwsgo does not confine itself: starting unconfined where the configuration asks for it could expose what it guards; use systemd's sandboxing (RootDirectory=, PrivateNetwork=, ...)"
)

// instead is what happens in uwsgo to a family of uWSGI options it does not implement,
// by name prefix; the longest matching prefix wins.
var instead = []struct{ prefix, text string }{
	{"", "ignored"},
	{"attach-", "the process is not started: run it under systemd or your process manager"},
	{"smart-attach-", "the process is not started: run it under systemd or your process manager"},
	{"legion", "uwsgo has no Legion clustering; ignored"},
	{"emperor", "uwsgo is one instance, not an Emperor: run one uwsgo per app (systemd templates do this)"},
	{"vassal", "uwsgo is one instance, not an Emperor; ignored"},
	{"cheaper", "the number of workers follows the load only (the spare algorithm)"},
	{"router", "ignored"},
	{"error-route", noRouting},
	{"final-route", noRouting},
	{"response-route", noRouting},
	{"hook-", "the hook is not run"},
	{"exec-", "the hook is not run"},
	{"call-", "the hook is not run"},
	{"static", "--static-map and --check-static serve files without this refinement"},
	{"check-static", "--static-map and --check-static serve files without this refinement"},
	{"https", "uwsgo has no TLS: terminate it in front of uwsgo (nginx, a load balancer)"},
	{"ssl-", "uwsgo has no TLS: terminate it in front of uwsgo (nginx, a load balancer)"},
	{"http-", "uwsgo has no separate HTTP router: its workers speak HTTP themselves (--http-socket); ignored"},
	{"fastrouter", "uwsgo has no fastrouter; ignored"},
	{"rawrouter", "uwsgo has no rawrouter; ignored"},
	{"sslrouter", "uwsgo has no sslrouter; ignored"},
	{"zerg", "uwsgo has no zerg mode; ignored"},
	{"subscri", "uwsgo takes no part in subscription servers; ignored"},
	{"log", "the log is uwsgo's own: stderr, --logto or --daemonize, with --log-format"},
	{"py-auto", "files are not watched for changes: use --touch-reload"},
	{"python-auto", "files are not watched for changes: use --touch-reload"},
	{"req-log", "the log is uwsgo's own: stderr, --logto or --daemonize, with --log-format"},
	{"py", "not supported on uwsgo's PyPy; ignored"},
	{"python", "not supported on uwsgo's PyPy; ignored"},
	{"wsgi-", "uwsgo's WSGI layer behaves as its README says; ignored"},
	{"cron", "the command is not run: use a systemd timer or cron"},
	{"unique-cron", "the command is not run: use a systemd timer or cron"},
	{"procname", "process names stay uwsgo's"},
	{"auto-procname", "process names stay uwsgo's"},
	{"spooler-", "ignored; uwsgo's spooler takes --spooler and --spooler-frequency"},
	{"cache2-", "ignored; uwsgo's caches take --cache2"},
	{"cache-", "ignored; uwsgo's caches take --cache2"},
	{"stats-", "ignored; uwsgo's stats server takes --stats and --stats-http"},
	{"touch-", "nothing watches the file"},
	{"fs-", "nothing watches the file"},
	{"reload-on-", "the worker is not replaced for it"},
	{"limit-", "no limit is set"},
	{"limit-as", "no limit is set: a uwsgo process maps about 2 GB of address space (Go's and PyPy's reservations), which a limit sized for CPython would not allow; --reload-on-rss limits the memory really used"},
}

func insteadOf(name string) string {
	best := instead[0]
	for _, f := range instead[1:] {
		if strings.HasPrefix(name, f.prefix) && len(f.prefix) > len(best.prefix) {
			best = f
		}
	}
	return best.text
}

// init adds a row for every uWSGI option Table does not have, so that Lookup, the
// parsers and --help treat them like any other option.
func init() {
	for _, name := range strings.Fields(uwsgiNames) {
		if Lookup(name) != nil || isLogic(name) {
			continue
		}
		policy, help := Unimplemented, insteadOf(name)
		if text, ok := refusedOptions[name]; ok {
			help = text
		}
		if help == noRouting || refusedOptions[name] != "" {
			policy = Refused
		}
		Table = append(Table, Option{
			Name: name, Kind: Opaque, Group: unimplementedGroup, Meta: "VALUE",
			Policy: policy, Help: help,
		})
	}
}

// policyNotice records the start-up warning of an Unimplemented option.
func (p *parser) policyNotice(o *Option, spelled, value string, w where) {
	if o.Policy != Unimplemented {
		return
	}
	shown := spelled
	if value != "" && o.Kind != Flag {
		// The value as uWSGI would mostly read it: a comment after it is no part of it.
		shown += " " + inlineComment.ReplaceAllString(value, "")
	}
	p.warn(w, "%s: uWSGI's option is not implemented by uwsgo: %s", shown, o.Help)
}

func (p *parser) warn(w where, format string, args ...any) {
	p.cfg.warn(w.origin, format, args...)
}

func (p *parser) info(w where, format string, args ...any) {
	p.cfg.Notices = append(p.cfg.Notices, Notice{Origin: w.origin, Text: fmt.Sprintf(format, args...)})
}

// builtinPlugins are uWSGI plugins whose features uwsgo has without loading anything.
var builtinPlugins = map[string]string{
	"http":       "uwsgo's workers speak HTTP themselves",
	"corerouter": "uwsgo's workers speak HTTP themselves",
	"cache":      "caches are built in (--cache2)",
	"rpc":        "RPC is built in",
	"signal":     "signals are built in",
	"spooler":    "the spooler is built in (--spooler)",
	"logfile":    "logging to a file is built in (--logto)",
	"ping":       "--health-path answers health checks",
}

// plugins checks one --plugins value: uwsgo loads no plugins, so each name is either
// something uwsgo does itself (an info line) or something it cannot do (a warning).
func (p *parser) plugins(value string, w where) {
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		// uWSGI accepts "MODIFIER:NAME" to load a plugin on a given modifier.
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		base := strings.TrimSuffix(name, "_plugin.so")
		switch {
		case base == "":
		case strings.HasPrefix(base, "python"), strings.HasPrefix(base, "pypy"):
			p.info(w, "plugin %s: nothing to load, uwsgo runs the app on its embedded PyPy", name)
		case builtinPlugins[base] != "":
			p.info(w, "plugin %s: nothing to load, %s", name, builtinPlugins[base])
		default:
			p.warn(w, "plugin %s: uwsgo has no equivalent; ignored", name)
		}
	}
}

// logger is uWSGI's --logger [NAME ]PLUGIN[:ARGS]: a file: logger is --logto (its
// setting is recorded as one), stdio is where the log goes anyway; the others send the
// log where uwsgo cannot, so they get a warning.
func (p *parser) logger(value string, w where) error {
	spec := value
	if name, rest, ok := strings.Cut(value, " "); ok && !strings.Contains(name, ":") {
		spec = strings.TrimSpace(rest)
	}
	plugin, arg, _ := strings.Cut(spec, ":")
	switch plugin {
	case "file":
		if arg == "" {
			return fmt.Errorf("%s %s (%s): file: needs a path", w.spell("logger"), value, w.place())
		}
		logto := Lookup("logto")
		p.current[logto.Name] = arg
		p.cfg.Settings = append(p.cfg.Settings, Setting{Opt: logto, Value: arg, Origin: w.origin})
	case "stdio", "stderr":
		p.info(w, "logger %s: the log is standard error unless --logto names a file", value)
	default:
		p.warn(w, "logger %s: uwsgo logs to standard error or a file (logger = file:PATH, --logto); this one is ignored", value)
	}
	return nil
}

// finish checks what only the whole configuration shows, fills the typed settings and
// applies --strict.
func (p *parser) finish() error {
	if err := p.checkGotos(); err != nil {
		return err
	}
	for _, c := range p.customs {
		if p.referenced[c.name] {
			continue
		}
		msg := fmt.Sprintf("%s is not an option of uwsgo or uWSGI; ignored", c.spelled)
		if s := suggest(c.name); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", c.w.spell(s))
		}
		p.warn(c.w, "%s", msg)
	}
	if err := p.cfg.resolve(); err != nil {
		return err
	}
	if !p.cfg.General.Strict {
		return nil
	}
	var offences []string
	for _, n := range p.cfg.Notices {
		if n.Warning {
			offences = append(offences, "  "+n.Origin+": "+n.Text)
		}
	}
	if len(offences) == 0 {
		return nil
	}
	return fmt.Errorf("strict mode refuses this configuration (%d problems):\n%s", len(offences), strings.Join(offences, "\n"))
}
