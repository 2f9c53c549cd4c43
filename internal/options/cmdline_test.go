package options

import (
	"os"
	"testing"
)

func TestCommandLineForms(t *testing.T) {
	c := mustParse(t, []string{"--http-socket", ":1", "--http-socket=:2", "--threads", "4", "--pypy-wsgi=app:application"})
	wantStrings(t, "settings", values(c), []string{
		"http-socket=:1", "http-socket=:2", "threads=4", "pypy-wsgi=app:application",
	})
	for _, s := range c.Settings {
		if s.Origin != "command line" {
			t.Errorf("%s: origin %q, want %q", s.Opt.Name, s.Origin, "command line")
		}
	}
	if got := c.intOf("threads"); got != 4 {
		t.Errorf("Int(threads) = %d, want 4", got)
	}
	// "=" splits only once: the value may contain more of them.
	c = mustParse(t, []string{"--pypy-eval=x = 1"})
	wantStrings(t, "pypy-eval", c.all("pypy-eval"), []string{"x = 1"})
}

func TestFlags(t *testing.T) {
	// A flag takes no separate value: "--need-app --threads 2" is two options.
	c := mustParse(t, []string{"--need-app", "--threads", "2"})
	if !c.boolOf("need-app") || c.intOf("threads") != 2 {
		t.Errorf("need-app=%v threads=%d, want true 2", c.boolOf("need-app"), c.intOf("threads"))
	}
	if got := c.get("need-app"); got != "true" {
		t.Errorf("Get(need-app) = %q, want the normalised %q", got, "true")
	}
	if c.boolOf("honour-stdin") || c.has("honour-stdin") {
		t.Error("honour-stdin was not given but reads as set")
	}

	for value, want := range map[string]bool{
		"true": true, "false": false, "1": true, "0": false,
		"yes": true, "no": false, "on": true, "off": false, "": true, "OFF": false, "Yes": true,
	} {
		c := mustParse(t, []string{"--need-app=" + value})
		if got := c.boolOf("need-app"); got != want {
			t.Errorf("--need-app=%s: Bool = %v, want %v", value, got, want)
		}
		if got := c.Settings[0].Value; got != map[bool]string{true: "true", false: "false"}[want] {
			t.Errorf("--need-app=%s: stored %q", value, got)
		}
	}

	// The last one wins for flags too.
	c = mustParse(t, []string{"--need-app", "--need-app=no"})
	if c.boolOf("need-app") {
		t.Error("--need-app --need-app=no reads as true")
	}
}

func TestShortOptions(t *testing.T) {
	c := mustParse(t, []string{"-h", "-L"})
	if !c.boolOf("help") || !c.boolOf("disable-logging") {
		t.Errorf("-h -L: help=%v disable-logging=%v", c.boolOf("help"), c.boolOf("disable-logging"))
	}
	wantStrings(t, "settings", values(c), []string{"help=true", "disable-logging=true"})

	wantError(t, parseError(t, []string{"-x"}), "unknown option -x (command line)")
	wantError(t, parseError(t, []string{"-Lh"}), "unknown option -Lh (command line)")
	// A long name after a single dash is pointed at its double-dash form.
	wantError(t, parseError(t, []string{"-threads", "4"}), "unknown option -threads (command line); did you mean --threads?")
	wantError(t, parseError(t, []string{"-trheads=4"}), "unknown option -trheads=4 (command line); did you mean --threads?")
}

func TestListsKeepOrderAndStringsLastWins(t *testing.T) {
	c := mustParse(t, []string{
		"--pypy-pp", "a", "--pypy-home", "/one", "--pypy-python-path", "b",
		"--pypy-pythonpath=c", "--pypy-home", "/two", "--pypy-pp", "d",
	})
	wantStrings(t, "All(pypy-pp)", c.all("pypy-pp"), []string{"a", "b", "c", "d"})
	// Aliases read the same option.
	wantStrings(t, "All(pypy-pythonpath)", c.all("pypy-pythonpath"), []string{"a", "b", "c", "d"})
	if got := c.get("pypy-home"); got != "/two" {
		t.Errorf("Get(pypy-home) = %q, want the last value /two", got)
	}
	// Aliases are recorded under the canonical option.
	for _, s := range c.Settings {
		if s.Opt.Name != "pypy-pp" && s.Opt.Name != "pypy-home" {
			t.Errorf("setting recorded under %q", s.Opt.Name)
		}
	}
	if !c.has("pypy-python-path") || c.has("pypy-wsgi") {
		t.Errorf("Has: pypy-python-path=%v pypy-wsgi=%v, want true false", c.has("pypy-python-path"), c.has("pypy-wsgi"))
	}
}

func TestValueMayStartWithDash(t *testing.T) {
	c := mustParse(t, []string{"--pypy-eval", "-1", "--http-socket", "--threads"})
	wantStrings(t, "pypy-eval", c.all("pypy-eval"), []string{"-1"})
	wantStrings(t, "http-socket", c.all("http-socket"), []string{"--threads"})
	if c.has("threads") {
		t.Error("the value --threads was also read as an option")
	}
}

func TestPositionalIni(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\nthreads = 8\nhttp-socket = :8000\n")

	c := mustParse(t, []string{ini})
	if got := c.intOf("threads"); got != 8 {
		t.Errorf("positional app.ini: threads = %d, want 8", got)
	}
	if got := c.Settings[0].Origin; got != ini+":2" {
		t.Errorf("origin %q, want %q", got, ini+":2")
	}

	// Like uWSGI, a positional ini is read after every option, wherever it
	// stands; --ini is read in place.
	c = mustParse(t, []string{ini, "--threads", "2", "--http-socket", ":9000"})
	wantStrings(t, "order", values(c), []string{"threads=2", "http-socket=:9000", "threads=8", "http-socket=:8000"})
	c = mustParse(t, []string{"--ini", ini, "--threads", "2"})
	if got := c.intOf("threads"); got != 2 {
		t.Errorf("--ini app.ini --threads 2: threads = %d, want 2", got)
	}

	// After "--" everything is positional.
	c = mustParse(t, []string{"--need-app", "--", ini})
	wantStrings(t, "after --", values(c), []string{"need-app=true", "threads=8", "http-socket=:8000"})

	wantError(t, parseError(t, []string{"app.py"}),
		`unexpected argument "app.py" (command line): only an ini file (FILE.ini) may be given without an option`)
	wantError(t, parseError(t, []string{"--", "-x"}),
		`unexpected argument "-x" (command line): only an ini file (FILE.ini) may be given without an option`)
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-sockt", ":80"}, "unknown option --http-sockt (command line); did you mean --http-socket?"},
		{[]string{"--http-sockt=:80"}, "unknown option --http-sockt (command line); did you mean --http-socket?"},
		{[]string{"--trheads", "2"}, "unknown option --trheads (command line); did you mean --threads?"},
		{[]string{"--pypy-pythonpth", "x"}, "unknown option --pypy-pythonpth (command line); did you mean --pypy-pythonpath?"},
		{[]string{"--caesar"}, "unknown option --caesar (command line)"},
		{[]string{"--"}, ""},
		{[]string{"--="}, "unknown option -- (command line)"},
		{[]string{"--http-socket"}, "--http-socket needs a value (ADDR)"},
		{[]string{"--threads", "2", "--pypy-wsgi"}, "--pypy-wsgi needs a value (MODULE[:CALLABLE])"},
		{[]string{"--threads", "abc"}, `--threads wants a whole number from 1 to 1024, got "abc" (command line)`},
		{[]string{"--threads=0"}, `--threads wants a whole number from 1 to 1024, got "0" (command line)`},
		{[]string{"--threads", "1025"}, `--threads wants a whole number from 1 to 1024, got "1025" (command line)`},
		{[]string{"--threads", "+4"}, `--threads wants a whole number from 1 to 1024, got "+4" (command line)`},
		{[]string{"--threads", ""}, `--threads wants a whole number from 1 to 1024, got "" (command line)`},
		{[]string{"--buffer-size", "512"}, `--buffer-size wants a whole number of at least 1024, got "512" (command line)`},
		{[]string{"--socket-timeout", "0"}, `--socket-timeout wants a whole number of at least 1, got "0" (command line)`},
		{[]string{"--limit-post", "-1"}, `--limit-post wants a whole number, got "-1" (command line)`},
		{[]string{"--limit-post", "1.5"}, `--limit-post wants a whole number, got "1.5" (command line)`},
		{[]string{"--limit-post", "99999999999999999999"}, `--limit-post wants a whole number, got "99999999999999999999" (command line)`},
		{[]string{"--need-app=maybe"}, `--need-app wants true, false, 1, 0, yes, no, on or off, got "maybe" (command line)`},
		{[]string{"--need-app", "false"}, `unexpected argument "false" (command line): --need-app takes no separate value, write --need-app=false`},
		{[]string{"-L", "no"}, `unexpected argument "no" (command line): -L takes no separate value, write --disable-logging=no`},
	} {
		if tc.want == "" {
			mustParse(t, tc.args)
			continue
		}
		wantError(t, parseError(t, tc.args), tc.want)
	}
}

func TestNumbersAtTheBoundsAreAccepted(t *testing.T) {
	c := mustParse(t, []string{"--threads", "1024", "--buffer-size", "1024", "--limit-post", "0", "--http-keepalive", "0"})
	if c.intOf("threads") != 1024 || c.intOf("buffer-size") != 1024 || c.intOf("limit-post") != 0 || c.intOf("http-keepalive") != 0 {
		t.Errorf("bounds: %q", values(c))
	}
}

func TestImplicitValue(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--chmod-socket"}, "666"},
		{[]string{"--chmod-socket", "--master"}, "666"},
		{[]string{"--chmod-socket", "660"}, "660"},
		{[]string{"--chmod-socket=600"}, "600"},
	} {
		cfg, err := Parse(c.args, nil)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := cfg.get("chmod-socket"); got != c.want {
			t.Errorf("%v: chmod-socket %q, want %q", c.args, got, c.want)
		}
	}
	dir := t.TempDir()
	ini := dir + "/a.ini"
	if err := os.WriteFile(ini, []byte("[uwsgi]\nchmod-socket\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]string{"--ini", ini}, nil)
	if err != nil || cfg.get("chmod-socket") != "666" {
		t.Fatalf("a bare chmod-socket line in an ini file: %v %q", err, cfg.get("chmod-socket"))
	}
}
