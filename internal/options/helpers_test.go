package options

import (
	"os"
	"path/filepath"
	"reflect"
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
