package options

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A PasteDeploy file read with --pypy-ini-paste: its [uwsgi] section is spliced in like
// --ini, with ConfigParser's %(here)s and %(__file__)s (their "s" consumed) besides
// uWSGI's magic variables, and then pypy-paste names the file.
func TestIniPaste(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "site/app.ini", strings.Join([]string{
		"[DEFAULT]",
		"debug = true",
		"[app:main]",
		"use = call:myapp:main",
		"greeting = hello from %(here)s",
		"[uwsgi]",
		"http-socket = 127.0.0.1:9090",
		"master = true",
		"processes = 2",
		"pypy-pp = %(here)s",
		"pidfile = %d%n.pid",
		"logto = %(__file__)s.log",
		"pypy-eval = print('%(here)', 100%%)",
		"[server:main]",
		"use = egg:waitress#main",
	}, "\n"))
	here := filepath.Dir(ini)

	c := mustParse(t, []string{"--threads", "4", "--pypy-ini-paste", ini, "--processes", "3"})
	wantStrings(t, "settings", values(c), []string{
		"threads=4",
		"http-socket=127.0.0.1:9090", "master=true", "processes=2",
		"pypy-pp=" + here,
		"pidfile=" + here + "/app.pid",
		"logto=" + ini + ".log",
		"pypy-eval=print('" + here + "', 100%)",
		"pypy-paste=config:" + ini,
		"processes=3",
	})
	if got := origins(c); got[1] != ini+":7" || got[8] != "command line" {
		t.Errorf("origins = %q", got)
	}

	// A relative name is made absolute when parsed, before any --chdir.
	rel, err := filepath.Rel(mustGetwd(t), ini)
	if err != nil {
		t.Fatal(err)
	}
	c = mustParse(t, []string{"--pypy-ini-paste", rel})
	if got := c.get("pypy-paste"); got != "config:"+ini {
		t.Errorf("pypy-paste from a relative --pypy-ini-paste = %q, want config:%s", got, ini)
	}
	// From an ini file, as from the environment, it works the same.
	c = mustParse(t, nil, "UWSGI_PYPY_INI_PASTE="+ini)
	if got := c.get("pypy-paste"); got != "config:"+ini || c.intOf("processes") != 2 {
		t.Errorf("UWSGI_PYPY_INI_PASTE: pypy-paste = %q, processes = %d", got, c.intOf("processes"))
	}
}

// In a plain --ini file %(name)s keeps uWSGI's meaning (the s stays), and here is no name.
func TestIniPasteNamesOnlyInPasteFiles(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "plain.ini", "[uwsgi]\nthreads = 2\npypy-eval = x = '%(threads)s'\n")
	c := mustParse(t, []string{"--ini", ini})
	wantStrings(t, "pypy-eval", c.all("pypy-eval"), []string{"x = '2s'"})

	ini = writeFile(t, dir, "here.ini", "[uwsgi]\npypy-pp = %(here)s\n")
	wantStrings(t, "pypy-pp", mustParse(t, []string{"--ini", ini}).all("pypy-pp"), []string{"%(here)s"})
}

func TestIniPasteFileWithoutUwsgiSection(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", "[app:main]\nuse = call:myapp:main\n")
	c := mustParse(t, []string{"--http-socket", ":9090", "--pypy-ini-paste", ini})
	wantStrings(t, "settings", values(c), []string{"http-socket=:9090", "pypy-paste=config:" + ini})
}

func TestIniPasteErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.ini")
	wantErrorContains(t, parseError(t, []string{"--pypy-ini-paste", missing}), missing, "command line")

	ini := writeFile(t, dir, "bad.ini", "[uwsgi]\nprocesses = many\n")
	wantErrorContains(t, parseError(t, []string{"--pypy-ini-paste", ini}), "processes", "many", ini+":2")

	ini = writeFile(t, dir, "undefined.ini", "[uwsgi]\n\npypy-pp = %(nowhere)s/lib\n")
	wantStrings(t, "pypy-pp", mustParse(t, []string{"--pypy-ini-paste", ini}).all("pypy-pp"), []string{"%(nowhere)s/lib"})
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
