package options

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestIniSectionsCommentsAndOrigins(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", strings.Join([]string{
		"# a comment",
		"[other]",
		"threads = 99",
		"this line is not ours to judge",
		"[uwsgi]",
		"  ; indented comment",
		"",
		"  pypy-pp   =   b  ",
		"pypy-home = /one",
		"http-socket=:8000",
		"[another]",
		"pypy-pp = nope",
		"[ uwsgi ]",
		"pypy-pp = c",
		"pypy-home = /two",
		"pypy-eval = x = 1 ; not a comment",
	}, "\n"))

	c := mustParse(t, []string{"--pypy-pp", "a", "--ini", ini, "--pypy-pp", "d"})
	// The file's settings are spliced in where --ini stood.
	wantStrings(t, "settings", values(c), []string{
		"pypy-pp=a", "pypy-pp=b", "pypy-home=/one", "http-socket=:8000",
		"pypy-pp=c", "pypy-home=/two", "pypy-eval=x = 1 ; not a comment", "pypy-pp=d",
	})
	wantStrings(t, "origins", origins(c), []string{
		"command line", ini + ":8", ini + ":9", ini + ":10",
		ini + ":14", ini + ":15", ini + ":16", "command line",
	})
	if got := c.get("pypy-home"); got != "/two" {
		t.Errorf("pypy-home = %q, want the last value /two", got)
	}
	if c.has("threads") {
		t.Error("threads from [other] was read")
	}
}

func TestIniNamedSection(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "multi.ini", "[uwsgi]\nthreads = 1\n[prod]\nthreads = 16\n[dev]\nthreads = 2\n")

	c := mustParse(t, []string{"--ini", ini + ":prod"})
	if got := c.intOf("threads"); got != 16 {
		t.Errorf("%s:prod: threads = %d, want 16", ini, got)
	}
	// ":SECTION" alone reads the last ini file loaded, as in uWSGI.
	c = mustParse(t, []string{"--ini", ini + ":prod", "--ini", ":dev"})
	wantStrings(t, "settings", values(c), []string{"threads=16", "threads=2"})

	wantError(t, parseError(t, []string{"--ini", ini + ":staging"}),
		"ini file "+ini+" has no [staging] section (command line)")
	wantError(t, parseError(t, []string{"--ini", ":dev"}),
		`ini ":dev" names only a section, but no ini file was loaded before it (command line)`)

	wantError(t, parseError(t, []string{"--ini="}), "empty ini file name (command line)")

	noUwsgi := writeFile(t, dir, "none.ini", "[app:main]\nuse = egg:app\n")
	wantError(t, parseError(t, []string{noUwsgi}), "ini file "+noUwsgi+" has no [uwsgi] section (command line)")
}

func TestIniPathsWithColons(t *testing.T) {
	dir := t.TempDir()
	// The whole string names an existing file: no section is split off.
	whole := writeFile(t, dir, "conf:prod", "[uwsgi]\nthreads = 3\n")
	c := mustParse(t, []string{"--ini", whole})
	if got := c.intOf("threads"); got != 3 {
		t.Errorf("file named conf:prod: threads = %d, want 3", got)
	}
	// What follows the last colon is not a section name (it has a slash).
	nested := writeFile(t, filepath.Join(dir, "a:b"), "app.ini", "[uwsgi]\nthreads = 4\n")
	c = mustParse(t, []string{"--ini", nested})
	if got := c.intOf("threads"); got != 4 {
		t.Errorf("directory with a colon: threads = %d, want 4", got)
	}
	// Only the last colon splits.
	c = mustParse(t, []string{"--ini", filepath.Join(dir, "a:b", "app.ini") + ":uwsgi"})
	if got := c.intOf("threads"); got != 4 {
		t.Errorf("a:b/app.ini:uwsgi: threads = %d, want 4", got)
	}
}

func TestIniMissingFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.ini")
	wantError(t, parseError(t, []string{"--ini", missing}),
		"cannot read ini file "+missing+" (command line): no such file or directory")
	wantError(t, parseError(t, []string{missing}),
		"cannot read ini file "+missing+" (command line): no such file or directory")
	including := writeFile(t, dir, "main.ini", "[uwsgi]\n\nini = "+missing+"\n")
	wantError(t, parseError(t, []string{"--ini", including}),
		"cannot read ini file "+missing+" ("+including+":3): no such file or directory")
}

func TestIniMagicVariables(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "site/myapp.prod.ini", strings.Join([]string{
		"[uwsgi]",
		"pypy-pp = %d",
		"pypy-pp = %dlib",
		"pypy-pp = %n",
		"pypy-pp = %s",
		"pypy-pp = %e",
		"pypy-pp = %p",
		"pypy-pp = %c",
		"pypy-pp = %k",
		"pypy-pp = 100%%",
		"pypy-pp = %Y-%m %",
		"pypy-pp = %%d",
	}, "\n"))
	siteDir := filepath.Dir(ini)
	c := mustParse(t, []string{"--ini", ini})
	wantStrings(t, "magic", c.all("pypy-pp"), []string{
		siteDir + "/",
		siteDir + "/lib",
		"myapp.prod",
		"myapp.prod.ini",
		"ini",
		ini,
		"site",
		strconv.Itoa(runtime.NumCPU()),
		"100%",
		"%Y-%m %", // unknown magic letters stay as they are
		"%d",      // %% is not read again as the start of %d
	})

	host, err := os.Hostname()
	if err != nil {
		t.Skip("no hostname:", err)
	}
	hini := writeFile(t, dir, "h.ini", "[uwsgi]\nhttp-socket = /run/%h.sock\n")
	c = mustParse(t, []string{hini})
	if got, want := c.get("http-socket"), "/run/"+host+".sock"; got != want {
		t.Errorf("%%h: got %q, want %q", got, want)
	}
}

func TestIniMagicFollowsRelativePaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "conf/app.ini", "[uwsgi]\npypy-wsgi-file = %dapp.py\n")
	t.Chdir(dir)
	c := mustParse(t, []string{"--ini", "conf/app.ini"})
	abs := filepath.Join(dir, "conf")
	if got := c.get("pypy-wsgi-file"); got != abs+"/app.py" {
		t.Errorf("%%d from a relative --ini: got %q, want %q", got, abs+"/app.py")
	}
	if got := c.Settings[0].Origin; got != filepath.Join(abs, "app.ini")+":2" {
		t.Errorf("origin %q is not absolute", got)
	}
}

func TestIniPlaceholders(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", strings.Join([]string{
		"[uwsgi]",
		"base = /srv/site",
		"pypy-home = %(base)/pypy",
		"pypy-pp = %(pypy-home)/lib",
		"pypy-pp = %(pypy-python-path)/more", // alias: last value of pypy-pp
		"http-socket = %(addr)",              // set on the command line
		"pypy-eval = debug = '%(need-app)'",  // a flag's normalised value
		"base = /srv/other",
		"pypy-wsgi-file = %(base)/wsgi.py", // the current value, not the first
	}, "\n"))
	c := mustParse(t, []string{"--need-app=on", "--ini", ini}, "UWSGI_ADDR=:7070")
	wantStrings(t, "settings", values(c), []string{
		"need-app=true",
		"pypy-home=/srv/site/pypy",
		"pypy-pp=/srv/site/pypy/lib",
		"pypy-pp=/srv/site/pypy/lib/more",
		"http-socket=:7070",
		"pypy-eval=debug = 'true'",
		"pypy-wsgi-file=/srv/other/wsgi.py",
	})
	// Custom placeholders are not settings.
	for _, s := range c.Settings {
		if s.Opt == nil || s.Opt.Name == "base" {
			t.Errorf("custom placeholder leaked into Settings: %+v", s)
		}
	}
}

func TestIniPlaceholderErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"unclosed", "[uwsgi]\npypy-home = %(base\n",
			`unclosed %( in "%(base" (FILE:2)`},
		{"empty", "[uwsgi]\npypy-home = %()\n",
			"empty placeholder %() (FILE:2)"},
		{"math", "[uwsgi]\nbase = x\npypy-home = %(base + 1)\n",
			`%(base + 1): base is "x", not a whole number; uWSGI's placeholder arithmetic is %(NAME + 1), operands and + - * / separated by spaces (FILE:3)`},
		{"math operator", "[uwsgi]\npypy-home = %(2 ^ 1)\n",
			`%(2 ^ 1): "^" is not an operator; uWSGI's placeholder arithmetic is %(NAME + 1), operands and + - * / separated by spaces (FILE:2)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".ini", tc.body)
			wantError(t, parseError(t, []string{ini}), strings.ReplaceAll(tc.want, "FILE", ini))
		})
	}

	// Placeholders belong to ini files; on the command line they are text.
	c := mustParse(t, []string{"--pypy-eval", "print('%(x) %d')"})
	wantStrings(t, "pypy-eval", c.all("pypy-eval"), []string{"print('%(x) %d')"})
}

func TestIniUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	// A key that is no option and that nothing uses as %(key) is a typo.
	typo := writeFile(t, dir, "typo.ini", "[uwsgi]\n\nhttp-sockt = :80\n")
	wantStrings(t, "notices", notices(mustParse(t, []string{typo})), []string{
		"warning: http-sockt is not an option of uwsgo or uWSGI; ignored; did you mean http-socket? (" + typo + ":3)"})
	far := writeFile(t, dir, "far.ini", "[uwsgi]\nsomething_else = 1\n")
	wantStrings(t, "notices", notices(mustParse(t, []string{far})), []string{
		"warning: something_else is not an option of uwsgo or uWSGI; ignored (" + far + ":2)"})

	// The same key is fine once something refers to it, even from a later file.
	def := writeFile(t, dir, "def.ini", "[uwsgi]\nhttp-sockt = :80\n")
	use := writeFile(t, dir, "use.ini", "[uwsgi]\nhttp-socket = %(http-sockt)\n")
	c := mustParse(t, []string{"--ini", def, "--ini", use})
	wantStrings(t, "http-socket", c.all("http-socket"), []string{":80"})
}

func TestIniValueErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"bad int", "[uwsgi]\nthreads = many\n", `threads wants a whole number from 1 to 1024, got "many" (FILE:2)`},
		{"bad flag", "[uwsgi]\nneed-app = sure\n", `need-app wants true, false, 1, 0, yes, no, on or off, got "sure" (FILE:2)`},
		{"no equals", "[uwsgi]\nthreads = 2\nthreads\n", `threads needs a value: expected threads = N, got "threads" (FILE:3)`},
		{"no key", "[uwsgi]\n= 2\n", `missing option name before = in "= 2" (FILE:2)`},
		{"bad header", "[uwsgi]\n[oops\n", `section header "[oops" has no closing ] (FILE:2)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".ini", tc.body)
			wantError(t, parseError(t, []string{"--ini", ini}), strings.ReplaceAll(tc.want, "FILE", ini))
		})
	}
}

func TestIniFlags(t *testing.T) {
	dir := t.TempDir()
	// uWSGI reads a bare flag, and an empty value, as "true".
	ini := writeFile(t, dir, "flags.ini", "[uwsgi]\nneed-app\nhonour-stdin =\ndisable-logging = off\n")
	c := mustParse(t, []string{ini})
	if !c.boolOf("need-app") || !c.boolOf("honour-stdin") || c.boolOf("disable-logging") {
		t.Errorf("flags: %q", values(c))
	}
	wantStrings(t, "settings", values(c), []string{"need-app=true", "honour-stdin=true", "disable-logging=false"})
}

func TestIniWindowsLineEndingsAndBOM(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "crlf.ini", "\uFEFF[uwsgi]\r\nthreads = 5\r\nhttp-socket = :1\r\n")
	c := mustParse(t, []string{ini})
	wantStrings(t, "settings", values(c), []string{"threads=5", "http-socket=:1"})
}

func TestIniIncludes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "base.ini", "[uwsgi]\nthreads = 4\npypy-pp = base\n")
	main := writeFile(t, dir, "main.ini", "[uwsgi]\npypy-pp = before\nini = %dbase.ini\npypy-pp = after\n")
	c := mustParse(t, []string{"--ini", main})
	wantStrings(t, "pypy-pp", c.all("pypy-pp"), []string{"before", "base", "after"})
	if got := c.intOf("threads"); got != 4 {
		t.Errorf("threads from the included file = %d, want 4", got)
	}
	if got, want := c.Settings[1].Origin, filepath.Join(dir, "base.ini")+":2"; got != want {
		t.Errorf("included setting origin %q, want %q", got, want)
	}

	// A section of the same file, then a loop.
	self := writeFile(t, dir, "self.ini", "[uwsgi]\nini = :extra\n[extra]\nthreads = 6\n")
	c = mustParse(t, []string{self})
	if got := c.intOf("threads"); got != 6 {
		t.Errorf("ini = :extra: threads = %d, want 6", got)
	}
	a := writeFile(t, dir, "a.ini", "[uwsgi]\nini = %db.ini\n")
	b := writeFile(t, dir, "b.ini", "[uwsgi]\nini = %da.ini\n")
	wantError(t, parseError(t, []string{a}),
		"ini files include each other in a loop ("+b+":2): "+a+"[uwsgi] -> "+b+"[uwsgi] -> "+a+"[uwsgi]")
}
