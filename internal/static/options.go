package static

import (
	"bufio"
	"fmt"
	"log"
	"mime"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"uwsgo/internal/options"
)

// New compiles the static-file options; nil when none maps a path. Every option is
// read here and nowhere else.
func New(cfg *options.Config, logger *log.Logger) (*Handler, error) {
	opts := &cfg.Static
	h := &Handler{
		index:     opts.Index,
		dotfiles:  opts.Dotfiles,
		gzipAll:   opts.GzipAll,
		immutable: opts.Immutable,
		expires:   opts.Expires,
		added:     cfg.HTTP.AddHeaders,
		log:       logger,
	}
	for _, sm := range opts.Maps {
		m, err := newMount(sm)
		if err != nil {
			return nil, err
		}
		h.mounts = append(h.mounts, m)
	}
	// Longest prefix first; the check-static directories, which match every path, last.
	sort.SliceStable(h.mounts, func(i, j int) bool { return len(h.mounts[i].prefix) > len(h.mounts[j].prefix) })
	for _, d := range opts.Check {
		dir, err := absDir("check-static", d)
		if err != nil {
			return nil, err
		}
		h.mounts = append(h.mounts, &mount{option: "check-static " + d, dir: dir})
	}
	if len(h.mounts) == 0 {
		return nil, nil
	}
	for _, idx := range h.index {
		if idx == "" || strings.ContainsAny(idx, "/\\\x00") || idx == "." || idx == ".." {
			return nil, fmt.Errorf("static-index %q: a file name is needed, without \"/\"", idx)
		}
	}
	for _, ext := range opts.SkipExt {
		if ext == "" {
			return nil, fmt.Errorf("static-skip-ext: an extension is needed, e.g. .php")
		}
		h.skipExt = append(h.skipExt, ext)
	}
	for _, d := range opts.Safe {
		dir, err := absDir("static-safe", d)
		if err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		h.safe = append(h.safe, dir)
	}
	for _, d := range opts.GzipDirs {
		dir, err := absDir("static-gzip-dir", d)
		if err != nil {
			return nil, err
		}
		h.gzipDirs = append(h.gzipDirs, dir)
	}
	for _, f := range opts.MimeFiles {
		if err := h.readMimeFile(f); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// newMount checks a --static-map's mountpoint and finds its path.
func newMount(sm options.StaticMap) (*mount, error) {
	opt := sm.Option()
	if _, ok := cleanPath(sm.Prefix, false, true); !ok {
		return nil, fmt.Errorf("%s: the mountpoint %q has a \".\" or \"..\" segment or a control character", opt, sm.Prefix)
	}
	abs, err := absDir(opt, sm.Path)
	if err != nil {
		return nil, err
	}
	m := &mount{option: opt, prefix: strings.TrimRight(sm.Prefix, "/"), dir: abs, whole: sm.Whole}
	// A file is served for its mountpoint alone; anything else (a directory, or nothing
	// yet) is a directory, opened when first needed.
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		m.file = true
	}
	return m, nil
}

func absDir(opt, d string) (string, error) {
	if d == "" {
		return "", fmt.Errorf("%s: a path is needed", opt)
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("%s %q: %v", opt, d, err)
	}
	return abs, nil
}

// expires says whether a --static-expires* rule applies to a file.
func expires(e *options.Expiry, fsName, uri, ctype string) bool {
	switch e.Match {
	case options.ByContentType:
		base, _, _ := strings.Cut(ctype, ";")
		return strings.EqualFold(strings.TrimSpace(base), e.ContentType)
	case options.ByPath:
		return e.Pattern.MatchString(fsName)
	}
	return e.Pattern.MatchString(uri)
}

// readMimeFile reads a mime.types file: "type ext ext..." lines, # comments.
func (h *Handler) readMimeFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("mimefile: %v", err)
	}
	defer f.Close()
	if h.types == nil {
		h.types = map[string]string{}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		for _, ext := range fields[min(1, len(fields)):] {
			h.types["."+strings.ToLower(ext)] = fields[0]
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("mimefile %s: %v", name, err)
	}
	return nil
}

// mimeType is the Content-Type of a file: from the mimefile options, else Go's table and
// the system's (/etc/mime.types), else application/octet-stream, as nginx's default.
func (h *Handler) mimeType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if t, ok := h.types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
