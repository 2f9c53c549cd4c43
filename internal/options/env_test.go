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
	if got := c.Get("pypy-home"); got != "/cli" {
		t.Errorf("pypy-home = %q, want the command line's /cli", got)
	}
	wantStrings(t, "http-socket", c.All("http-socket"), []string{":1", ":2"})
	if got := c.Int("threads"); got != 2 {
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
	wantError(t, parseError(t, nil, "UWSGI_HTTP_SOCKT=:80"),
		"unknown option $UWSGI_HTTP_SOCKT (environment); did you mean $UWSGI_HTTP_SOCKET?")
	wantError(t, parseError(t, nil, "UWSGI_EMPEROR=1"),
		"unknown option $UWSGI_EMPEROR (environment)")
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
	wantError(t, parseError(t, nil, "UWSGI_RELOADS_X=1"), "unknown option $UWSGI_RELOADS_X (environment)")
}

func TestEnvironmentPlaceholders(t *testing.T) {
	dir := t.TempDir()
	// uWSGI lets UWSGI_FOO feed %(foo) in ini files.
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\nhttp-socket = %(app-port)\n")
	c := mustParse(t, []string{ini}, "UWSGI_APP_PORT=:5000")
	wantStrings(t, "http-socket", c.All("http-socket"), []string{":5000"})
	// Unused, it is an unknown option again.
	wantError(t, parseError(t, nil, "UWSGI_APP_PORT=:5000"), "unknown option $UWSGI_APP_PORT (environment)")
}
