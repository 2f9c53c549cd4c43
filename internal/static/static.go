// Package static serves files from disk without Python: uWSGI's static-map family
// (static-map, static-map2, check-static and the options that shape them).
//
// The options are compiled once, by New, into a Handler: the mounts sorted longest prefix
// first, the regular expressions compiled, the MIME types read. Serving is then a lookup
// and http.ServeContent, which does what browsers and caches rely on: ETag and
// Last-Modified with If-None-Match and If-Modified-Since (304), If-Match and
// If-Unmodified-Since (412), Range (206, multipart for several ranges, 416) and HEAD.
// The http.ResponseWriter is the server's (internal/server/static.go): it writes on the
// connection itself, the body of a larger file with sendfile(2), on the connection's
// goroutine. No Python thread is involved, so a slow reader costs a goroutine, never the
// app's.
//
// What uWSGI does, uwsgo does: a path that maps to no file, to a directory without a
// static-index, or to an extension in static-skip-ext goes on to the app. So does one
// refused for safety (a "." or ".." segment, an encoded "/", a backslash, a NUL, a dotfile
// unless static-dotfiles, a symbolic link leading out of its directory and not into a
// static-safe one): the file is never served, and the app answers as it would any path
// it does not know. There is no directory listing.
package static

import (
	"errors"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"uwsgo/internal/options"
)

// Handler answers the requests that map to a file.
type Handler struct {
	mounts    []*mount // longest prefix first; for equal prefixes, in the order given
	index     []string
	skipExt   []string
	safe      []string // real paths
	dotfiles  bool
	gzipAll   bool
	gzipDirs  []string // absolute
	expires   []options.Expiry
	immutable bool
	types     map[string]string // from mimefile, by extension with its dot
	added     [][2]string       // --add-header's, on every file as on every app response
	log       *log.Logger
}

// Serve answers r from disk if its path maps to a file, and reports whether it did;
// false leaves the request to the app. Only GET and HEAD are served. r.URL.RawPath,
// when not empty, is the path as an HTTP client sent it (percent-encoded); otherwise
// r.URL.Path is a path a proxy decoded (PATH_INFO from nginx).
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p, raw := r.URL.Path, r.URL.RawPath != ""
	if raw {
		p = r.URL.RawPath
	}
	p, ok := cleanPath(p, raw, h.dotfiles)
	if !ok {
		return false
	}
	for _, m := range h.mounts {
		rel, ok := m.rel(p)
		if !ok {
			continue
		}
		f, rel := h.find(m, rel)
		if f == nil {
			continue
		}
		h.send(w, r, m, f, rel)
		f.Close()
		return true
	}
	return false
}

// find opens the regular file rel names under m, or a directory's static-index.
func (h *Handler) find(m *mount, rel string) (*File, string) {
	f, dir := h.regular(m, rel)
	if f != nil || !dir {
		return f, rel
	}
	for _, idx := range h.index {
		r := strings.TrimSuffix(rel, "/") + "/" + idx
		if f, _ := h.regular(m, r); f != nil {
			return f, r
		}
	}
	return nil, ""
}

// regular opens rel if it is a regular file not skipped by extension; otherwise it
// returns no file, and whether a directory is there.
func (h *Handler) regular(m *mount, rel string) (*File, bool) {
	name := rel
	if m.file {
		name = m.dir
	}
	for _, ext := range h.skipExt {
		if strings.HasSuffix(name, ext) {
			return nil, false
		}
	}
	fd, err := m.open(rel, h.safe)
	if err != nil {
		if err == errOutside {
			h.log.Printf("static: security error: %s%s leads out of %s and is under no --static-safe directory", m.dir, rel, m.dir)
		}
		return nil, false
	}
	return regularFile(fd)
}

// regularFile takes fd if it is a regular file, and closes it otherwise.
func regularFile(fd int) (*File, bool) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
	}
	return &File{fd: fd, size: st.Size, mtime: time.Unix(st.Mtim.Unix())}, false
}

// send answers with the file (or its precompressed variant) and the headers the options
// ask for.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, m *mount, f *File, rel string) {
	name := rel
	if m.file {
		name = m.dir
	}
	fsName := m.dir + rel
	if m.file {
		fsName = m.dir
	}
	hdr := w.Header()
	ctype := h.mimeType(name)
	hdr["Content-Type"] = []string{ctype}
	if h.compresses(fsName) {
		hdr["Vary"] = []string{"Accept-Encoding"}
		br, gzip := acceptedEncodings(r.Header.Get("Accept-Encoding"))
		for _, v := range [...]struct {
			ok       bool
			enc, ext string
		}{{br, "br", ".br"}, {gzip, "gzip", ".gz"}} {
			if !v.ok {
				continue
			}
			if cf := h.variant(m, rel, v.ext); cf != nil {
				defer cf.Close()
				f = cf
				hdr["Content-Encoding"] = []string{v.enc}
				break
			}
		}
	}
	hdr["Etag"] = []string{etag(f)}
	// ServeContent leaves Content-Length out of a whole response with a Content-Encoding;
	// the file's size is right for it.
	hdr["Content-Length"] = []string{strconv.FormatInt(f.size, 10)}
	h.caching(hdr, name, fsName, r.RequestURI, ctype)
	for _, nv := range h.added {
		hdr.Add(nv[0], nv[1])
	}
	http.ServeContent(w, r, "", f.mtime, f)
}

// variant opens FILE.br or FILE.gz beside the file, if it is there.
func (h *Handler) variant(m *mount, rel, ext string) *File {
	if !m.file {
		f, _ := h.regular(m, rel+ext)
		return f
	}
	fd, err := openFile(m.dir + ext)
	if err != nil {
		return nil
	}
	f, _ := regularFile(fd)
	return f
}

// etag is nginx's: the modification time and the size, in hex.
func etag(f *File) string {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = strconv.AppendInt(b, f.mtime.Unix(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, f.size, 16)
	return string(append(b, '"'))
}

// acceptedEncodings reads Accept-Encoding: whether br and gzip are acceptable.
func acceptedEncodings(ae string) (br, gzip bool) {
	for ae != "" {
		var item string
		item, ae, _ = strings.Cut(ae, ",")
		coding, params, _ := strings.Cut(item, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && v == 0 {
				continue
			}
		}
		switch coding {
		case "br":
			br = true
		case "gzip", "x-gzip":
			gzip = true
		}
	}
	return br, gzip
}

func (h *Handler) compresses(fsName string) bool {
	return h.gzipAll || underAny(fsName, h.gzipDirs)
}

// caching adds Expires and Cache-Control: the first static-expires-type,
// static-expires or static-expires-uri that matches, and static-immutable's for hashed
// file names.
func (h *Handler) caching(hdr http.Header, name, fsName, uri, ctype string) {
	if h.immutable && hashed(name) {
		hdr["Cache-Control"] = []string{"public, max-age=31536000, immutable"}
		return
	}
	for i := range h.expires {
		if e := &h.expires[i]; expires(e, fsName, uri, ctype) {
			hdr["Expires"] = []string{time.Now().Add(e.After).UTC().Format(http.TimeFormat)}
			hdr["Cache-Control"] = []string{"max-age=" + strconv.FormatInt(int64(e.After/time.Second), 10)}
			return
		}
	}
}

// hashed reports a name carrying a content hash before its extension, as Django's
// ManifestStaticFilesStorage and bundlers write them: app.0123456789ab.css (8 to 64 hex
// digits).
func hashed(name string) bool {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return false
	}
	stem := name[:dot]
	prev := strings.LastIndexByte(stem, '.')
	if prev < 0 || strings.Contains(stem[prev:], "/") {
		return false
	}
	hash := stem[prev+1:]
	if len(hash) < 8 || len(hash) > 64 {
		return false
	}
	for i := 0; i < len(hash); i++ {
		if _, ok := unhex(hash[i]); !ok {
			return false
		}
	}
	return true
}

// File is an open regular file as http.ServeContent gets it. It reads with pread on the
// bare descriptor and knows its size, so that ServeContent's seeks (to learn the size, to
// reach a range) cost no system call; an *os.File is made only for sendfile(2), which
// the server's writer does with the Section it finds behind ServeContent's
// io.LimitedReader.
type File struct {
	fd    int
	os    *os.File // made by Section
	size  int64
	mtime time.Time
	next  int64 // the offset the next Read reads at
}

func (f *File) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := unix.Pread(f.fd, p, f.next)
	for err == unix.EINTR {
		n, err = unix.Pread(f.fd, p, f.next)
	}
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	f.next += int64(n)
	return n, nil
}

// Seek only moves the offset Read reads at.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.next
	case io.SeekEnd:
		offset += f.size
	}
	if offset < 0 {
		return 0, errors.New("static: seek before the start of the file")
	}
	f.next = offset
	return offset, nil
}

// Section is the file and the offset the next Read would read at.
func (f *File) Section() (*os.File, int64) {
	if f.os == nil {
		f.os = os.NewFile(uintptr(f.fd), "static file")
	}
	return f.os, f.next
}

// Close closes the descriptor.
func (f *File) Close() error {
	if f.os != nil {
		return f.os.Close()
	}
	return unix.Close(f.fd)
}
