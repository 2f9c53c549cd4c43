package options

import (
	"errors"
	"fmt"
	"strings"

	"uwsgo/internal/accesslog"
	"uwsgo/internal/trustedproxy"
)

// The rules between options: what no single row decides. They run once the fields are
// filled (resolve), in the process that parsed the configuration and again in each
// worker that decodes it, so every process sees the same decisions.

// minAddressSpaceMB is where a --reload-on-as limit stops being below what every uwsgo
// worker maps from its start.
const minAddressSpaceMB = 4096

func (c *Config) applyRules() error {
	p := &c.Processes
	// Mules, spoolers, daemons and cron jobs are processes of their own: they need a
	// master, as in uWSGI; so do several workers, which uwsgo always supervises.
	p.Master = p.Master || p.Workers > 1 || len(c.Shared.Mules) > 0 || len(c.Shared.Spoolers) > 0 ||
		len(p.AttachDaemon) > 0 || len(p.SmartAttachDaemon) > 0 || len(p.Cron) > 0
	if p.Cheaper > 0 && p.Cheaper >= p.Workers {
		return fmt.Errorf("cheaper %d (%s): --cheaper is the fewest workers and must be below --processes (%d)", p.Cheaper, c.lastOrigin("cheaper"), p.Workers)
	}
	if s := c.lastSetting("cheaper-algo"); s != nil && s.Value != "spare" {
		c.warn(s.Origin, "cheaper-algo %s: uwsgo has uWSGI's default algorithm, spare, and uses it", s.Value)
	}
	// Limits sized for uWSGI's CPython workers would replace every uwsgo worker at once.
	for _, l := range []struct {
		name  string
		bytes int64
	}{{"reload-on-as", p.ReloadOnAS}, {"evil-reload-on-as", p.EvilReloadOnAS}} {
		if s := c.lastSetting(l.name); s != nil && l.bytes < minAddressSpaceMB<<20 {
			c.warn(s.Origin, "%s %s: a uwsgo worker maps about 2 GB of address space (Go's and PyPy's reservations, mostly never used), so every worker is replaced as soon as it is ready; --reload-on-rss limits the memory really used", l.name, s.Value)
		}
	}

	if err := c.asgiAlone(); err != nil {
		return err
	}
	c.PyPy.App = c.loader()

	// --warmup runs in the loaded app before the workers are forked: pre-fork only.
	for _, uri := range p.Warmup {
		if !strings.HasPrefix(uri, "/") {
			return fmt.Errorf("--warmup %s (%s): a path from the root please (/...)", uri, c.lastOrigin("warmup"))
		}
	}
	if s := c.lastSetting("warmup"); s != nil {
		switch k := c.PyPy.App.Kind; {
		case !p.Master || p.LazyApps:
			c.warn(s.Origin, "warmup %s: warm-up requests run in the loaded app before the workers are forked, which needs --master without --lazy-apps: ignored", s.Value)
		case k == ASGIModule || k == ASGIFile:
			// The loader would need the loop running, and its executor's threads, before
			// the fork: PyPy cannot fork once other threads attached to it.
			c.warn(s.Origin, "warmup %s: warm-up requests go through a WSGI app's request path; an ASGI app's event loop runs in the workers only: ignored", s.Value)
			p.Warmup = nil
		}
	}

	for _, f := range c.Shared.Farms {
		for _, id := range f.Mules {
			if id > len(c.Shared.Mules) {
				return fmt.Errorf("--farm %s (%s): %d is not a mule id (mules are 1 to %d)", f.given, f.origin, id, len(c.Shared.Mules))
			}
		}
	}

	if spec := c.Logging.formatSpec; spec != "" {
		var err error
		if c.Logging.Format, err = accesslog.Compile(spec, c.Logging.XForwardedFor); err != nil {
			return fmt.Errorf("%v (%s)", err, c.lastOrigin("log-format"))
		}
	}
	var err error
	if c.HTTP.Trusted, err = trustedproxy.Parse(c.HTTP.trusted); err != nil {
		return fmt.Errorf("%v (%s)", err, c.lastOrigin("trusted-proxy"))
	}
	return nil
}

// asgiAlone refuses an ASGI app given with a WSGI one: one worker serves one kind.
func (c *Config) asgiAlone() error {
	pp := &c.PyPy
	if pp.asgiModule == "" && pp.asgiFile == "" {
		return nil
	}
	for _, name := range []string{"pypy-wsgi", "pypy-wsgi-file", "pypy-paste", "mount"} {
		if s := c.lastSetting(name); s != nil {
			return fmt.Errorf("%s %s (%s): an ASGI app (--pypy-asgi, --pypy-asgi-file) is served alone: give no --pypy-wsgi, --pypy-wsgi-file, --pypy-paste or --mount with it", name, s.Value, s.Origin)
		}
	}
	return nil
}

// loader decides which app option wins. A module given with a file wins, as in uWSGI,
// with a warning; paste.deploy with either is refused when the worker loads the app.
func (c *Config) loader() Loader {
	pp := &c.PyPy
	for _, pair := range [][2]string{{"pypy-wsgi", "pypy-wsgi-file"}, {"pypy-asgi", "pypy-asgi-file"}} {
		if m, f := c.lastSetting(pair[0]), c.lastSetting(pair[1]); m != nil && f != nil {
			c.warn(f.Origin, "both a module (%s, %s) and a file (%s) are given: the module is loaded, as uWSGI does", m.Value, m.Origin, f.Value)
		}
	}
	// --threads sizes an ASGI app's executor (asyncio.to_thread, run_in_executor(None)).
	threads := 0
	if c.lastSetting("threads") != nil {
		threads = c.Processes.Threads
	}
	switch {
	case pp.asgiModule != "":
		return Loader{Kind: ASGIModule, Target: pp.asgiModule, Threads: threads}
	case pp.asgiFile != "":
		return Loader{Kind: ASGIFile, Target: pp.asgiFile, Threads: threads}
	case pp.paste != "" && (pp.file != "" || pp.module != ""):
		return Loader{Err: errors.New("give --pypy-paste (or --pypy-ini-paste) or --pypy-wsgi/--pypy-wsgi-file, not both")}
	case pp.module != "":
		return Loader{Kind: AppModule, Target: pp.module}
	case pp.file != "":
		return Loader{Kind: AppFile, Target: pp.file}
	case pp.paste != "":
		return Loader{Kind: AppPaste, Target: pp.paste}
	case len(pp.Mounts) > 0:
		return Loader{Kind: MountsOnly}
	}
	return Loader{Err: errors.New("no app given (--pypy-wsgi MODULE, --pypy-wsgi-file FILE, --pypy-paste FILE.ini, --pypy-asgi MODULE or --pypy-asgi-file FILE)")}
}

// lastSetting is the last value given for the option, nil if none.
func (c *Config) lastSetting(name string) *Setting {
	o := mustLookup(name)
	for i := len(c.Settings) - 1; i >= 0; i-- {
		if c.Settings[i].Opt.Name == o.Name {
			return &c.Settings[i]
		}
	}
	return nil
}

// lastOrigin is where the option's last value came from ("default" when not given).
func (c *Config) lastOrigin(name string) string {
	if s := c.lastSetting(name); s != nil {
		return s.Origin
	}
	return "default"
}

func (c *Config) warn(origin, format string, args ...any) {
	c.Notices = append(c.Notices, Notice{Origin: origin, Text: fmt.Sprintf(format, args...), Warning: true})
}
