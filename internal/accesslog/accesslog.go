// Package accesslog renders per-request log lines from uWSGI's --log-format, or as one
// JSON object per request (--log-format json) for log shippers.
//
// A format is compiled once, at start-up, into a list of parts (literal text or a
// variable), and each request appends its line to a buffer the caller reuses: rendering
// allocates nothing. Variables that must look into the request's vars block (host,
// referer, uagent, user, var.NAME) scan it only when the format uses them.
//
// The variables are uWSGI's: an unknown %(name) is a logvar, set by the app with
// uwsgi.set_logvar(name, value) (empty when unset), as in uWSGI.
package accesslog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"uwsgo/internal/proto"
)

// Var is a logvar the app set for a request.
type Var struct{ Key, Value []byte }

// Entry is what is known of a finished request.
type Entry struct {
	Method, URI, Proto []byte
	Status             int
	BodyBytes          int64 // response body
	HeadBytes          int64 // response head (status line and headers)
	RequestBodyBytes   int64 // -1: none
	Start              time.Time
	Duration           time.Duration
	Vars               []byte // the request's vars block (REMOTE_ADDR, HTTP_HOST ...)
	Logvars            []Var
	PID, WorkerID      int
}

type kind uint8

const (
	literal kind = iota
	method
	uri
	protocol
	status
	size
	rsize
	hsize
	cl
	msecs
	micros
	secs
	addr
	pid
	wid
	unixTime
	tmsecs
	tmicros
	ltime
	ctime
	epoch
	requestVar // a CGI variable of the vars block: host, referer, uagent, user, var.NAME
	logvar
)

var names = map[string]kind{
	"method": method, "uri": uri, "proto": protocol, "status": status,
	"size": size, "rsize": rsize, "hsize": hsize, "cl": cl,
	"msecs": msecs, "micros": micros, "secs": secs,
	"addr": addr, "pid": pid, "wid": wid,
	"time": unixTime, "tmsecs": tmsecs, "tmicros": tmicros, "ltime": ltime, "ctime": ctime, "epoch": epoch,
}

var requestVars = map[string]string{
	"host": "HTTP_HOST", "referer": "HTTP_REFERER", "uagent": "HTTP_USER_AGENT", "user": "REMOTE_USER",
}

type part struct {
	kind kind
	text []byte // the literal, the CGI variable's name, or the logvar's name
}

// Format is a compiled --log-format.
type Format struct {
	parts []part
	json  bool
	// xff: %(addr) is the first address of X-Forwarded-For when there is one
	// (--log-x-forwarded-for).
	xff bool
}

// Compile compiles a --log-format; "json" selects the JSON object. xForwardedFor makes
// %(addr) the first X-Forwarded-For address (uWSGI's --log-x-forwarded-for).
func Compile(spec string, xForwardedFor bool) (*Format, error) {
	f := &Format{xff: xForwardedFor}
	if spec == "json" {
		f.json = true
		return f, nil
	}
	rest := spec
	for rest != "" {
		i := strings.Index(rest, "%(")
		if i < 0 {
			f.lit(rest)
			break
		}
		f.lit(rest[:i])
		j := strings.IndexByte(rest[i:], ')')
		if j < 0 {
			return nil, fmt.Errorf("--log-format %q: %q has no closing parenthesis", spec, rest[i:])
		}
		name := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		switch k, ok := names[name]; {
		case name == "":
			return nil, fmt.Errorf("--log-format %q: empty %%()", spec)
		case ok:
			f.parts = append(f.parts, part{kind: k})
		case requestVars[name] != "":
			f.parts = append(f.parts, part{kind: requestVar, text: []byte(requestVars[name])})
		case strings.HasPrefix(name, "var."):
			f.parts = append(f.parts, part{kind: requestVar, text: []byte(name[4:])})
		default:
			f.parts = append(f.parts, part{kind: logvar, text: []byte(name)})
		}
	}
	return f, nil
}

func (f *Format) lit(s string) {
	if s != "" {
		f.parts = append(f.parts, part{kind: literal, text: []byte(s)})
	}
}

// Append appends e's line, newline included, to b.
func (f *Format) Append(b []byte, e *Entry) []byte {
	if f.json {
		return f.appendJSON(b, e)
	}
	for i := range f.parts {
		p := &f.parts[i]
		switch p.kind {
		case literal:
			b = append(b, p.text...)
		case requestVar:
			b = append(b, lookup(e.Vars, p.text)...)
		case logvar:
			for _, v := range e.Logvars {
				if bytes.Equal(v.Key, p.text) {
					b = append(b, v.Value...)
					break
				}
			}
		default:
			b = f.appendValue(b, p.kind, e)
		}
	}
	return append(b, '\n')
}

func (f *Format) appendValue(b []byte, k kind, e *Entry) []byte {
	switch k {
	case method:
		return append(b, e.Method...)
	case uri:
		return append(b, e.URI...)
	case protocol:
		return append(b, e.Proto...)
	case status:
		return strconv.AppendInt(b, int64(e.Status), 10)
	case size:
		return strconv.AppendInt(b, e.BodyBytes+e.HeadBytes, 10)
	case rsize:
		return strconv.AppendInt(b, e.BodyBytes, 10)
	case hsize:
		return strconv.AppendInt(b, e.HeadBytes, 10)
	case cl:
		return strconv.AppendInt(b, max(e.RequestBodyBytes, 0), 10)
	case msecs:
		return strconv.AppendInt(b, e.Duration.Milliseconds(), 10)
	case micros:
		return strconv.AppendInt(b, e.Duration.Microseconds(), 10)
	case secs:
		return strconv.AppendFloat(b, e.Duration.Seconds(), 'f', 6, 64)
	case addr:
		return append(b, ClientAddr(e.Vars, f.xff)...)
	case pid:
		return strconv.AppendInt(b, int64(e.PID), 10)
	case wid:
		return strconv.AppendInt(b, int64(e.WorkerID), 10)
	case unixTime:
		return strconv.AppendInt(b, e.Start.Unix(), 10)
	case tmsecs:
		return strconv.AppendInt(b, e.Start.UnixMilli(), 10)
	case tmicros:
		return strconv.AppendInt(b, e.Start.UnixMicro(), 10)
	case ltime:
		return e.Start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	case ctime:
		return e.Start.AppendFormat(b, "Mon Jan _2 15:04:05 2006")
	case epoch:
		return strconv.AppendInt(b, time.Now().Unix(), 10)
	}
	return b
}

// ClientAddr is what %(addr) shows: REMOTE_ADDR, or with xForwardedFor
// (--log-x-forwarded-for) the first address of X-Forwarded-For when there is one: the
// client as the first proxy saw it.
func ClientAddr(vars []byte, xForwardedFor bool) []byte {
	if xForwardedFor {
		if v := lookup(vars, xffVar); len(v) > 0 {
			if i := bytes.IndexByte(v, ','); i >= 0 {
				v = v[:i]
			}
			if v = bytes.TrimSpace(v); len(v) > 0 {
				return v
			}
		}
	}
	return lookup(vars, remoteAddrVar)
}

var (
	xffVar        = []byte("HTTP_X_FORWARDED_FOR")
	remoteAddrVar = []byte("REMOTE_ADDR")
)

// lookup finds a CGI variable in a vars block.
func lookup(vars, name []byte) []byte {
	var out []byte
	proto.EachVar(vars, func(k, v []byte) bool {
		if bytes.Equal(k, name) {
			out = v
			return false
		}
		return true
	})
	return out
}

// appendJSON writes one JSON object: the request's usual fields and, under "vars", the
// logvars the app set.
func (f *Format) appendJSON(b []byte, e *Entry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Start.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","addr":`...)
	b = appendString(b, ClientAddr(e.Vars, f.xff))
	b = append(b, `,"method":`...)
	b = appendString(b, e.Method)
	b = append(b, `,"uri":`...)
	b = appendString(b, e.URI)
	b = append(b, `,"proto":`...)
	b = appendString(b, e.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, e.BodyBytes+e.HeadBytes, 10)
	b = append(b, `,"rsize":`...)
	b = strconv.AppendInt(b, e.BodyBytes, 10)
	b = append(b, `,"msecs":`...)
	b = strconv.AppendInt(b, e.Duration.Milliseconds(), 10)
	b = append(b, `,"micros":`...)
	b = strconv.AppendInt(b, e.Duration.Microseconds(), 10)
	for _, rv := range jsonRequestVars {
		if v := lookup(e.Vars, rv[1]); len(v) > 0 {
			b = append(b, rv[0]...)
			b = appendString(b, v)
		}
	}
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(e.PID), 10)
	b = append(b, `,"wid":`...)
	b = strconv.AppendInt(b, int64(e.WorkerID), 10)
	if len(e.Logvars) > 0 {
		b = append(b, `,"vars":{`...)
		for i, v := range e.Logvars {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.Key)
			b = append(b, ':')
			b = appendString(b, v.Value)
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

var jsonRequestVars = [][2][]byte{
	{[]byte(`,"host":`), []byte("HTTP_HOST")},
	{[]byte(`,"referer":`), []byte("HTTP_REFERER")},
	{[]byte(`,"uagent":`), []byte("HTTP_USER_AGENT")},
}

// appendString appends s as a JSON string. Request bytes need not be UTF-8: an invalid
// byte becomes U+FFFD, so that the line stays valid JSON.
func appendString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
