package options

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// source is which of the three inputs a value came from. It decides how an
// option's name is spelled back in messages, so that the user sees the same
// spelling they typed (--threads, threads, $UWSGI_THREADS).
type source uint8

const (
	fromEnv source = iota
	fromCommandLine
	fromIni
)

// where is the origin of one value.
type where struct {
	src    source
	origin string // becomes Setting.Origin
}

// place is the parenthesised location in error messages. For the
// environment the variable's name is already in the message, so only the
// source is named.
func (w where) place() string {
	if w.src == fromEnv {
		return "environment"
	}
	return w.origin
}

// spell writes an option name the way this source spells it.
func (w where) spell(name string) string {
	switch w.src {
	case fromCommandLine:
		return "--" + name
	case fromEnv:
		return "$UWSGI_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	}
	return name
}

// custom is an ini key or UWSGI_* variable that is not an option: uWSGI
// treats it as a placeholder for %(name), so it is only an error if nothing
// ever uses it that way (then it is far more likely a typo).
type custom struct {
	name    string
	spelled string
	w       where
}

type parser struct {
	cfg *Config
	// current holds the value %(name) expands to: the last value given so
	// far for an option (keyed by canonical name) or custom placeholder.
	current    map[string]string
	customs    []custom
	referenced map[string]bool
	// lastIni is the file ":SECTION" refers to; like uWSGI it is the last
	// ini file loaded, not necessarily the one being read.
	lastIni  string
	includes []string // ini files being read, innermost last, to catch loops
	host     *hostInfo
	environ  map[string]string // for $(VAR)
	labels   map[string]bool   // route-label names, for goto:
	gotos    []goTo            // the routing rules, whose goto: must name a label
}

// Parse reads the configuration from environ (os.Environ() form), then args
// (the command line without argv[0]) and the ini files they name. The first
// problem found is returned as an error meant for the user.
func Parse(args []string, environ []string) (*Config, error) {
	p := &parser{
		cfg:        &Config{},
		current:    map[string]string{},
		referenced: map[string]bool{},
		host:       newHostInfo(),
		environ:    map[string]string{},
		labels:     map[string]bool{},
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			p.environ[k] = v
		}
	}
	if err := p.environment(environ); err != nil {
		return nil, err
	}
	if err := p.commandLine(args); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// set validates one value and records it; an ini option loads the file
// right away so that its settings land exactly here in the order.
func (p *parser) set(o *Option, spelled, value string, w where) error {
	if value == "" && o.Implicit != "" {
		value = o.Implicit
	}
	if o.Policy == Refused {
		return fmt.Errorf("%s %s (%s): %s", spelled, value, w.place(), o.Help)
	}
	value = uwsgiValue(o, value, w)
	switch o.Kind {
	case Flag:
		b, ok := parseBool(value)
		if !ok {
			return fmt.Errorf("%s wants true, false, 1, 0, yes, no, on or off, got %q (%s)", spelled, value, w.place())
		}
		value = strconv.FormatBool(b)
	case Int:
		if err := checkInt(o, value); err != nil {
			return fmt.Errorf("%s wants %s, got %q (%s)", spelled, err, value, w.place())
		}
	}
	if o.Check != nil {
		if err := o.Check(value); err != nil {
			return fmt.Errorf("%s %s (%s): %v", spelled, value, w.place(), err)
		}
	}
	p.current[o.Name] = value
	// The options whose effect is on the parse itself, or that stand for others.
	switch o.Name {
	case "ini":
		return p.loadIni(value, w)
	case "pypy-ini-paste":
		return p.loadIniPaste(value, w)
	case "logger":
		return p.logger(value, w)
	case "set":
		return p.setPlaceholder(spelled, value, w)
	case "mules":
		mule := Lookup("mule")
		n, _ := strconv.Atoi(value)
		for ; n > 0; n-- {
			p.cfg.Settings = append(p.cfg.Settings, Setting{Opt: mule, Value: mule.Implicit, Origin: w.origin})
		}
		return nil
	case "pyimport":
		eval := Lookup("pypy-eval")
		p.cfg.Settings = append(p.cfg.Settings, Setting{Opt: eval, Value: "import " + value, Origin: w.origin})
		return nil
	case "plugins":
		p.plugins(value, w)
	case "route-label":
		p.labels[value] = true
	}
	if o.Group == "Routing" && o.Name != "route-label" {
		if label, ok := strings.CutPrefix(routeAction(o.Name, value), "goto:"); ok {
			p.gotos = append(p.gotos, goTo{label: label, spelled: spelled + " " + value, w: w})
		}
	}
	p.policyNotice(o, spelled, value, w)
	p.cfg.Settings = append(p.cfg.Settings, Setting{Opt: o, Value: value, Origin: w.origin})
	return nil
}

// addCustom records a would-be placeholder; see custom.
func (p *parser) addCustom(name, spelled, value string, w where) {
	p.current[name] = value
	p.customs = append(p.customs, custom{name: name, spelled: spelled, w: w})
}

// parseBool accepts the words uWSGI accepts for booleans. An empty value is
// true because "master =" in an ini file, like a bare --master, turns it on.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "", "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

var errNotWhole = errors.New("not a whole number")

// checkInt returns, on failure, an error whose text completes
// "--threads wants ...".
func checkInt(o *Option, s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	// A leading sign is refused so that "+5" and "-0" do not sneak past a
	// check that is meant to accept plain digits only.
	if err == nil && (s[0] == '+' || s[0] == '-') {
		err = errNotWhole
	}
	if err != nil || n < o.Min || (o.Max != 0 && n > o.Max) {
		switch {
		case o.Max != 0:
			return fmt.Errorf("a whole number from %d to %d", o.Min, o.Max)
		case o.Min > 0:
			return fmt.Errorf("a whole number of at least %d", o.Min)
		default:
			return errors.New("a whole number")
		}
	}
	return nil
}

func unknownError(name, spelled string, w where) error {
	msg := fmt.Sprintf("unknown option %s (%s)", spelled, w.place())
	if s := suggest(name); s != "" {
		return fmt.Errorf("%s; did you mean %s?", msg, w.spell(s))
	}
	return errors.New(msg)
}

func missingValue(spelled string, o *Option) error {
	return fmt.Errorf("%s needs a value (%s)", spelled, o.Meta)
}

var commandLine = where{src: fromCommandLine, origin: "command line"}

func (p *parser) commandLine(args []string) error {
	var positional []string
	// afterFlag is the flag just given without "=", to explain a stray
	// "--master false" better than "unexpected argument".
	var afterFlag *Option
	afterSpelled := ""
	for i := 0; i < len(args); i++ {
		arg := args[i]
		prevFlag, prevSpelled := afterFlag, afterSpelled
		afterFlag = nil
		switch {
		case arg == "--":
			// getopt's end of options: everything after it is positional.
			positional = append(positional, args[i+1:]...)
			i = len(args)

		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			spelled := "--" + name
			o := Lookup(name)
			if o == nil {
				return unknownError(name, spelled, commandLine)
			}
			if !hasValue {
				switch {
				case o.Kind == Flag:
					afterFlag, afterSpelled = o, spelled
				case o.Kind == Opaque:
					if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !strings.HasSuffix(args[i+1], ".ini") {
						i++
						value = args[i]
					}
				case o.Implicit != "" && (i+1 == len(args) || strings.HasPrefix(args[i+1], "-")):
					value = o.Implicit
				default:
					// The option needs a value, so the next argument is it
					// even when it starts with "-" (--pypy-eval "-1").
					if i+1 == len(args) {
						return missingValue(spelled, o)
					}
					i++
					value = args[i]
				}
			}
			if err := p.set(o, spelled, value, commandLine); err != nil {
				return err
			}

		case len(arg) > 1 && arg[0] == '-':
			var o *Option
			if len(arg) == 2 {
				o = lookupShort(arg[1])
			}
			if o == nil {
				return unknownShort(arg)
			}
			value := ""
			if o.Kind == Flag {
				afterFlag, afterSpelled = o, arg
			} else {
				if i+1 == len(args) {
					return missingValue(arg, o)
				}
				i++
				value = args[i]
			}
			if err := p.set(o, arg, value, commandLine); err != nil {
				return err
			}

		case strings.HasSuffix(arg, ".ini"):
			positional = append(positional, arg)

		default:
			if _, isBool := parseBool(arg); isBool && prevFlag != nil && arg != "" {
				return fmt.Errorf("unexpected argument %q (command line): %s takes no separate value, write --%s=%s", arg, prevSpelled, prevFlag.Name, arg)
			}
			return fmt.Errorf("unexpected argument %q (command line): only an ini file (FILE.ini) may be given without an option", arg)
		}
	}
	// uWSGI's getopt loop moves non-options to the end and loads them after
	// every option, so "uwsgo app.ini --threads 4" lets app.ini's threads
	// win there too; keep that so command lines behave the same.
	for _, arg := range positional {
		if !strings.HasSuffix(arg, ".ini") {
			return fmt.Errorf("unexpected argument %q (command line): only an ini file (FILE.ini) may be given without an option", arg)
		}
		if err := p.set(Lookup("ini"), arg, arg, commandLine); err != nil {
			return err
		}
	}
	return nil
}

// unknownShort explains a single-dash argument. "-threads" is a common slip
// for "--threads", so a long name after one dash is pointed at directly.
func unknownShort(arg string) error {
	name, _, _ := strings.Cut(arg[1:], "=")
	msg := fmt.Sprintf("unknown option %s (command line)", arg)
	if o := Lookup(name); o != nil {
		return fmt.Errorf("%s; did you mean --%s?", msg, name)
	}
	if s := suggest(name); s != "" {
		return fmt.Errorf("%s; did you mean --%s?", msg, s)
	}
	return errors.New(msg)
}

// ignoredEnv are UWSGI_* variables that uWSGI sets for its own children
// (reload counters, Emperor plumbing, process titles). They are not options
// and uWSGI itself skips them; a uwsgo started by a uWSGI Emperor, or from a
// shell that inherited them, must not fail on them.
var ignoredEnv = map[string]bool{
	"UWSGI_RELOADS":            true, // how many times the master re-exec'd itself
	"UWSGI_ORIGINAL_PROC_NAME": true, // process title before --procname changed it
	"UWSGI_EMPEROR_FD":         true, // socket to the Emperor that spawned this vassal
	"UWSGI_EMPEROR_FD_CONFIG":  true, // pipe carrying the vassal's config
	"UWSGI_EMPEROR_PROXY":      true, // Emperor proxy socket path
	"UWSGI_BROODLORD_NUM":      true, // Broodlord mode's zerg counter
	"UWSGI_JAIL_PID":           true, // pid inside a namespace jail
}

// ignoredEnvPrefix covers UWSGI_VASSALS_DIR and the per-vassal variables
// the Emperor exports to vassal hooks.
const ignoredEnvPrefix = "UWSGI_VASSAL"

func (p *parser) environment(environ []string) error {
	for _, kv := range environ {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(key, "UWSGI_") {
			continue
		}
		if ignoredEnv[key] || strings.HasPrefix(key, ignoredEnvPrefix) {
			continue
		}
		name := strings.ReplaceAll(strings.ToLower(key[len("UWSGI_"):]), "_", "-")
		w := where{src: fromEnv, origin: "$" + key}
		o := Lookup(name)
		if o == nil {
			p.addCustom(name, "$"+key, value, w)
			continue
		}
		if err := p.set(o, "$"+key, value, w); err != nil {
			return err
		}
	}
	return nil
}

// setPlaceholder is uWSGI's --set NAME=VALUE: the option NAME if there is one, else a
// placeholder that %(NAME) reads (and that is no typo even if nothing reads it).
func (p *parser) setPlaceholder(spelled, value string, w where) error {
	name, v, _ := strings.Cut(value, "=")
	if o := Lookup(name); o != nil {
		return p.set(o, w.spell(name), v, w)
	}
	p.current[name] = v
	return nil
}

// inlineComment is "  ; comment" or "  # comment" after a value.
var inlineComment = regexp.MustCompile(`\s+[;#].*$`)

// uwsgiValue gives a number or a flag uWSGI's meaning. uWSGI reads numbers with atoi,
// which stops at the first non-digit, so an ini's "threads = 4 ; per core" is 4 and
// "post-buffering = true" is 0; flags are read by their first word.
func uwsgiValue(o *Option, value string, w where) string {
	if o.Kind != Int && o.Kind != Flag {
		return value
	}
	if w.src == fromIni {
		value = inlineComment.ReplaceAllString(value, "")
	}
	b, isBool := parseBool(value)
	switch {
	case o.Name == "http-keepalive":
		// uWSGI's is a switch: 1 (or true, or no value) turns keep-alive on, here
		// with uwsgo's timeout; a larger number is the timeout.
		if isBool {
			value = map[bool]string{true: o.Default, false: "0"}[b]
		}
	case o.Kind != Int || !isBool || value == "" || (value[0] >= '0' && value[0] <= '9'):
	case o.Name == "post-buffering":
		// "true" is uWSGI's 0, "no buffering", which uwsgo does not have: the nearest
		// meaning is its default (uwsgo's own 0 sends every body to a file).
		value = o.Default
	default:
		value = "0" // atoi("true")
	}
	return value
}
