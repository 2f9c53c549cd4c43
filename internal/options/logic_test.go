package options

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestIniLanguage: an ini written as real projects write them, with uWSGI's whole
// language: $(VAR), @(file), config logic with %(_), arithmetic, inline comments on
// numbers and flags, bare flags, log-format's own %(...) left alone.
func TestIniLanguage(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "secret.txt", "s3cret\n")
	writeFile(t, dir, "conf.d/a.ini", "[uwsgi]\nworkers-add = 1\n")
	writeFile(t, dir, "conf.d/b.ini", "[uwsgi]\nworkers-add = 2\n")
	ini := writeFile(t, dir, "app.ini", `[uwsgi]
base = `+dir+`
http-socket = :$(PORT)
master
processes = 4 ; per core
threads = %(processes * 2)
listen = %(%k * 100)
need-app = true # always
post-buffering = true
http-keepalive = 1
buffer-size = 65536
pypy-eval = SECRET = '@(`+filepath.Join(dir, "secret.txt")+`)'
log-format = %(addr) - %(user) [%(ltime)] "%(method) %(uri)" %(status) %(size)

if-env = DEBUG
pypy-eval = debug = '%(_)'
endif
if-not-env = NOT_SET
pypy-eval = not_set = True
endif
if-exists = %(base)/secret.txt
pypy-pp = %(_)
end-if
if-dir = %(base)/nope
pypy-pp = never
endif
for = a b
if-opt = master
pypy-eval = item_%(_) = 1
endif
pypy-eval = loop_%(_) = 1
endfor
for-glob = %(base)/conf.d/*.ini
ini = %(_)
endfor
if-opt = threads=8
pypy-eval = threads_eight = 1
endif
`)
	c := mustParse(t, []string{ini}, "PORT=8080", "DEBUG=yes")
	wantStrings(t, "http-socket", c.all("http-socket"), []string{":8080"})
	if !c.boolOf("master") || c.intOf("processes") != 4 || c.intOf("threads") != 8 || !c.boolOf("need-app") {
		t.Errorf("master %v processes %d threads %d need-app %v", c.boolOf("master"), c.intOf("processes"), c.intOf("threads"), c.boolOf("need-app"))
	}
	if c.intOf("listen") != int64(100*runtime.NumCPU()) {
		t.Errorf("listen = %d, want 100 per CPU", c.intOf("listen"))
	}
	if c.intOf("post-buffering") != 1048576 || c.intOf("http-keepalive") != 60 || c.intOf("buffer-size") != 65536 {
		t.Errorf("post-buffering %d http-keepalive %d buffer-size %d", c.intOf("post-buffering"), c.intOf("http-keepalive"), c.intOf("buffer-size"))
	}
	if got := c.get("log-format"); got != `%(addr) - %(user) [%(ltime)] "%(method) %(uri)" %(status) %(size)` {
		t.Errorf("log-format = %q", got)
	}
	wantStrings(t, "pypy-eval", c.all("pypy-eval"), []string{
		"SECRET = 's3cret'", "debug = 'yes'", "not_set = True",
		"item_true = 1", "loop_a = 1", "item_true = 1", "loop_b = 1", "threads_eight = 1",
	})
	wantStrings(t, "pypy-pp", c.all("pypy-pp"), []string{filepath.Join(dir, "secret.txt")})
	if len(c.Notices) != 2 || !strings.Contains(c.Notices[0].Text, "workers-add") {
		t.Errorf("the globbed files' keys were not read: %q", notices(c))
	}

	// Without DEBUG and PORT: the block is skipped; $(PORT) is empty, with a warning.
	c = mustParse(t, []string{ini})
	if strings.Contains(strings.Join(c.all("pypy-eval"), " "), "debug") {
		t.Errorf("the if-env block was read without DEBUG: %q", c.all("pypy-eval"))
	}
	if n := notices(c); !strings.Contains(n[0], "$(PORT) is not set in the environment: it reads as empty") {
		t.Errorf("notices: %q", n)
	}
}

func TestIniLanguageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"no endif", "[uwsgi]\nif-env = HOME\nmaster\n", "the if-env block opened at FILE:2 has no endif"},
		{"stray endif", "[uwsgi]\nmaster\nendif\n", "endif without an if-* or for* line before it (FILE:3)"},
		{"endfor for if", "[uwsgi]\nif-env = HOME\nendfor\n", "endfor (FILE:3) closes the if-env block of FILE:2: write endif"},
		{"nested no endfor", "[uwsgi]\nfor = a\nif-env = HOME\nendif\n", "the for block opened at FILE:2 has no endfor"},
		{"missing @file", "[uwsgi]\npypy-home = @(/nonexistent/x)\n", "@(/nonexistent/x): cannot read the file (FILE:2): no such file or directory"},
		{"for-times", "[uwsgi]\nfor-times = x\nendfor\n", "for-times = x wants a whole number (FILE:2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".ini", tc.body)
			wantError(t, parseError(t, []string{ini}), strings.ReplaceAll(tc.want, "FILE", ini))
		})
	}
}

func TestUWSGINumbers(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]map[string]int64{
		"post-buffering = 0":                 {"post-buffering": 0},
		"post-buffering = yes ; buffer":      {"post-buffering": 1048576},
		"post-buffering = 8192  # 8k":        {"post-buffering": 8192},
		"http-keepalive = false":             {"http-keepalive": 0},
		"http-keepalive = 30":                {"http-keepalive": 30},
		"http-keepalive":                     {"http-keepalive": 60},
		"limit-post = off":                   {"limit-post": 0},
		"buffer-size = 131072 ; big cookies": {"buffer-size": 131072},
	} {
		ini := writeFile(t, dir, "n.ini", "[uwsgi]\n"+body+"\n")
		c := mustParse(t, []string{ini})
		for name, n := range want {
			if got := c.intOf(name); got != n {
				t.Errorf("%q: %s = %d, want %d", body, name, got, n)
			}
		}
	}
	// On the command line a ";" is part of the value, as the shell passed it.
	wantError(t, parseError(t, []string{"--threads", "4 ; x"}), `--threads wants a whole number from 1 to 1024, got "4 ; x" (command line)`)
}
