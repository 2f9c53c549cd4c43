// Package options reads uwsgo's configuration from the three places uWSGI
// reads it from — UWSGI_* environment variables, the command line and ini
// files — into typed settings, and describes it for --help.
//
// Design:
//
//   - One table (Table, in table.go) is the only description of an option: its
//     name, its type (Kind), default, help and its effect (To, the typed field it
//     sets). The command-line parser, the ini reader, the environment reader, value
//     validation, the help text and the typed settings are all driven by it, so
//     adding an option is adding one row.
//
//   - An option flows in four steps. Parse reads every value, in order, into
//     Config.Settings, validating each against its row (Kind, Min/Max, Check) and
//     noting its Policy. Then resolve (settings.go) fills the typed fields of Config
//     (Processes.Threads, HTTP.SocketTimeout as a time.Duration, Static.Maps ...):
//     each row's Default first, then every value given, in order, through the row's
//     To, so "the last one wins" and "lists add up" are decided once. Then the rules
//     between options (rules.go) decide what no row decides alone: which app option
//     wins, what implies --master, whether --farm's ids are mules; --log-format and
//     --trusted-proxy are compiled there too. The rest of uwsgo reads fields only,
//     and any error names the option, the value and where it came from.
//
//   - The ordered list is kept beside the fields. uWSGI's semantics depend on
//     order (--pypy-eval and --pypy-exec run interleaved as given), messages name
//     the file and line a value came from, and the list is what travels: the master
//     hands it to each worker (Encode, Decode), where resolve runs again, and to the
//     setup module, which reads uwsgi.opt and the routing rules from it.
//
//   - Order follows uWSGI: the environment first, then the command line, with
//     each ini file's settings spliced in where its --ini appeared ("expand as
//     soon as possible"). Positional FILE.ini arguments are loaded after all
//     options, because that is what uWSGI's getopt loop does.
//
//   - Values are read with uWSGI's meaning (numbers as atoi reads them, a
//     comment after a number, http-keepalive = 1 as "on"), and a row's Check
//     validates what its Kind cannot (NAME=VALUE pairs, routing rules). The
//     few options that act on the parse itself (ini, ini-paste, set, logger
//     file:, pyimport) are handled in set, by name.
//
//   - The ini language is uWSGI's: magic variables, %(name) placeholders
//     (left as written when nothing has that name, so a log-format's %(status)
//     survives), %(a + 1) arithmetic, $(VAR), @(file), and config logic
//     (logic.go) whose blocks are read, skipped or repeated in place.
//
//   - Every uWSGI option has a Policy (policy.go): implemented, a no-op with
//     its reason, unimplemented with a start-up warning saying what happens
//     instead, or refused. A name uWSGI does not know either is an error on
//     the command line and, in an ini file or the environment, a warning with
//     the closest name (unless some %(name) uses it: a custom placeholder).
//     Warnings are collected in Config.Notices and printed together; under
//     --strict they are all one error instead.
package options

import (
	"fmt"
	"strconv"
)

// Kind is the shape of an option's value.
type Kind uint8

const (
	Flag   Kind = iota // boolean: --master, --master=true|false|1|0|yes|no|on|off
	String             // one value, the last one given wins
	Int                // a whole number, validated while parsing (Min/Max when set)
	List               // repeatable; every value kept, in order
	// Opaque is a uWSGI option uwsgo does not implement: any value or none, kept as
	// given. On the command line it takes the next argument unless that is an
	// option or an ini file, since uwsgo cannot know whether uWSGI wants one there.
	Opaque
)

func (k Kind) String() string {
	switch k {
	case Flag:
		return "flag"
	case String:
		return "string"
	case Int:
		return "int"
	case List:
		return "list"
	case Opaque:
		return "opaque"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Option describes one configuration option. Rows live in Table.
type Option struct {
	Name    string   // canonical, e.g. "http-socket"
	Aliases []string // e.g. "pypy-python-path", "pypy-pythonpath" for "pypy-pp"
	Short   byte     // one-letter form (-h), 0 if none
	Kind    Kind
	Group   string // help section: "Sockets", "PyPy", "Processes", "HTTP", "Logging", "General"
	Meta    string // placeholder in help: ADDR, FILE, DIR, CODE, N, BYTES, SECONDS, NAME
	Default string // "" when none; shown in help
	// Min and Max bound an Int. Int values are always whole numbers (never
	// negative: every numeric setting is a size, a count or a duration);
	// Min raises the lower bound and Max, when not 0, sets an upper one, so
	// both 0 means any whole number.
	Min, Max int64
	Help     string // one line
	UWSGI    string // how it differs from uWSGI's option of the same name, when it does ("" = same)
	// Implicit is the value of an option given without one (uWSGI's optional
	// arguments: a bare --chmod-socket means 666). "" means the value is required.
	Implicit string
	// Policy says what uwsgo does with a uWSGI option it does not implement; Help then
	// says why (NoOp), what happens instead (Unimplemented) or why not (Refused).
	Policy Policy
	// Check, when set, validates a value beyond its Kind (a NAME=VALUE, a routing
	// rule); its error says what is wrong with it.
	Check func(value string) error
	// To is the option's effect in Go: it stores a value in its Config field (settings.go).
	// nil for options only the parse (ini, set), the setup module (route, callable) or
	// nobody (NoOp, Unimplemented) reads.
	To field
}

// Setting is one value given for one option.
type Setting struct {
	Opt    *Option
	Value  string // as given, placeholders resolved; "true"/"false" for flags
	Origin string // where it came from: "command line", "/abs/app.ini:12", "$UWSGI_HTTP_SOCKET"
}

// Config is the configuration: the typed settings the rest of uwsgo reads (settings.go),
// and the ordered list of values they were made from.
type Config struct {
	// Settings is every value in the order given: environment first, then the command
	// line with each ini file's settings spliced in at the place of its --ini. It is what
	// travels to the workers (Encode), what --print-config shows and what the setup module
	// reads (uwsgi.opt, the routing rules).
	Settings []Setting
	// Notices are what the user should read at start-up: options accepted but not
	// acted on, names that look like typos. Under --strict the warnings among them
	// stop Parse instead.
	Notices []Notice

	General    General
	Sockets    Sockets
	PyPy       PyPy
	Processes  Processes
	HTTP       HTTP
	Static     Static
	Shared     Shared
	Operations Operations
	Logging    Logging
	Hooks      map[string][]Hook // by phase (HookPhases), in the order given
}

// Notice is one remark about the configuration.
type Notice struct {
	Origin  string
	Text    string
	Warning bool // false: for information only, never an offence under --strict
}

func (n Notice) String() string {
	level := "info"
	if n.Warning {
		level = "warning"
	}
	return fmt.Sprintf("%s: %s (%s)", level, n.Text, n.Origin)
}

// Lookup finds an option by name or alias, nil if unknown.
func Lookup(name string) *Option {
	if name == "" {
		return nil
	}
	// A linear scan keeps Table the single source of truth: an index built
	// once could go stale if a test or a later init appends rows.
	for i := range Table {
		o := &Table[i]
		if o.Name == name {
			return o
		}
		for _, a := range o.Aliases {
			if a == name {
				return o
			}
		}
	}
	return nil
}

func lookupShort(c byte) *Option {
	for i := range Table {
		if Table[i].Short != 0 && Table[i].Short == c {
			return &Table[i]
		}
	}
	return nil
}

// mustLookup panics on an unknown name: it is called with constant names from Go code,
// and a typo there is a programming error that should fail the first test reaching it.
func mustLookup(name string) *Option {
	o := Lookup(name)
	if o == nil {
		panic(fmt.Sprintf("options: no option named %q in Table", name))
	}
	return o
}
