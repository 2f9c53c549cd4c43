package instance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRelaunch(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	launcher := filepath.Join(t.TempDir(), "uwsgo-pypy")
	args := os.Args
	t.Cleanup(func() { os.Args, LibraryMode = args, false })

	check := func(name, binaryPath string, want []string, wantErr string) {
		t.Helper()
		got, err := Relaunch(binaryPath)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: got %q, %v; want an error mentioning %q", name, got, err, wantErr)
			}
			return
		}
		if err != nil || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}

	LibraryMode = false
	t.Setenv(LauncherEnv, launcher)
	check("binary", "", []string{self}, "")
	check("binary, --binary-path", "/opt/uwsgo", []string{"/opt/uwsgo"}, "")

	LibraryMode = true
	os.Args = []string{launcher, "--http-socket", ":9090"}
	check("library mode, the launcher", "", []string{self, launcher}, "")
	check("library mode, --binary-path", "./start.py", []string{"./start.py"}, "")
	os.Args = []string{"/somewhere/else.py"}
	check("library mode, an inherited UWSGO_LAUNCHER", "", nil, "--binary-path")
	t.Setenv(LauncherEnv, "")
	check("library mode, no launcher", "", nil, "--binary-path")
}
