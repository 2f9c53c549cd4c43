package proto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

const (
	// DefaultMaxHeadBytes is used when Limits.MaxHeadBytes is not set. It
	// matches uWSGI's default buffer-size, which bounds a request head there.
	DefaultMaxHeadBytes = 4096
	minHeadBytes        = 1024
	// The head limit doubles as the guarantee that no var AppendVars emits
	// can overflow its 16-bit length, so it may never exceed MaxVarLen.
	maxHeadBytes = MaxVarLen

	// maxHeaderFields bounds the quadratic duplicate grouping in AppendVars
	// (and the per-request work in general). 100 is Apache's long-standing
	// LimitRequestFields default, so real clients stay well below it.
	maxHeaderFields = 100

	// RFC 9112 §2.2 asks servers to ignore at least one empty line before
	// the request line (clients that append CRLF after a POST body); more
	// than a few is not a client quirk but garbage.
	maxLeadingEmptyLines = 4
)

// Limits bounds what a peer may make the parser buffer.
type Limits struct {
	// MaxHeadBytes bounds the request line plus header section, every line
	// terminator and the final empty line included. Zero or negative means
	// DefaultMaxHeadBytes; other values are clamped to 1024..65535.
	MaxHeadBytes int
}

func (l Limits) headLimit() int {
	switch n := l.MaxHeadBytes; {
	case n <= 0:
		return DefaultMaxHeadBytes
	case n < minHeadBytes:
		return minHeadBytes
	case n > maxHeadBytes:
		return maxHeadBytes
	default:
		return n
	}
}

// Error is a malformed or unsupported request: Status is the 4xx/5xx to
// answer with before closing the connection, Reason a short explanation
// suitable for a log line or a plain-text body.
//
// The values ReadRequest and the chunked reader return are shared, so that
// rejecting garbage costs no allocation: treat them as read-only.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string {
	return "proto: " + strconv.Itoa(e.Status) + " " + e.Reason
}

var (
	errBadRequestLine = &Error{400, "malformed request line"}
	errBadMethod      = &Error{400, "invalid method"}
	errBadTarget      = &Error{400, "invalid request-target"}
	errBadVersion     = &Error{400, "malformed HTTP version"}
	errVersion        = &Error{505, "HTTP version not supported"}
	errNULInPath      = &Error{400, "NUL (%00) in the path"}
	errTooManyEmpty   = &Error{400, "too many empty lines before request line"}
	errURITooLong     = &Error{414, "request line too long"}
	errHeadTooLarge   = &Error{431, "request header section too large"}
	errTooManyFields  = &Error{431, "too many header fields"}
	errObsFold        = &Error{400, "obsolete line folding in header section"}
	errBadFieldName   = &Error{400, "malformed header field name"}
	errBadFieldValue  = &Error{400, "invalid character in header field value"}
	errNoHost         = &Error{400, "missing Host header"}
	errManyHosts      = &Error{400, "multiple Host headers"}
	errBadHost        = &Error{400, "invalid Host header"}
	errBadLength      = &Error{400, "invalid Content-Length"}
	errLengthMismatch = &Error{400, "conflicting Content-Length values"}
	errLengthAndTE    = &Error{400, "both Content-Length and Transfer-Encoding"}
	errTEOnHTTP10     = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errTEUnsupported  = &Error{501, "unsupported Transfer-Encoding"}
	errExpectation    = &Error{417, "unsupported expectation"}

	// errLineTooLong never leaves the package: the caller knows whether it
	// was reading the request line (414) or the header section (431).
	errLineTooLong = errors.New("line too long")
)

// Header is one header field line as received. Name and Value alias the
// Request's buffer; Value has no leading or trailing whitespace.
type Header struct{ Name, Value []byte }

// Request is a parsed request head. Every byte slice aliases a buffer the
// Request owns and reuses, so it stays valid until the next ReadRequest
// with the same Request, and no longer. After an error the fields are
// unspecified.
type Request struct {
	Method []byte
	// Target is the raw request-target, used as REQUEST_URI.
	Target []byte
	// Path and Query are the raw (not percent-decoded) parts of Target
	// around the first '?'. For an absolute-form target
	// ("GET http://host/p?q") Path is "/p" and Host is the URI's authority,
	// which RFC 9112 §3.2.2 says overrides the Host header.
	Path, Query            []byte
	ProtoMajor, ProtoMinor int
	// Headers are all header fields in the order received, including the
	// ones AppendVars translates or drops.
	Headers []Header
	// Host is the effective host (Host header or absolute-form authority),
	// validated as uri-host [":" port]; empty when neither was sent.
	Host []byte
	// ContentLength is -1 when no Content-Length header was sent.
	ContentLength int64
	// Chunked reports "Transfer-Encoding: chunked"; the body must then be
	// read through a chunked reader.
	Chunked bool
	// Close reports that the connection must close after the response:
	// "Connection: close", or HTTP/1.0 without keep-alive.
	Close bool
	// KeepAlive10 is an HTTP/1.0 request with "Connection: keep-alive"; the
	// response must then carry "Connection: keep-alive" too.
	KeepAlive10 bool
	// ExpectContinue is "Expect: 100-continue" on HTTP/1.1: the server
	// sends "100 Continue" before reading the body.
	ExpectContinue bool

	buf     []byte
	meta    []fieldMeta // parallel to Headers
	absForm bool        // Target was absolute-form, Host came from it
	hosts   int         // number of Host header fields
}

// fieldMeta is what AppendVars needs to know about a header field without
// looking at its name again: what it means, and a case-folded hash that
// makes most duplicate checks a single integer compare (see nameHash).
type fieldMeta struct {
	hash uint32
	kind uint8
}

const (
	kindOther uint8 = iota
	kindHost
	kindContentLength
	kindContentType
	kindTransferEncoding
	kindConnection
	kindExpect
	kindCookie
	kindDrop // a name with '_', or Proxy: never reaches the application
)

// headState accumulates the header fields whose meaning only settles once
// the whole section has been read.
type headState struct {
	teElems        int
	teBad          bool
	te             bool
	close          bool
	keepAlive      bool
	expectContinue bool
	expectBad      bool
}

func (req *Request) reset(limit int) {
	// Sizing the buffer to the limit up front means appends never
	// reallocate it, so slices taken from earlier lines stay valid while
	// later lines are read.
	if cap(req.buf) < limit {
		req.buf = make([]byte, 0, limit)
	} else {
		req.buf = req.buf[:0]
	}
	if req.Headers == nil {
		req.Headers = make([]Header, 0, 16)
		req.meta = make([]fieldMeta, 0, 16)
	}
	*req = Request{
		Headers:       req.Headers[:0],
		ContentLength: -1,
		buf:           req.buf,
		meta:          req.meta[:0],
	}
}

// ReadRequest reads one request head from r into req, reusing req's
// buffers.
//
// It returns io.EOF, unwrapped, when the peer closed the connection before
// starting a new request (only empty lines, or nothing, were received), and
// io.ErrUnexpectedEOF when it closed in the middle of a head. A malformed
// or unsupported head yields an *Error carrying the status to answer.
// Other read errors are returned as they are.
//
// It consumes exactly the head, up to and including the empty line that
// ends it, so the body or the next pipelined request is left in r.
func ReadRequest(r *bufio.Reader, lim Limits, req *Request) error {
	limit := lim.headLimit()
	req.reset(limit)

	var line []byte
	for empty := 0; ; empty++ {
		var err error
		line, err = req.readLine(r, limit)
		if err != nil {
			if err == errLineTooLong {
				return errURITooLong
			}
			return err
		}
		if len(line) > 0 {
			break
		}
		if empty == maxLeadingEmptyLines {
			return errTooManyEmpty
		}
		// Leading empty lines are not part of the request: they do not
		// count against the head limit.
		req.buf = req.buf[:0]
	}
	if e := req.parseRequestLine(line); e != nil {
		return e
	}

	var st headState
	for {
		line, err := req.readLine(r, limit)
		if err != nil {
			switch err {
			case errLineTooLong:
				return errHeadTooLarge
			case io.EOF:
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		if len(req.Headers) == maxHeaderFields {
			return errTooManyFields
		}
		if e := req.parseField(line, &st); e != nil {
			return e
		}
	}
	if e := req.finish(&st); e != nil {
		return e
	}
	return nil
}

// readLine appends the next line to req.buf and returns it without its
// terminator (LF, or CRLF). A CR anywhere else stays in the line, where the
// syntax checks reject it. It fails with errLineTooLong as soon as the head
// would exceed limit, without reading further.
func (req *Request) readLine(r *bufio.Reader, limit int) ([]byte, error) {
	start := len(req.buf)
	for {
		frag, err := r.ReadSlice('\n')
		if len(req.buf)+len(frag) > limit {
			return nil, errLineTooLong
		}
		req.buf = append(req.buf, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(req.buf) == start {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line := req.buf[start : len(req.buf)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func (req *Request) parseRequestLine(line []byte) *Error {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return errBadRequestLine
	}
	method, rest := line[:sp], line[sp+1:]
	if !isToken(method) {
		return errBadMethod
	}
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		// Includes HTTP/0.9's "GET /path", which has no version at all.
		return errBadRequestLine
	}
	target, version := rest[:sp], rest[sp+1:]
	if len(target) == 0 {
		// Two spaces in a row: exactly one SP separates the parts.
		return errBadRequestLine
	}
	for _, c := range target {
		if !targetChars[c] {
			return errBadTarget
		}
	}
	// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. A well-formed
	// version with another major number is a protocol we do not speak
	// (505); anything else is not HTTP/1 framing at all (400).
	if len(version) != 8 || string(version[:5]) != "HTTP/" ||
		!isDigit(version[5]) || version[6] != '.' || !isDigit(version[7]) {
		return errBadVersion
	}
	// HTTP/1.2 and on do not exist: nginx refuses them, and taking them as 1.1
	// would answer a client that speaks something else as if it spoke 1.1.
	if version[5] != '1' || version[7] > '1' {
		return errVersion
	}
	req.ProtoMajor = 1
	req.ProtoMinor = int(version[7] - '0')
	req.Method = method
	req.Target = target
	if e := req.splitTarget(target); e != nil {
		return e
	}
	// A NUL decoded into PATH_INFO ends the path early for C code and file
	// systems; nginx refuses it too.
	if bytes.Contains(req.Path, []byte("%00")) {
		return errNULInPath
	}
	return nil
}

func (req *Request) splitTarget(t []byte) *Error {
	var slash []byte
	switch {
	case t[0] == '/':
		// origin-form
	case len(t) == 1 && t[0] == '*':
		// asterisk-form exists only for server-wide OPTIONS.
		if string(req.Method) != "OPTIONS" {
			return errBadTarget
		}
		req.Path = t
		return nil
	default:
		// absolute-form; authority-form (CONNECT) is not served.
		var scheme int
		switch {
		case len(t) >= 7 && equalFoldString(t[:7], "http://"):
			scheme = 4
		case len(t) >= 8 && equalFoldString(t[:8], "https://"):
			scheme = 5
		default:
			return errBadTarget
		}
		// An empty path means "/" (RFC 9112 §3.2.1); the last '/' of
		// "://" provides one that, like every other slice, lives in the
		// request's own buffer.
		slash = t[scheme+2 : scheme+3 : scheme+3]
		rest := t[scheme+3:]
		end := 0
		for end < len(rest) && rest[end] != '/' && rest[end] != '?' {
			end++
		}
		auth := rest[:end]
		// An http URI needs a non-empty host; userinfo ('@') is rejected by
		// splitHost since RFC 9110 §4.2.4 deprecates it.
		if len(auth) == 0 {
			return errBadTarget
		}
		if _, _, ok := splitHost(auth); !ok {
			return errBadTarget
		}
		req.absForm = true
		req.Host = auth
		t = rest[end:]
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		req.Path, req.Query = t[:q], t[q+1:]
	} else {
		req.Path = t
	}
	if len(req.Path) == 0 {
		req.Path = slash
	}
	return nil
}

func (req *Request) parseField(line []byte, st *headState) *Error {
	if line[0] == ' ' || line[0] == '\t' {
		// obs-fold (RFC 9112 §5.2): a continuation line, or whitespace
		// before the first field name, which could hide a field from one
		// parser and not from another.
		return errObsFold
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return errBadFieldName
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	// Also catches whitespace before the colon (RFC 9112 §5.1).
	if !isToken(name) {
		return errBadFieldName
	}
	if !validValue(value) {
		return errBadFieldValue
	}

	kind := classify(name, bytes.IndexByte(name, '_') >= 0)
	switch kind {
	case kindHost:
		req.hosts++
	case kindContentLength:
		for v, more := value, true; more; {
			var elem []byte
			elem, v, more = nextListElem(v)
			n, ok := parseDecimal(elem)
			if !ok {
				return errBadLength
			}
			// Repeats are tolerated only when they cannot be read two ways
			// (RFC 9112 §6.3).
			if req.ContentLength >= 0 && n != req.ContentLength {
				return errLengthMismatch
			}
			req.ContentLength = n
		}
	case kindTransferEncoding:
		st.te = true
		for v, more := value, true; more; {
			var elem []byte
			elem, v, more = nextListElem(v)
			st.teElems++
			if !equalFoldString(elem, "chunked") {
				st.teBad = true
			}
		}
	case kindConnection:
		for v, more := value, true; more; {
			var elem []byte
			elem, v, more = nextListElem(v)
			if equalFoldString(elem, "close") {
				st.close = true
			} else if equalFoldString(elem, "keep-alive") {
				st.keepAlive = true
			}
		}
	case kindExpect:
		for v, more := value, true; more; {
			var elem []byte
			elem, v, more = nextListElem(v)
			if equalFoldString(elem, "100-continue") {
				st.expectContinue = true
			} else if len(elem) > 0 {
				st.expectBad = true
			}
		}
	}
	req.Headers = append(req.Headers, Header{Name: name, Value: value})
	req.meta = append(req.meta, fieldMeta{hash: nameHash(name), kind: kind})
	return nil
}

// nameHash is a prefilter for comparing field names case-insensitively:
// length and three folded bytes, enough to tell apart the names real
// clients send, at constant cost. Equal hashes are confirmed byte by byte,
// so crafted collisions only cost what maxHeaderFields allows.
func nameHash(name []byte) uint32 {
	n := len(name)
	if n == 0 {
		return 0
	}
	return uint32(n)<<24 | uint32(lowerChars[name[0]])<<16 |
		uint32(lowerChars[name[n/2]])<<8 | uint32(lowerChars[name[n-1]])
}

// validValue reports whether v holds only field-content bytes (valueChars).
// Values are most of a head's bytes, so it checks eight at a time: a word
// with no byte below 0x20 and no DEL is valid outright; otherwise the
// bytes from there on are checked one by one, which also admits HTAB.
func validValue(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(v) >= 8 {
		x := binary.LittleEndian.Uint64(v)
		del := x ^ (0x7f * ones)
		if (x-0x20*ones)&^x&highs != 0 || (del-ones)&^del&highs != 0 {
			break
		}
		v = v[8:]
	}
	for _, c := range v {
		if !valueChars[c] {
			return false
		}
	}
	return true
}

// finish applies the rules that depend on the header section as a whole.
func (req *Request) finish(st *headState) *Error {
	switch {
	case req.hosts > 1:
		return errManyHosts
	case req.hosts == 0 && req.ProtoMinor == 1:
		return errNoHost
	case req.hosts == 1:
		v := req.fieldValue(kindHost)
		if _, _, ok := splitHost(v); !ok {
			return errBadHost
		}
		if !req.absForm {
			req.Host = v
		}
	}
	if st.te {
		// Two framings, or chunked framing an HTTP/1.0 intermediary cannot
		// have meant, are how requests get smuggled past proxies: refuse
		// rather than pick one (RFC 9112 §6.1, §6.3).
		if req.ProtoMinor == 0 {
			return errTEOnHTTP10
		}
		if req.ContentLength >= 0 {
			return errLengthAndTE
		}
		if st.teElems != 1 || st.teBad {
			return errTEUnsupported
		}
		req.Chunked = true
	}
	if req.ProtoMinor == 0 {
		req.KeepAlive10 = st.keepAlive && !st.close
		req.Close = !req.KeepAlive10
		// Expect is an HTTP/1.1 mechanism (RFC 9110 §10.1.1): ignored here.
		return nil
	}
	req.Close = st.close
	if st.expectBad {
		return errExpectation
	}
	req.ExpectContinue = st.expectContinue
	return nil
}

func (req *Request) fieldValue(kind uint8) []byte {
	for i := range req.meta {
		if req.meta[i].kind == kind {
			return req.Headers[i].Value
		}
	}
	return nil
}

// classify recognises the header fields with meaning here by length first,
// so that most names are dismissed without comparing any bytes.
func classify(name []byte, underscore bool) uint8 {
	if underscore {
		// CGI maps '-' and '_' to the same '_', so "X_User" could pose as
		// a proxy-set "X-User" (the header spoofing nginx and gunicorn
		// guard against).
		return kindDrop
	}
	switch len(name) {
	case 4:
		if equalFoldString(name, "host") {
			return kindHost
		}
	case 5:
		if equalFoldString(name, "proxy") {
			// httpoxy (CVE-2016-5385): as HTTP_PROXY it would be taken for
			// the outbound proxy setting by many HTTP client libraries.
			return kindDrop
		}
	case 6:
		if equalFoldString(name, "cookie") {
			return kindCookie
		}
		if equalFoldString(name, "expect") {
			return kindExpect
		}
	case 10:
		if equalFoldString(name, "connection") {
			return kindConnection
		}
	case 12:
		if equalFoldString(name, "content-type") {
			return kindContentType
		}
	case 14:
		if equalFoldString(name, "content-length") {
			return kindContentLength
		}
	case 17:
		if equalFoldString(name, "transfer-encoding") {
			return kindTransferEncoding
		}
	}
	return kindOther
}

// splitHost validates uri-host [":" port] (RFC 3986 §3.2.2-3) and splits
// it. The empty string is valid: HTTP/1.1 sends an empty Host when the
// target has no authority. Non-ASCII is refused: hosts travel as IDNA
// A-labels, and a raw byte would reach SERVER_NAME unvalidated.
func splitHost(h []byte) (name, port []byte, ok bool) {
	if len(h) == 0 {
		return nil, nil, true
	}
	var rest []byte
	if h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 2 {
			return nil, nil, false
		}
		for _, c := range h[1:end] {
			if !ipLiteralChars[c] {
				return nil, nil, false
			}
		}
		name, rest = h[:end+1], h[end+1:]
	} else {
		i := 0
		for ; i < len(h) && h[i] != ':'; i++ {
			if !regNameChars[h[i]] {
				return nil, nil, false
			}
		}
		if i == 0 {
			return nil, nil, false
		}
		name, rest = h[:i], h[i:]
	}
	if len(rest) > 0 {
		if rest[0] != ':' {
			return nil, nil, false
		}
		port = rest[1:]
		for _, c := range port {
			if !isDigit(c) {
				return nil, nil, false
			}
		}
	}
	return name, port, true
}

// ConnInfo describes the connection a request arrived on, as the server
// knows it independently of what the client claims.
type ConnInfo struct {
	// Scheme is passed as UWSGI_SCHEME, from which uWSGI-style Python
	// plugins derive wsgi.url_scheme; empty omits it.
	Scheme string
	// ServerName is SERVER_NAME when the request names no host; "localhost"
	// when this is empty too, since PEP 3333 requires a non-empty value.
	// ServerPort, when set, is always SERVER_PORT: it is the port the
	// request really arrived on.
	ServerName, ServerPort string
	RemoteAddr, RemotePort string
}

var noConn ConnInfo

// AppendVars appends the CGI/WSGI variables of req to the vars block b and
// returns the extended block.
//
// bodyLen is the length of the body as the server read it (the decoded
// length for a chunked body), or -1 when the request has no body framing.
//
// The CGI variables come first in a fixed order, then one HTTP_* variable
// per distinct header name in order of first arrival, repeated fields
// joined with ", " (Cookie with "; ", RFC 9113 §8.2.3's rule for
// reassembling cookies). Content-Type and Content-Length only ever appear
// as CONTENT_TYPE and CONTENT_LENGTH; Transfer-Encoding is dropped for a
// chunked request, whose body reaches the application already decoded; a
// Proxy header and names containing '_' are never passed on.
//
// For a Request filled by ReadRequest no variable can exceed MaxVarLen (the
// head limit guarantees it); a hand-built Request that breaks this makes
// AppendVars panic rather than emit a corrupt block.
func (req *Request) AppendVars(b []byte, ci *ConnInfo, bodyLen int64) []byte {
	if ci == nil {
		ci = &noConn
	}
	req.syncMeta()

	b = appendVar(b, "REQUEST_METHOD", req.Method)
	b = appendVar(b, "REQUEST_URI", req.Target)
	b = appendKey(b, "PATH_INFO")
	b, at := beginValue(b)
	b = appendUnescaped(b, req.Path)
	b = endValue(b, at)
	b = appendVar(b, "QUERY_STRING", req.Query)
	b = appendVar(b, "SCRIPT_NAME", "")
	if req.ProtoMinor == 0 {
		b = appendVar(b, "SERVER_PROTOCOL", "HTTP/1.0")
	} else {
		b = appendVar(b, "SERVER_PROTOCOL", "HTTP/1.1")
	}

	hostName, hostPort, _ := splitHost(req.Host)
	switch {
	case len(hostName) > 0:
		b = appendVar(b, "SERVER_NAME", hostName)
	case ci.ServerName != "":
		b = appendVar(b, "SERVER_NAME", ci.ServerName)
	default:
		b = appendVar(b, "SERVER_NAME", "localhost")
	}
	switch {
	case ci.ServerPort != "":
		b = appendVar(b, "SERVER_PORT", ci.ServerPort)
	case len(hostPort) > 0:
		b = appendVar(b, "SERVER_PORT", hostPort)
	case ci.Scheme == "https":
		b = appendVar(b, "SERVER_PORT", "443")
	default:
		b = appendVar(b, "SERVER_PORT", "80")
	}
	b = appendVar(b, "REMOTE_ADDR", ci.RemoteAddr)
	b = appendVar(b, "REMOTE_PORT", ci.RemotePort)
	if ci.Scheme != "" {
		b = appendVar(b, "UWSGI_SCHEME", ci.Scheme)
	}

	hs, meta := req.Headers, req.meta
	for i := range meta {
		if meta[i].kind == kindContentType {
			b = appendKey(b, "CONTENT_TYPE")
			b = req.appendJoined(b, i, ", ")
			break
		}
	}
	if bodyLen >= 0 && (req.ContentLength >= 0 || req.Chunked) {
		b = appendKey(b, "CONTENT_LENGTH")
		b, at = beginValue(b)
		b = strconv.AppendInt(b, bodyLen, 10)
		b = endValue(b, at)
	}

	if req.absForm && req.hosts == 0 {
		// An HTTP/1.0 absolute-form request without a Host header still
		// names its host; show it the way a Host header would.
		b = appendVar(b, "HTTP_HOST", req.Host)
	}
	for i := range hs {
		sep := ", "
		switch meta[i].kind {
		case kindContentLength, kindContentType, kindDrop:
			continue
		case kindTransferEncoding:
			if req.Chunked {
				continue
			}
		case kindHost:
			if req.absForm {
				// An absolute-form authority overrides the header
				// (RFC 9112 §3.2.2); ReadRequest allows one Host field.
				b = appendVar(b, "HTTP_HOST", req.Host)
				continue
			}
		case kindCookie:
			sep = "; "
		}
		if req.seenBefore(i) {
			continue
		}
		name := hs[i].Name
		if 5+len(name) > MaxVarLen {
			panic(ErrVarTooLong)
		}
		kl := 5 + len(name)
		b = append(b, byte(kl), byte(kl>>8))
		n := len(b) + 5
		b = append(b, "HTTP_"...)
		b = append(b, name...)
		for j := n; j < len(b); j++ {
			b[j] = envKeyChars[b[j]]
		}
		b = req.appendJoined(b, i, sep)
	}
	return b
}

// syncMeta rebuilds the per-field metadata of a Request whose Headers were
// filled by hand rather than by ReadRequest.
func (req *Request) syncMeta() {
	if len(req.meta) == len(req.Headers) {
		return
	}
	req.meta = req.meta[:0]
	for _, h := range req.Headers {
		kind := classify(h.Name, bytes.IndexByte(h.Name, '_') >= 0)
		req.meta = append(req.meta, fieldMeta{hash: nameHash(h.Name), kind: kind})
	}
}

func (req *Request) sameName(i, j int) bool {
	return req.meta[i].hash == req.meta[j].hash &&
		equalFold(req.Headers[i].Name, req.Headers[j].Name)
}

func (req *Request) seenBefore(i int) bool {
	for j := 0; j < i; j++ {
		if req.sameName(i, j) {
			return true
		}
	}
	return false
}

// appendJoined appends, as one value, field i and every later field with
// the same name, in order of arrival.
func (req *Request) appendJoined(b []byte, i int, sep string) []byte {
	b, at := beginValue(b)
	b = append(b, req.Headers[i].Value...)
	for j := i + 1; j < len(req.Headers); j++ {
		if req.sameName(i, j) {
			b = append(b, sep...)
			b = append(b, req.Headers[j].Value...)
		}
	}
	return endValue(b, at)
}

func appendKey(b []byte, key string) []byte {
	b = append(b, byte(len(key)), byte(len(key)>>8))
	return append(b, key...)
}

// appendUnescaped percent-decodes s onto b the way Python's
// urllib.parse.unquote_to_bytes does, which is what WSGI servers use for
// PATH_INFO: every valid %XX becomes its byte (%2F included), an invalid or
// truncated escape is kept as it is, and '+' is left alone.
func appendUnescaped(b, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '%')
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		s = s[i:]
		if len(s) >= 3 && isHex(s[1]) && isHex(s[2]) {
			b = append(b, unhex(s[1])<<4|unhex(s[2]))
			s = s[3:]
		} else {
			b = append(b, '%')
			s = s[1:]
		}
	}
}

// nextListElem splits the first element off a comma-separated field value
// (RFC 9110 §5.6.1), trimmed of optional whitespace; more reports whether
// a comma followed it.
func nextListElem(v []byte) (elem, rest []byte, more bool) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:], true
	}
	return trimOWS(v), nil, false
}

// parseDecimal accepts 1*DIGIT that fits an int64, nothing else: no sign,
// no whitespace, no "0x".
func parseDecimal(s []byte) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func trimOWS(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func isToken(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}

// equalFoldString compares s with lower, which must be lower-case ASCII.
func equalFoldString(s []byte, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerChars[s[i]] != lower[i] {
			return false
		}
	}
	return true
}

func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerChars[a[i]] != lowerChars[b[i]] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Byte classes as lookup tables: one load per byte on the hot path.
var (
	// tchar (RFC 9110 §5.6.2): methods and field names.
	tokenChars = byteSet("!#$%&'*+-.^_`|~" + alnum)
	// field-vchar / obs-text plus SP and HTAB inside a value (RFC 9110
	// §5.5): every other control, DEL, CR, LF and NUL included, is refused.
	valueChars = func() (t [256]bool) {
		t['\t'] = true
		for c := 0x20; c < 0x100; c++ {
			t[c] = c != 0x7f
		}
		return t
	}()
	// Request-target bytes: any visible ASCII, plus obs-text (0x80-0xff).
	// RFC 3986 has no non-ASCII, but clients do send raw UTF-8 paths, uWSGI
	// passes them, and latin-1 carries them to Python losslessly; they
	// cannot affect framing, unlike the controls and whitespace refused here.
	targetChars = func() (t [256]bool) {
		for c := 0x21; c < 0x100; c++ {
			t[c] = c != 0x7f
		}
		return t
	}()
	// reg-name: unreserved / pct-encoded / sub-delims (RFC 3986 §3.2.2).
	regNameChars = byteSet("-._~%!$&'()*+,;=" + alnum)
	// Inside an IP-literal's brackets: IPv6 and IPvFuture characters, and
	// '%' for an RFC 6874 zone identifier.
	ipLiteralChars = byteSet(":-._~%!$&'()*+,;=" + alnum)

	lowerChars = func() (t [256]byte) {
		for c := range t {
			t[c] = byte(c)
			if 'A' <= c && c <= 'Z' {
				t[c] = byte(c) + 'a' - 'A'
			}
		}
		return t
	}()
	// CGI meta-variable name of a field name (RFC 3875 §4.1.18).
	envKeyChars = func() (t [256]byte) {
		for c := range t {
			t[c] = byte(c)
			switch {
			case 'a' <= c && c <= 'z':
				t[c] = byte(c) - 'a' + 'A'
			case c == '-':
				t[c] = '_'
			}
		}
		return t
	}()
)

const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func byteSet(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}
