package options

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestTableIsConsistent guards the rules every row must follow, so that
// adding an option cannot quietly break parsing or --help.
func TestTableIsConsistent(t *testing.T) {
	seen := map[string]string{}
	shorts := map[byte]string{}
	groups := map[string]bool{}
	for _, g := range groupOrder {
		groups[g] = true
	}
	for _, o := range Table {
		for _, n := range append([]string{o.Name}, o.Aliases...) {
			if prev, dup := seen[n]; dup {
				t.Errorf("%q is used by both %s and %s", n, prev, o.Name)
			}
			seen[n] = o.Name
			for _, r := range n {
				// uWSGI's own pivot_root and start_response-nodelay keep their
				// spelling; only the environment cannot name them.
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || (r == '_' && o.Kind == Opaque)) {
					t.Errorf("%q: option names are lower case letters, digits and dashes (the environment maps them back)", n)
					break
				}
			}
		}
		if o.Short != 0 {
			if prev, dup := shorts[o.Short]; dup {
				t.Errorf("-%c is used by both %s and %s", o.Short, prev, o.Name)
			}
			shorts[o.Short] = o.Name
		}
		if !groups[o.Group] {
			t.Errorf("%s: group %q is not in groupOrder", o.Name, o.Group)
		}
		if o.Help == "" || strings.Contains(o.Help, "\n") {
			t.Errorf("%s: Help must be one non-empty line", o.Name)
		}
		if (o.Kind == Flag) != (o.Meta == "") {
			t.Errorf("%s: a %s option must %s a Meta", o.Name, o.Kind, map[bool]string{true: "not have", false: "have"}[o.Kind == Flag])
		}
		switch o.Kind {
		case Flag:
			if _, ok := parseBool(o.Default); o.Default != "" && (!ok || (o.Default != "true" && o.Default != "false")) {
				t.Errorf("%s: a flag's Default is \"\", \"true\" or \"false\", not %q", o.Name, o.Default)
			}
		case Int:
			if o.Max != 0 && o.Min > o.Max {
				t.Errorf("%s: Min %d > Max %d", o.Name, o.Min, o.Max)
			}
			if o.Default != "" {
				if err := checkInt(&o, o.Default); err != nil {
					t.Errorf("%s: Default %q is not %s", o.Name, o.Default, err)
				}
			}
		case String, List, Opaque:
		default:
			t.Errorf("%s: unknown Kind %d", o.Name, o.Kind)
		}
		if o.Kind != Int && (o.Min != 0 || o.Max != 0) {
			t.Errorf("%s: Min/Max only apply to Int options", o.Name)
		}
	}
}

func TestLookup(t *testing.T) {
	for name, want := range map[string]string{
		"http-socket": "http-socket", "pypy-pythonpath": "pypy-pp", "pypy-python-path": "pypy-pp",
		"pypy-pp": "pypy-pp", "HTTP-SOCKET": "", "": "", "http_socket": "",
	} {
		o := Lookup(name)
		switch {
		case want == "" && o != nil:
			t.Errorf("Lookup(%q) = %s, want nil", name, o.Name)
		case want != "" && (o == nil || o.Name != want):
			t.Errorf("Lookup(%q) = %v, want %s", name, o, want)
		}
	}
	for i := range Table {
		if Table[i].Name == "threads" && Lookup("threads") != &Table[i] {
			t.Error("Lookup does not return the Table row itself")
		}
	}
}

func TestUnsetAndUnknownNames(t *testing.T) {
	c := mustParse(t, nil)
	if c.lastSetting("threads") != nil || c.lastOrigin("threads") != "default" {
		t.Error("an empty config reads as set")
	}
	defer func() {
		if recover() == nil {
			t.Error("a name not in Table did not panic")
		}
	}()
	c.lastSetting("no-such-option")
}

func TestSeqInterleavesInGivenOrder(t *testing.T) {
	dir := t.TempDir()
	ini := writeFile(t, dir, "app.ini", "[uwsgi]\npypy-exec = b.py\npypy-eval = c()\n")
	c := mustParse(t, []string{
		"--pypy-eval", "a()", "--threads", "2", "--ini", ini, "--pypy-exec=d.py",
		"--pypy-eval-post-fork", "x()", "--pypy-eval", "e()",
	}, "UWSGI_PYPY_EXEC=0.py")
	var got []string
	for _, s := range c.seq("pypy-eval", "pypy-exec") {
		got = append(got, s.Opt.Name+"="+s.Value+"@"+s.Origin)
	}
	wantStrings(t, "Seq", got, []string{
		"pypy-exec=0.py@$UWSGI_PYPY_EXEC",
		"pypy-eval=a()@command line",
		"pypy-exec=b.py@" + ini + ":2",
		"pypy-eval=c()@" + ini + ":3",
		"pypy-exec=d.py@command line",
		"pypy-eval=e()@command line",
	})
	var steps []string
	for _, st := range c.PyPy.Startup {
		steps = append(steps, fmt.Sprint(st.Exec, " ", st.Value))
	}
	wantStrings(t, "PyPy.Startup", steps, []string{"true 0.py", "false a()", "true b.py", "false c()", "true d.py", "false e()"})
}

func TestWriteHelp(t *testing.T) {
	var b bytes.Buffer
	WriteHelp(&b)
	help := b.String()
	for _, o := range Table {
		if o.Group == unimplementedGroup {
			// Listed by name under what happens instead.
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(o.Help) + `:\n(    .*\n)*    .*\b` + regexp.QuoteMeta(o.Name) + `( |\n)`).MatchString(help) {
				t.Errorf("help does not list %s under %q", o.Name, o.Help)
			}
			continue
		}
		if !strings.Contains(help, "--"+o.Name+" ") && !strings.Contains(help, "--"+o.Name+"\n") {
			t.Errorf("help does not list --%s", o.Name)
		}
		for _, a := range o.Aliases {
			if !strings.Contains(help, "--"+a) {
				t.Errorf("help does not mention alias --%s", a)
			}
		}
		if o.Short != 0 && !strings.Contains(help, "-"+string(o.Short)+", --"+o.Name) {
			t.Errorf("help does not show -%c for --%s", o.Short, o.Name)
		}
		if o.Meta != "" && !strings.Contains(help, "--"+o.Name+" "+o.Meta) {
			t.Errorf("help does not show --%s %s", o.Name, o.Meta)
		}
		if !strings.Contains(help, o.Help) {
			t.Errorf("help does not include the text of --%s", o.Name)
		}
		if o.Default != "" && !strings.Contains(help, "default "+o.Default) {
			t.Errorf("help does not show the default of --%s", o.Name)
		}
		if o.UWSGI != "" && !strings.Contains(help, o.UWSGI) {
			t.Errorf("help does not include the uWSGI note of --%s", o.Name)
		}
		if o.Kind == Int && o.Max != 0 && !strings.Contains(help, strconv.FormatInt(o.Min, 10)+" to "+strconv.FormatInt(o.Max, 10)) {
			t.Errorf("help does not show the range of --%s", o.Name)
		}
	}
	// Sections come in the fixed order and each option under its own.
	last := -1
	for _, g := range groupOrder {
		i := strings.Index(help, "\n"+g+":\n")
		if i < 0 || i < last {
			t.Errorf("section %s missing or out of order", g)
		}
		last = i
	}
	sockets, pypy := strings.Index(help, "\nSockets:\n"), strings.Index(help, "\nPyPy:\n")
	if i := strings.Index(help, "--http-socket"); i < sockets || i > pypy {
		t.Error("--http-socket is not listed under Sockets")
	}
}

func TestHelpListsNewGroups(t *testing.T) {
	saved := Table
	defer func() { Table = saved }()
	Table = append(append([]Option{}, saved...), Option{Name: "brand-new", Kind: Flag, Group: "Experimental", Help: "a row added later"})
	var b bytes.Buffer
	WriteHelp(&b)
	if !strings.Contains(b.String(), "\nExperimental:\n      --brand-new") {
		t.Errorf("an option in a group missing from groupOrder is not in help:\n%s", b.String())
	}
	c := mustParse(t, []string{"--brand-new"})
	if !c.boolOf("brand-new") {
		t.Error("a row added to Table is not parsed")
	}
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{
		"http-sockt":     "http-socket",
		"htpt-socket":    "http-socket",
		"trheads":        "threads",
		"thread":         "threads",
		"pypy-wsgi-fil":  "pypy-wsgi-file",
		"HTTP-SOCKET":    "http-socket",
		"http_socket":    "http-socket",
		"pypy-pythonpth": "pypy-pythonpath",
		"caesar":         "",
		"x":              "",
		"mastr":          "master",
		"proceses":       "processes",
	} {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"abcd", "acbd", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
