package static

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"uwsgo/internal/options"
)

func compile(t *testing.T, kv ...string) *Handler {
	t.Helper()
	var args []string
	for i := 0; i < len(kv); i += 2 {
		args = append(args, "--"+kv[i], kv[i+1])
	}
	cfg, err := options.Parse(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h *Handler, rawPath string) (*httptest.ResponseRecorder, bool) {
	r := httptest.NewRequest("GET", "http://x"+rawPath, nil)
	r.URL.RawPath = rawPath
	w := httptest.NewRecorder()
	return w, h.Serve(w, r)
}

func write(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Links are resolved by the kernel beneath the directory; one that needs resolving here
// (absolute) is followed when it stays inside, or leads into a static-safe directory.
func TestSymlinks(t *testing.T) {
	root := t.TempDir()
	dir, out, safe := filepath.Join(root, "s"), filepath.Join(root, "out"), filepath.Join(root, "safe")
	write(t, filepath.Join(dir, "a.txt"), "a")
	write(t, filepath.Join(out, "secret.txt"), "secret")
	write(t, filepath.Join(safe, "ok.txt"), "ok")
	for link, target := range map[string]string{
		"rel.txt":    "a.txt",
		"abs.txt":    filepath.Join(dir, "a.txt"),
		"up.txt":     "../out/secret.txt",
		"absout.txt": filepath.Join(out, "secret.txt"),
		"tosafe.txt": filepath.Join(safe, "ok.txt"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	h := compile(t, "static-map", "/s="+dir, "static-safe", safe)
	for path, want := range map[string]string{
		"/s/rel.txt": "a", "/s/abs.txt": "a", "/s/tosafe.txt": "ok",
		"/s/up.txt": "", "/s/absout.txt": "",
	} {
		w, served := get(h, path)
		if want == "" {
			if served {
				t.Errorf("%s: served %q; want it left to the app", path, w.Body.String())
			}
			continue
		}
		if !served || w.Code != http.StatusOK || w.Body.String() != want {
			t.Errorf("%s: served=%v %d %q; want %q", path, served, w.Code, w.Body.String(), want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, kv := range [][2]string{
		{"static-map", "static=/srv"},
		{"static-map", "/static"},
		{"static-map", "/a/../b=/srv"},
		{"static-expires", "\\.css"},
		{"static-expires", "( 10"},
		{"static-expires-uri", "\\.css soon"},
		{"static-expires-type", "text/css"},
		{"mimefile", "/nonexistent/mime.types"},
	} {
		// Some values the options refuse, the others New.
		cfg, err := options.Parse([]string{"--static-map", "/ok=/srv", "--" + kv[0], kv[1]}, nil)
		if err == nil {
			_, err = New(cfg, log.New(io.Discard, "", 0))
		}
		if err == nil {
			t.Errorf("%s %q: accepted", kv[0], kv[1])
		} else {
			t.Logf("%s %q: %v", kv[0], kv[1], err)
		}
	}
}
