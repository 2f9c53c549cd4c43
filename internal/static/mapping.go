package static

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// cleanPath turns a request path into the one looked up under a mount, or refuses it.
// raw is a path as an HTTP client sent it, still percent-encoded; otherwise it was decoded
// already (nginx's PATH_INFO). Refused: anything not starting with "/", a "." or ".."
// segment, a backslash, a NUL, a control character, an encoded "/" (a name cannot hold
// one), a malformed escape, and a segment starting with "." unless dotfiles are allowed.
// A refused path is not a static file: the app gets the request, as from uWSGI.
func cleanPath(p string, raw, dotfiles bool) (string, bool) {
	if raw && strings.IndexByte(p, '%') >= 0 {
		var ok bool
		if p, ok = unescape(p); !ok {
			return "", false
		}
	}
	if len(p) == 0 || p[0] != '/' {
		return "", false
	}
	seg := 1 // the start of the current segment
	for i := 1; i <= len(p); i++ {
		if i < len(p) {
			c := p[i]
			if c < 0x20 || c == 0x7f || c == '\\' {
				return "", false
			}
			if c != '/' {
				continue
			}
		}
		s := p[seg:i]
		if s == "." || s == ".." || (len(s) > 0 && s[0] == '.' && !dotfiles) {
			return "", false
		}
		seg = i + 1
	}
	return p, true
}

// unescape decodes %XX; an escape that is malformed or decodes to "/" is refused.
func unescape(p string) (string, bool) {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b = append(b, p[i])
			continue
		}
		if i+2 >= len(p) {
			return "", false
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		c := hi<<4 | lo
		if !ok1 || !ok2 || c == '/' {
			return "", false
		}
		b = append(b, c)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// mount is one static-map, static-map2 or check-static: a URL prefix and the directory
// (or file) it maps to.
type mount struct {
	option string // how it was given, for messages: "static-map /s=/srv/s"
	prefix string // without a trailing "/"; "" matches every path (check-static)
	dir    string // absolute
	file   bool   // dir names a file, served for the prefix itself only
	whole  bool   // static-map2: the whole path is looked up under dir, prefix included

	// The directory is opened on first use, not at startup: a media directory that a
	// deployment creates after the server starts is served once it exists.
	mu sync.Mutex
	fd int // 0: not open yet
}

// rel is where the path p falls under m: the part looked up in m.dir ("" for the
// directory itself). A prefix matches whole segments only: /static is not /staticfoo.
func (m *mount) rel(p string) (string, bool) {
	if !strings.HasPrefix(p, m.prefix) {
		return "", false
	}
	rest := p[len(m.prefix):]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	switch {
	case m.file:
		return "", rest == ""
	case m.whole:
		return p, true
	}
	return rest, true
}

func (m *mount) dirFD() (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd > 0 {
		return m.fd, nil
	}
	fd, err := unix.Open(m.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	m.fd = fd
	return fd, nil
}

// errOutside is a path whose symbolic links lead out of its directory, and not into a
// static-safe one.
var errOutside = errors.New("outside its directory")

// open opens rel under m. The kernel resolves it (openat2 with RESOLVE_BENEATH), so no
// symbolic link leads out of the directory; one that tries is resolved here instead,
// and followed only into the directory itself or a static-safe one, as uWSGI does.
func (m *mount) open(rel string, safe []string) (int, error) {
	if m.file {
		return openFile(m.dir)
	}
	dfd, err := m.dirFD()
	if err != nil {
		return -1, err
	}
	name := strings.TrimLeft(rel, "/")
	if name == "" {
		name = "."
	}
	fd, err := unix.Openat2(dfd, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != unix.EXDEV && err != unix.ENOSYS {
		return fd, err
	}
	// An absolute link, a link out, or a kernel before 5.6.
	real, err := filepath.EvalSymlinks(filepath.Join(m.dir, name))
	if err != nil {
		return -1, err
	}
	root, err := filepath.EvalSymlinks(m.dir)
	if err != nil {
		return -1, err
	}
	if !under(real, root) && !underAny(real, safe) {
		return -1, errOutside
	}
	return openFile(real)
}

// openFile opens without blocking: a FIFO in a static directory must not hang the
// connection.
func openFile(name string) (int, error) {
	return unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir) && (strings.HasSuffix(dir, "/") || p[len(dir)] == '/')
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if under(p, d) {
			return true
		}
	}
	return false
}
