package hooks

import (
	"bytes"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"uwsgo/internal/options"
)

func TestRunAndCheck(t *testing.T) {
	dir := t.TempDir()
	cfg, err := options.Parse([]string{
		"--hook-pre-app", "mkdir:" + filepath.Join(dir, "a", "b"),
		"--exec-pre-app", "echo shell >> " + filepath.Join(dir, "order"),
		"--hook-pre-app", "write:" + filepath.Join(dir, "a", "b", "f") + " two words",
		"--hook-pre-app", "print:hello",
		"--hook-master-start", "unix_signal:15 gracefully_kill_them_all",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Run(cfg, "pre-app", log.New(&out, "", 0)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a", "b", "f")); string(b) != "two words" {
		t.Errorf("write: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "order")); string(b) != "shell\n" {
		t.Errorf("exec: %q", b)
	}
	if out.String() != "hello\n" {
		t.Errorf("print: %q", out.String())
	}

	for args, want := range map[string]string{
		"--hook-asap=unix_signal:15 kill_them_all": "--hook-asap unix_signal:15 kill_them_all: uwsgo's signals are fixed",
		"--hook-asap=callret:foo":                  `--hook-asap callret:foo: uwsgo has no "callret" action`,
	} {
		cfg, err := options.Parse([]string{args}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(cfg); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Check(%s) = %v, want %q", args, err, want)
		}
	}
	cfg, _ = options.Parse([]string{"--exec-as-user", "exit 3"}, nil)
	if err := Run(cfg, "as-user", log.New(&out, "", 0)); err == nil || !strings.Contains(err.Error(), "--exec-as-user exit 3 (command line): exit status 3") {
		t.Errorf("a failing command: %v", err)
	}
}
