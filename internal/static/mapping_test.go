package static

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct {
		in       string
		raw      bool
		dotfiles bool
		want     string // "" for refused
	}{
		{"/a/b.css", true, false, "/a/b.css"},
		{"/", true, false, "/"},
		{"/a%20b.css", true, false, "/a b.css"},
		{"/%C3%A9.txt", true, false, "/é.txt"},
		{"/a/../b", true, false, ""},
		{"/a/%2e%2e/b", true, false, ""},
		{"/a/%2E%2E/b", true, false, ""},
		{"/a/%2e%2E", true, false, ""},
		{"/a/./b", true, false, ""},
		{"/..", true, false, ""},
		{"/a%2fb", true, false, ""},
		{"/a%2Fb", true, false, ""},
		{"/a%5c..%5cb", true, false, ""},
		{"/a\\b", true, false, ""},
		{"/a%00b", true, false, ""},
		{"/a%0ab", true, false, ""},
		{"/a%zz", true, false, ""},
		{"/a%2", true, false, ""},
		{"a/b", true, false, ""},
		{"", true, false, ""},
		{"/.env", true, false, ""},
		{"/.git/config", true, false, ""},
		{"/a/%2egit/config", true, false, ""},
		{"/.well-known/x", true, true, "/.well-known/x"},
		{"/a/../b", true, true, ""},
		{"/a/..", false, true, ""},
		// A decoded path (nginx's PATH_INFO) is taken as it is: its % is a character.
		{"/100%.txt", false, false, "/100%.txt"},
		{"/a/b", false, false, "/a/b"},
		{"/a/..", false, false, ""},
		{"/a//b", true, false, "/a//b"},
	} {
		got, ok := cleanPath(tc.in, tc.raw, tc.dotfiles)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("cleanPath(%q, raw=%v, dotfiles=%v) = %q, %v; want %q", tc.in, tc.raw, tc.dotfiles, got, ok, tc.want)
		}
	}
}

func TestMountRel(t *testing.T) {
	dir := &mount{prefix: "/static", dir: "/srv/s"}
	whole := &mount{prefix: "/static", dir: "/srv/s", whole: true}
	file := &mount{prefix: "/favicon.ico", dir: "/srv/f.ico", file: true}
	root := &mount{prefix: "", dir: "/srv/www"}
	for _, tc := range []struct {
		m    *mount
		in   string
		want string
		ok   bool
	}{
		{dir, "/static/a.css", "/a.css", true},
		{dir, "/static", "", true},
		{dir, "/static/", "/", true},
		{dir, "/staticfoo", "", false},
		{dir, "/other/a.css", "", false},
		{whole, "/static/a.css", "/static/a.css", true},
		{file, "/favicon.ico", "", true},
		{file, "/favicon.ico/x", "", false},
		{root, "/a/b.png", "/a/b.png", true},
		{root, "/", "/", true},
	} {
		got, ok := tc.m.rel(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s%s rel(%q) = %q, %v; want %q, %v", tc.m.prefix, tc.m.dir, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHashed(t *testing.T) {
	for name, want := range map[string]bool{
		"/css/app.0123456789ab.css": true,
		"/js/x.deadbeef.js":         true,
		"/app.css":                  false,
		"/app.0123.css":             false,
		"/app.0123456789az.css":     false,
		"/v.0123456789ab/app.css":   false,
		"/0123456789ab":             false,
	} {
		if got := hashed(name); got != want {
			t.Errorf("hashed(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestAcceptedEncodings(t *testing.T) {
	for ae, want := range map[string][2]bool{
		"":                    {false, false},
		"gzip":                {false, true},
		"gzip, deflate, br":   {true, true},
		"br;q=0, gzip":        {false, true},
		"gzip;q=0":            {false, false},
		"identity":            {false, false},
		"x-gzip":              {false, true},
		" GZIP ; q=0.5 ":      {false, true},
		"deflate, br;q=1.0  ": {true, false},
	} {
		if br, gzip := acceptedEncodings(ae); br != want[0] || gzip != want[1] {
			t.Errorf("acceptedEncodings(%q) = %v, %v; want %v", ae, br, gzip, want)
		}
	}
}

// FuzzCleanPath: whatever a client sends, a path that is accepted stays under the
// directory it is joined to and names no dotfile.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/a/b", "/a/%2e%2e/b", "/%2f", "/a\\b", "/.env", "/a%00", "//x", "/%252e%252e/"} {
		f.Add(s, true, false)
	}
	f.Fuzz(func(t *testing.T, p string, raw, dotfiles bool) {
		got, ok := cleanPath(p, raw, dotfiles)
		if !ok {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.ContainsAny(got, "\\\x00") {
			t.Fatalf("cleanPath(%q) = %q", p, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == "." || seg == ".." || (!dotfiles && strings.HasPrefix(seg, ".")) {
				t.Fatalf("cleanPath(%q) = %q: segment %q", p, got, seg)
			}
		}
		if j := filepath.Join("/srv/root", got); !under(j, "/srv/root") {
			t.Fatalf("cleanPath(%q) = %q leads to %q", p, got, j)
		}
		if raw && strings.Contains(strings.ToLower(p), "%2f") {
			t.Fatalf("cleanPath(%q) accepted an encoded slash", p)
		}
		for _, m := range []*mount{{prefix: "/s", dir: "/srv/root"}, {prefix: "/s", dir: "/srv/root", whole: true}, {dir: "/srv/root"}} {
			if rel, ok := m.rel(got); ok && !under(filepath.Join(m.dir, rel), m.dir) {
				t.Fatalf("%q maps to %q, outside %s", p, filepath.Join(m.dir, rel), m.dir)
			}
		}
	})
}
