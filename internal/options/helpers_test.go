package options

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func mustParse(t *testing.T, args []string, environ ...string) *Config {
	t.Helper()
	c, err := Parse(args, environ)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", args, environ, err)
	}
	return c
}

// parseError returns the error text, failing the test if there was none.
func parseError(t *testing.T, args []string, environ ...string) string {
	t.Helper()
	c, err := Parse(args, environ)
	if err == nil {
		t.Fatalf("Parse(%q, %q) succeeded with %+v, want an error", args, environ, c.Settings)
	}
	return err.Error()
}

func wantError(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("error:\n got: %s\nwant: %s", got, want)
	}
}

func wantErrorContains(t *testing.T, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Errorf("error %q does not contain %q", got, p)
		}
	}
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// writeFile writes a file under dir and returns its absolute path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// values lists "name=value" for every setting, to check order at a glance.
func values(c *Config) []string {
	var out []string
	for _, s := range c.Settings {
		out = append(out, s.Opt.Name+"="+s.Value)
	}
	return out
}

func notices(c *Config) []string {
	var out []string
	for _, n := range c.Notices {
		out = append(out, n.String())
	}
	return out
}

func origins(c *Config) []string {
	var out []string
	for _, s := range c.Settings {
		out = append(out, s.Origin)
	}
	return out
}

// The ordered list read by option name, as the parse tests check it: what was recorded,
// before the typed settings (settings_test.go) are made of it.

// has reports whether the option was given at all (name or alias).
func (c *Config) has(name string) bool { return c.lastSetting(name) != nil }

// get returns the last value given, else the option's Default.
func (c *Config) get(name string) string {
	if s := c.lastSetting(name); s != nil {
		return s.Value
	}
	return mustLookup(name).Default
}

// all returns every value given, in order.
func (c *Config) all(name string) []string {
	var out []string
	for _, s := range c.seq(name) {
		out = append(out, s.Value)
	}
	return out
}

// intOf returns get as a number, 0 if it is none.
func (c *Config) intOf(name string) int64 {
	n, _ := strconv.ParseInt(c.get(name), 10, 64)
	return n
}

// boolOf returns a Flag's last value (set writes them as true or false), else its Default.
func (c *Config) boolOf(name string) bool { return c.get(name) == "true" }

// seq returns the settings of any of the named options, in the order given.
func (c *Config) seq(names ...string) []Setting {
	want := map[string]bool{}
	for _, n := range names {
		want[mustLookup(n).Name] = true
	}
	var out []Setting
	for _, s := range c.Settings {
		if want[s.Opt.Name] {
			out = append(out, s)
		}
	}
	return out
}
