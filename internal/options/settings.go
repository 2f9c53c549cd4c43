package options

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"uwsgo/internal/accesslog"
	"uwsgo/internal/trustedproxy"
)

// The typed settings: what the rest of uwsgo reads. Each Table row that has an effect
// in Go names its field (Option.To); resolve fills the fields from the row's Default and
// then from every value given, in order, so "the last one wins" and "lists add up" are
// decided here once. Cross-option rules (rules.go) then fill what several options decide
// together. A field's comment names its option only where the name is not obvious.

// General is how the program starts: whether it serves at all.
type General struct {
	Help, Version, Strict   bool
	PrintConfig, ShowConfig bool
	PrintSym                string // "" unless --print-sym was given
}

// Sockets are the listening sockets and how their files are made.
type Sockets struct {
	HTTPSocket  []string // --http-socket
	HTTP        []string // --http (the same, uWSGI's router option)
	UwsgiSocket []string // --socket
	Backlog     int      // --listen; 0: the system's maximum
	// SocketMode is --chmod-socket; 0 leaves UNIX sockets as they were made.
	SocketMode  os.FileMode
	SocketOwner string // --chown-socket USER[:GROUP], resolved when the sockets are made
	// Umask is --umask; nil leaves the inherited one (0 is a mask too).
	Umask *os.FileMode
}

// PyPy is the interpreter, what runs before the app and where the app comes from.
type PyPy struct {
	Home, Lib, Setup string // --pypy-home, --pypy-lib, --pypy-setup
	Virtualenv       string
	Path             []string // --pypy-pp: added to sys.path, in order
	Startup          []PyStep // --pypy-eval and --pypy-exec, interleaved as given
	PostFork         []PyStep // --pypy-eval-post-fork and --pypy-exec-post-fork
	App              Loader   // rules.go: which of the app options wins
	Mounts           []string // --mount /PREFIX=APP, in order
	Env              []string // --env NAME=VALUE
	Unenv            []string

	module, file, paste  string // the loaders' options, for rules.go
	asgiModule, asgiFile string
}

// PyStep is one --pypy-eval (code) or --pypy-exec (a file) step.
type PyStep struct {
	Exec  bool   // Value is a file to run, not code
	Value string // as given
}

// LoaderKind is where the app comes from.
type LoaderKind uint8

const (
	NoApp      LoaderKind = iota // nothing loads: Loader.Err says why
	AppModule                    // --pypy-wsgi MODULE[:CALLABLE]
	AppFile                      // --pypy-wsgi-file FILE
	AppPaste                     // --pypy-paste [config:]FILE
	MountsOnly                   // only --mount apps
	ASGIModule                   // --pypy-asgi MODULE[:CALLABLE]
	ASGIFile                     // --pypy-asgi-file FILE
)

// Loader is the app the worker loads before its --mount apps.
type Loader struct {
	Kind   LoaderKind
	Target string // the option's value
	// Threads is the size of an ASGI app's loop executor: --threads when given, else 0
	// (asyncio's own default).
	Threads int
	// Err, with NoApp, is the load failure the worker reports: --need-app makes it fatal,
	// otherwise the worker serves 500s (uWSGI's dynamic mode), so it is not a parse error.
	Err error
}

// Processes is the process model: the master, its workers and their lives.
type Processes struct {
	// Master is --master or what implies it (rules.go): more than one worker, a mule, a
	// spooler, a daemon or a cron job.
	Master            bool
	Workers           int    // --processes
	BinaryPath        string // --binary-path
	Threads           int
	Cheaper           int
	CheaperInitial    int
	CheaperStep       int
	CheaperOverload   time.Duration
	Harakiri          time.Duration
	MaxRequests       uint64
	ReloadOnRSS       int64 // bytes; 0: never
	ReloadOnAS        int64 // bytes; 0: never
	EvilReloadOnRSS   int64 // bytes; 0: never
	EvilReloadOnAS    int64 // bytes; 0: never
	MaxWorkerLifetime time.Duration
	ReloadMercy       time.Duration // --worker-reload-mercy
	ShutdownDelay     time.Duration
	TouchReload       []string
	TouchChainReload  []string
	MasterFIFO        []string
	LazyApps          bool     // every worker loads the app; otherwise they are forked from a loader
	Warmup            []string // paths the loader requests before forking (pre-fork only)
	WarmupRequests    int
	MaxFD             uint64 // 0: leave the limit
	HonourStdin       bool
	NeedApp           bool
	AttachDaemon      []string
	SmartAttachDaemon []string // "PIDFILE COMMAND"
	Cron              []string
}

// HTTP is how requests are read and answered.
type HTTP struct {
	BufferSize           int
	LimitPost            int64 // 0: unlimited
	PostBuffering        int64
	BodyMemoryBudget     int64
	BodyDiskBudget       int64
	ResponseMemoryBudget int64
	ResponseDiskBudget   int64
	SocketTimeout        time.Duration
	KeepAlive            time.Duration // --http-keepalive; 0: close after every response
	// Trusted is --trusted-proxy compiled; nil trusts no peer.
	Trusted    *trustedproxy.Set
	HealthPath string
	AddHeaders [][2]string // --add-header NAME: VALUE, trimmed

	trusted []string // --trusted-proxy as given, compiled in rules.go
}

// Static is the static-file options; internal/static compiles them into its handler.
type Static struct {
	Maps      []StaticMap // --static-map and --static-map2, in order
	Check     []string    // --check-static
	Index     []string
	SkipExt   []string
	Safe      []string
	Dotfiles  bool
	GzipAll   bool
	GzipDirs  []string
	Immutable bool
	Expires   []Expiry // the three --static-expires* options, in order
	MimeFiles []string
}

// StaticMap is one --static-map /MOUNT=DIR (Whole: --static-map2).
type StaticMap struct {
	Prefix, Path string
	Whole        bool
}

// Option is the map's option as given, for messages.
func (m StaticMap) Option() string {
	name := "static-map"
	if m.Whole {
		name = "static-map2"
	}
	return name + " " + m.Prefix + "=" + m.Path
}

// ExpiryMatch is what a static-expires rule looks at.
type ExpiryMatch uint8

const (
	ByContentType ExpiryMatch = iota // --static-expires-type MIME=SECONDS
	ByPath                           // --static-expires REGEXP SECONDS: the file's path on disk
	ByURI                            // --static-expires-uri REGEXP SECONDS: REQUEST_URI
)

// Expiry is one --static-expires* rule.
type Expiry struct {
	Match       ExpiryMatch
	ContentType string         // ByContentType
	Pattern     *regexp.Regexp // ByPath, ByURI
	After       time.Duration
}

// Shared is the state every process of the instance shares, and the mules and spoolers.
type Shared struct {
	Locks          int
	Caches         []string // --cache2 specs, parsed by internal/shm/cache
	Cache          int      // the legacy --cache's items
	CacheBlockSize int
	Sharedareas    []int // --sharedarea: pages of each area
	Metrics        []string
	Mules          []string // each mule's script, "" for none (--mule, --mules)
	Farms          []Farm
	Spoolers       []string
	SpoolerFreq    time.Duration
}

// Farm is one --farm NAME:ID,ID...; the ids are mules' (from 1), checked in rules.go.
type Farm struct {
	Name  string
	Mules []int

	given, origin string // for rules.go's message
}

// Has says whether mule id belongs to the farm.
func (f Farm) Has(id int) bool {
	for _, m := range f.Mules {
		if m == id {
			return true
		}
	}
	return false
}

// Operations is the instance's life around serving.
type Operations struct {
	Chdir, Pidfile, Daemonize, Logto string
	UID, GID                         string
	Vacuum                           bool
	Stats                            string
	StatsHTTP                        bool
}

// Logging is the per-request log and the log file's care.
type Logging struct {
	Disabled      bool // --disable-logging
	Format        *accesslog.Format
	ReqLogger     []string
	MemoryReport  bool
	Log4xx        bool
	Log5xx        bool
	Slower        time.Duration // --log-slow
	Bigger        int64         // --log-big
	XForwardedFor bool
	Reopen        bool // --log-reopen
	MaxSize       int64
	BackupName    string
	TouchReopen   []string

	formatSpec string // --log-format, compiled in rules.go
}

// Hook is one --hook-PHASE ACTION:ARG or --exec-PHASE COMMAND (Action "exec").
type Hook struct {
	Action, Arg string
	Given       string // the option as given, for messages: "--hook-asap print:hi"
	Origin      string
}

// field stores one value of a row into its Config field. The value has passed the row's
// Kind and Check already, so a field never fails.
type field func(c *Config, s Setting)

func toString(p func(*Config) *string) field { return func(c *Config, s Setting) { *p(c) = s.Value } }

func toBool(p func(*Config) *bool) field {
	return func(c *Config, s Setting) { *p(c) = s.Value == "true" }
}

func toList(p func(*Config) *[]string) field {
	return func(c *Config, s Setting) { *p(c) = append(*p(c), s.Value) }
}

func toInt(p func(*Config) *int) field {
	return func(c *Config, s Setting) { *p(c), _ = strconv.Atoi(s.Value) }
}

func toInt64(p func(*Config) *int64) field {
	return func(c *Config, s Setting) { *p(c), _ = strconv.ParseInt(s.Value, 10, 64) }
}

func toUint64(p func(*Config) *uint64) field {
	return func(c *Config, s Setting) { *p(c), _ = strconv.ParseUint(s.Value, 10, 64) }
}

// toMegabytes reads a number of MB (uWSGI's unit for memory limits) into bytes.
func toMegabytes(p func(*Config) *int64) field {
	return func(c *Config, s Setting) {
		n, _ := strconv.ParseInt(s.Value, 10, 64)
		*p(c) = n << 20
	}
}

// toDuration reads a whole number of unit (seconds, milliseconds).
func toDuration(unit time.Duration, p func(*Config) *time.Duration) field {
	return func(c *Config, s Setting) {
		n, _ := strconv.ParseInt(s.Value, 10, 64)
		*p(c) = time.Duration(n) * unit
	}
}

func toSeconds(p func(*Config) *time.Duration) field { return toDuration(time.Second, p) }

// toStep appends a --pypy-eval (exec false) or --pypy-exec step.
func toStep(exec bool, p func(*Config) *[]PyStep) field {
	return func(c *Config, s Setting) { *p(c) = append(*p(c), PyStep{Exec: exec, Value: s.Value}) }
}

// toHook appends to the hooks of phase; exec is the --exec-PHASE form.
func toHook(phase string, exec bool) field {
	return func(c *Config, s Setting) {
		h := Hook{Action: "exec", Arg: s.Value, Given: "--exec-" + phase + " " + s.Value, Origin: s.Origin}
		if !exec {
			h.Action, h.Arg, _ = strings.Cut(s.Value, ":")
			h.Given = "--hook-" + phase + " " + s.Value
		}
		if c.Hooks == nil {
			c.Hooks = map[string][]Hook{}
		}
		c.Hooks[phase] = append(c.Hooks[phase], h)
	}
}

// toOctal reads a permission or a mask (checked by checkOctal).
func toOctal(p func(*Config) *os.FileMode) field {
	return func(c *Config, s Setting) {
		n, _ := strconv.ParseUint(s.Value, 8, 32)
		*p(c) = os.FileMode(n)
	}
}

// checkOctal returns a Check for a permission or a mask in octal; eg is an example.
func checkOctal(eg string) func(string) error {
	return func(value string) error {
		if n, err := strconv.ParseUint(value, 8, 32); err != nil || n > 0o777 {
			return fmt.Errorf("not octal, such as %s", eg)
		}
		return nil
	}
}

// toUmask keeps a pointer: a mask of 0 is a mask too.
func toUmask(c *Config, s Setting) {
	n, _ := strconv.ParseUint(s.Value, 8, 32)
	m := os.FileMode(n)
	c.Sockets.Umask = &m
}

func toStaticMap(whole bool) field {
	return func(c *Config, s Setting) {
		prefix, path, _ := strings.Cut(s.Value, "=")
		c.Static.Maps = append(c.Static.Maps, StaticMap{Prefix: prefix, Path: path, Whole: whole})
	}
}

func toHeader(c *Config, s Setting) {
	name, value, _ := strings.Cut(s.Value, ":")
	c.HTTP.AddHeaders = append(c.HTTP.AddHeaders, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
}

func toMule(c *Config, s Setting) {
	script := s.Value
	if script == "-" { // a mule without a script (Implicit)
		script = ""
	}
	c.Shared.Mules = append(c.Shared.Mules, script)
}

// checkPages wants a number of shared area pages.
func checkPages(value string) error {
	if n, err := strconv.Atoi(value); err != nil || n <= 0 {
		return errors.New("wants a number of 4096-byte pages")
	}
	return nil
}

func toPages(c *Config, s Setting) {
	n, _ := strconv.Atoi(s.Value)
	c.Shared.Sharedareas = append(c.Shared.Sharedareas, n)
}

// parseFarm reads NAME:ID,ID...; rules.go checks the ids against the mules.
func parseFarm(value string) (Farm, error) {
	name, ids, ok := strings.Cut(value, ":")
	if !ok || name == "" {
		return Farm{}, errors.New("wants NAME:MULE_ID[,MULE_ID]")
	}
	f := Farm{Name: name}
	for _, s := range strings.Split(ids, ",") {
		id, err := strconv.Atoi(s)
		if err != nil || id < 1 {
			return Farm{}, fmt.Errorf("%q is not a mule id (mules are numbered from 1)", s)
		}
		f.Mules = append(f.Mules, id)
	}
	return f, nil
}

func checkFarm(value string) error {
	_, err := parseFarm(value)
	return err
}

func toFarm(c *Config, s Setting) {
	f, _ := parseFarm(s.Value)
	f.given, f.origin = s.Value, s.Origin
	c.Shared.Farms = append(c.Shared.Farms, f)
}

// parseExpiry reads a --static-expires* rule: MIME=SECONDS (by content type) or
// REGEXP SECONDS.
func parseExpiry(match ExpiryMatch, value string) (Expiry, error) {
	e := Expiry{Match: match}
	sep, want := " ", "REGEXP SECONDS"
	if match == ByContentType {
		sep, want = "=", "MIME=SECONDS"
	}
	i := strings.LastIndex(value, sep)
	if i <= 0 {
		return e, fmt.Errorf("wants %s", want)
	}
	pattern, secs := strings.TrimSpace(value[:i]), strings.TrimSpace(value[i+1:])
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || n < 0 {
		return e, fmt.Errorf("%q is not a number of seconds (wants %s)", secs, want)
	}
	e.After = time.Duration(n) * time.Second
	if match == ByContentType {
		e.ContentType = pattern
		return e, nil
	}
	if e.Pattern, err = regexp.Compile(pattern); err != nil {
		return e, err
	}
	return e, nil
}

func checkExpiry(match ExpiryMatch) func(string) error {
	return func(value string) error {
		_, err := parseExpiry(match, value)
		return err
	}
}

func toExpiry(match ExpiryMatch) field {
	return func(c *Config, s Setting) {
		e, _ := parseExpiry(match, s.Value)
		c.Static.Expires = append(c.Static.Expires, e)
	}
}

// resolve fills the typed settings from the Table rows' defaults and then from Settings
// in order, then applies the rules between options.
func (c *Config) resolve() error {
	for i := range Table {
		if o := &Table[i]; o.To != nil && o.Default != "" {
			o.To(c, Setting{Opt: o, Value: o.Default, Origin: "default"})
		}
	}
	for _, s := range c.Settings {
		if s.Opt.To != nil {
			s.Opt.To(c, s)
		}
	}
	return c.applyRules()
}
