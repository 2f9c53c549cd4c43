package options

import (
	"testing"
)

func TestEnvironmentSetsOptions(t *testing.T) {
	c := mustParse(t, nil,
		"PATH=/bin",
		"UWSGI_HTTP_SOCKET=:9090",
		"UWSGI_THREADS=3",
		"UWSGI_NEED_APP=1",
		"UWSGI_PYPY_PYTHONPATH=/lib", // an alias
		"uwsgi_threads=7",            // uWSGI only reads the upper-case prefix
		"NOT_UWSGI_THREADS=9",
		"UWSGI_PYPY_EVAL=a=b", // only the first = separates the name
	)
	wantStrings(t, "settings", values(c), []string{
		"http-socket=:9090", "threads=3", "need-app=true", "pypy-pp=/lib", "pypy-eval=a=b",
	})
	wantStrings(t, "origins", origins(c), []string{
		"$UWSGI_HTTP_SOCKET", "$UWSGI_THREADS", "$UWSGI_NEED_APP", "$UWSGI_PYPY_PYTHONPATH", "$UWSGI_PYPY_EVAL",
	})
}

func TestEnvironmentComesBeforeCommandLine(t *testing.T) {
	env := []string{"UWSGI_PYPY_HOME=/env", "UWSGI_HTTP_SOCKET=:1", "UWSGI_THREADS=2"}
	c := mustParse(t, []string{"--http-socket", ":2", "--pypy-home", "/cli"}, env...)
	if got := c.get("pypy-home"); got != "/cli" {
		t.Errorf("pypy-home = %q, want the command line's /cli", got)
	}
	wantStrings(t, "http-socket", c.all("http-socket"), []string{":1", ":2"})
	if got := c.intOf("threads"); got != 2 {
		t.Errorf("threads = %d, want 2 from the environment", got)
	}
}

func TestEnvironmentIni(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\nthreads = 12\n")
	c := mustParse(t, []string{"--threads", "2"}, "UWSGI_INI="+ini)
	wantStrings(t, "settings", values(c), []string{"threads=12", "threads=2"})
	if got := c.Settings[0].Origin; got != ini+":2" {
		t.Errorf("origin %q", got)
	}
	wantError(t, parseError(t, nil, "UWSGI_INI="+dir+"/nope.ini"),
		"cannot read ini file "+dir+"/nope.ini (environment): no such file or directory")
}

func TestEnvironmentErrors(t *testing.T) {
	// A variable naming no option is ignored with a warning, as uWSGI ignores it.
	wantStrings(t, "notices", notices(mustParse(t, nil, "UWSGI_HTTP_SOCKT=:80", "UWSGI_CAESAR=1")), []string{
		"warning: $UWSGI_HTTP_SOCKT is not an option of uwsgo or uWSGI; ignored; did you mean $UWSGI_HTTP_SOCKET? ($UWSGI_HTTP_SOCKT)",
		"warning: $UWSGI_CAESAR is not an option of uwsgo or uWSGI; ignored ($UWSGI_CAESAR)",
	})
	wantStrings(t, "notices", notices(mustParse(t, nil, "UWSGI_EMPEROR=/etc/vassals")), []string{
		"warning: $UWSGI_EMPEROR /etc/vassals: uWSGI's option is not implemented by uwsgo: uwsgo is one instance, not an Emperor: run one uwsgo per app (systemd templates do this) ($UWSGI_EMPEROR)",
	})
	wantError(t, parseError(t, nil, "UWSGI_THREADS=lots"),
		`$UWSGI_THREADS wants a whole number from 1 to 1024, got "lots" (environment)`)
	wantError(t, parseError(t, nil, "UWSGI_NEED_APP=perhaps"),
		`$UWSGI_NEED_APP wants true, false, 1, 0, yes, no, on or off, got "perhaps" (environment)`)
	// The environment is read first, so its error wins over a later one.
	wantError(t, parseError(t, []string{"--bogus"}, "UWSGI_THREADS=0"),
		`$UWSGI_THREADS wants a whole number from 1 to 1024, got "0" (environment)`)
}

func TestEnvironmentIgnoresUWSGIInternals(t *testing.T) {
	c := mustParse(t, nil,
		"UWSGI_RELOADS=3",
		"UWSGI_ORIGINAL_PROC_NAME=uwsgi",
		"UWSGI_EMPEROR_FD=4",
		"UWSGI_EMPEROR_FD_CONFIG=5",
		"UWSGI_EMPEROR_PROXY=/run/proxy",
		"UWSGI_BROODLORD_NUM=1",
		"UWSGI_JAIL_PID=10",
		"UWSGI_VASSALS_DIR=/etc/vassals",
		"UWSGI_VASSAL_NAME=app.ini",
	)
	if len(c.Settings) != 0 {
		t.Errorf("internal variables became settings: %q", values(c))
	}
	// Ignoring is by exact name or the vassal prefix, nothing broader.
	wantStrings(t, "notices", notices(mustParse(t, nil, "UWSGI_RELOADS_X=1")), []string{
		"warning: $UWSGI_RELOADS_X is not an option of uwsgo or uWSGI; ignored; did you mean $UWSGI_RELOAD? ($UWSGI_RELOADS_X)"})
}

func TestEnvironmentPlaceholders(t *testing.T) {
	dir := t.TempDir()
	// uWSGI lets UWSGI_FOO feed %(foo) in ini files.
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\nhttp-socket = %(app-port)\n")
	c := mustParse(t, []string{ini}, "UWSGI_APP_PORT=:5000")
	wantStrings(t, "http-socket", c.all("http-socket"), []string{":5000"})
	if len(c.Notices) != 0 {
		t.Errorf("a used placeholder got notices: %q", notices(c))
	}
	// Unused, it is an unknown option again.
	wantStrings(t, "notices", notices(mustParse(t, nil, "UWSGI_APP_PORT=:5000")), []string{
		"warning: $UWSGI_APP_PORT is not an option of uwsgo or uWSGI; ignored ($UWSGI_APP_PORT)"})
}
