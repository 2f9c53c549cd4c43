package proto

import (
	"bytes"
	"errors"
)

// ResponseHead is what a server must know of the status and headers an app gave.
type ResponseHead struct {
	Code          int
	ContentLength int64 // -1: the app gave none
	Close         bool  // the app asked for Connection: close
	HasDate       bool
}

// Errors of AppendResponseHead.
var (
	ErrBadStatus = errors.New("proto: invalid response status (want a 3-digit code, a space and a reason)")
	ErrBadHeader = errors.New("proto: invalid response header")
)

// AppendResponseHead checks an app's response head as the setup module hands it over,
// "NNN Reason\r\n" then "Name\x00value\r\n" per header, and appends it to out as an
// HTTP/1.1 status line and header lines (without the blank line). NUL separates name and
// value because it never survives the checks of either: a CR, LF or colon hidden in a
// header cannot forge another. Hop-by-hop headers are dropped (framing and connection
// management are the server's; PEP 3333 forbids apps to send them), though Connection:
// close is honoured. On error out is returned unchanged.
func AppendResponseHead(out, head []byte) ([]byte, ResponseHead, error) {
	h := ResponseHead{ContentLength: -1}
	start := len(out)
	line, rest := cutCRLF(head)
	if len(line) < 4 || line[3] != ' ' || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) || line[0] == '0' || !validValue(line[4:]) {
		return out, h, ErrBadStatus
	}
	h.Code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	out = append(out, "HTTP/1.1 "...)
	out = append(out, line...)
	out = append(out, "\r\n"...)
	for len(rest) > 0 {
		line, rest = cutCRLF(rest)
		sep := bytes.IndexByte(line, 0)
		if sep < 0 {
			return out[:start], h, ErrBadHeader
		}
		name, value := line[:sep], trimOWS(line[sep+1:])
		if !isToken(name) || !validValue(value) {
			return out[:start], h, ErrBadHeader
		}
		switch {
		case equalFoldString(name, "content-length"):
			n, ok := parseDecimal(value)
			if !ok || h.ContentLength >= 0 {
				return out[:start], h, ErrBadHeader
			}
			h.ContentLength = n
		case equalFoldString(name, "connection"):
			for elem, more := value, true; more; {
				var e []byte
				e, elem, more = nextListElem(elem)
				h.Close = h.Close || equalFoldString(e, "close")
			}
			continue
		case equalFoldString(name, "transfer-encoding"), equalFoldString(name, "keep-alive"), equalFoldString(name, "proxy-connection"):
			continue
		case equalFoldString(name, "date"):
			h.HasDate = true
		}
		out = append(out, name...)
		out = append(out, ": "...)
		out = append(out, value...)
		out = append(out, "\r\n"...)
	}
	return out, h, nil
}

// cutCRLF splits at the first CRLF; the setup module ends every line with one.
func cutCRLF(b []byte) (line, rest []byte) {
	if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
		return b[:i], b[i+2:]
	}
	return b, nil
}
