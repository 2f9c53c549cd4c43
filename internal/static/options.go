package static

import (
	"bufio"
	"fmt"
	"log"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"uwsgo/internal/options"
)

// New compiles the static-file options; nil when none maps a path. Every option is
// read here and nowhere else.
func New(cfg *options.Config, logger *log.Logger) (*Handler, error) {
	h := &Handler{
		index:     cfg.All("static-index"),
		dotfiles:  cfg.Bool("static-dotfiles"),
		gzipAll:   cfg.Bool("static-gzip-all"),
		immutable: cfg.Bool("static-immutable"),
		log:       logger,
	}
	for _, s := range cfg.Seq("static-map", "static-map2") {
		m, err := parseMap(s.Opt.Name, s.Value, s.Opt.Name == "static-map2")
		if err != nil {
			return nil, err
		}
		h.mounts = append(h.mounts, m)
	}
	// Longest prefix first; the check-static directories, which match every path, last.
	sort.SliceStable(h.mounts, func(i, j int) bool { return len(h.mounts[i].prefix) > len(h.mounts[j].prefix) })
	for _, d := range cfg.All("check-static") {
		dir, err := absDir("check-static", d)
		if err != nil {
			return nil, err
		}
		h.mounts = append(h.mounts, &mount{option: "check-static " + d, dir: dir})
	}
	if len(h.mounts) == 0 {
		return nil, nil
	}
	for _, v := range cfg.All("add-header") {
		name, value, _ := strings.Cut(v, ":") // the option's Check saw the colon
		h.added = append(h.added, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	for _, idx := range h.index {
		if idx == "" || strings.ContainsAny(idx, "/\\\x00") || idx == "." || idx == ".." {
			return nil, fmt.Errorf("static-index %q: a file name is needed, without \"/\"", idx)
		}
	}
	for _, ext := range cfg.All("static-skip-ext") {
		if ext == "" {
			return nil, fmt.Errorf("static-skip-ext: an extension is needed, e.g. .php")
		}
		h.skipExt = append(h.skipExt, ext)
	}
	for _, d := range cfg.All("static-safe") {
		dir, err := absDir("static-safe", d)
		if err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		h.safe = append(h.safe, dir)
	}
	for _, d := range cfg.All("static-gzip-dir") {
		dir, err := absDir("static-gzip-dir", d)
		if err != nil {
			return nil, err
		}
		h.gzipDirs = append(h.gzipDirs, dir)
	}
	for _, s := range cfg.Seq("static-expires-type", "static-expires", "static-expires-uri") {
		e, err := parseExpiry(s.Opt.Name, s.Value)
		if err != nil {
			return nil, err
		}
		h.expires = append(h.expires, e)
	}
	for _, f := range cfg.All("mimefile") {
		if err := h.readMimeFile(f); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// parseMap reads MOUNTPOINT=PATH.
func parseMap(opt, v string, whole bool) (*mount, error) {
	prefix, dir, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(prefix, "/") || dir == "" {
		return nil, fmt.Errorf("%s %q: expected /MOUNTPOINT=DIR (or =FILE), e.g. /static=/srv/app/static", opt, v)
	}
	if _, ok := cleanPath(prefix, false, true); !ok {
		return nil, fmt.Errorf("%s %q: the mountpoint %q has a \".\" or \"..\" segment or a control character", opt, v, prefix)
	}
	abs, err := absDir(opt, dir)
	if err != nil {
		return nil, err
	}
	m := &mount{option: opt + " " + v, prefix: strings.TrimRight(prefix, "/"), dir: abs, whole: whole}
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

// expiry is one static-expires* rule: what it matches and how long the response may be
// cached.
type expiry struct {
	kind  string // the option
	re    *regexp.Regexp
	ctype string
	after time.Duration
}

func (e *expiry) matches(fsName, uri, ctype string) bool {
	switch e.kind {
	case "static-expires-type":
		base, _, _ := strings.Cut(ctype, ";")
		return strings.EqualFold(strings.TrimSpace(base), e.ctype)
	case "static-expires":
		return e.re.MatchString(fsName)
	}
	return e.re.MatchString(uri)
}

// parseExpiry reads MIME=SECONDS (static-expires-type) or REGEXP SECONDS.
func parseExpiry(opt, v string) (expiry, error) {
	e := expiry{kind: opt}
	sep, want := " ", "REGEXP SECONDS"
	if opt == "static-expires-type" {
		sep, want = "=", "MIME=SECONDS"
	}
	i := strings.LastIndex(v, sep)
	if i <= 0 {
		return e, fmt.Errorf("%s %q: expected %s", opt, v, want)
	}
	pattern, secs := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:])
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || n < 0 {
		return e, fmt.Errorf("%s %q: %q is not a number of seconds (expected %s)", opt, v, secs, want)
	}
	e.after = time.Duration(n) * time.Second
	if opt == "static-expires-type" {
		e.ctype = pattern
		return e, nil
	}
	if e.re, err = regexp.Compile(pattern); err != nil {
		return e, fmt.Errorf("%s %q: %v", opt, v, err)
	}
	return e, nil
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
