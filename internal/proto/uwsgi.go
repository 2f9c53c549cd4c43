package proto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// The uwsgi protocol (uWSGI's own, spoken by nginx's uwsgi_pass): every packet starts
// with modifier1 (u8), a datasize (u16 little-endian) and modifier2 (u8).
const (
	// ModifierWSGI is a request: datasize bytes of vars, then CONTENT_LENGTH bytes of body.
	ModifierWSGI = 0
	// ModifierRPC is an RPC call (modifier2 0: items; 2: a vars block whose PATH_INFO
	// /fn/a/b means fn(a, b), from nginx's uwsgi_modifier1 173).
	ModifierRPC = 173
	// RPCItems and RPCPath are the two forms of ModifierRPC.
	RPCItems = 0
	RPCPath  = 2
	// RPCLarge is the modifier2 of an RPC reply whose result does not fit datasize: a vars
	// block with CONTENT_LENGTH, then the result.
	RPCLarge = 5
	// MaxRPCItems bounds the function name plus arguments of one call.
	MaxRPCItems = 255
)

// PacketHeader is the four bytes that start every packet.
type PacketHeader struct {
	Modifier1 uint8
	Size      uint16
	Modifier2 uint8
}

// ErrBadItems reports an RPC item list whose lengths run past its end.
var ErrBadItems = errors.New("proto: malformed uwsgi RPC items")

// ReadPacketHeader reads the four bytes that start every uwsgi packet. io.EOF means the
// peer closed before sending one.
func ReadPacketHeader(r *bufio.Reader) (PacketHeader, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return PacketHeader{}, err
	}
	return PacketHeader{Modifier1: b[0], Size: binary.LittleEndian.Uint16(b[1:3]), Modifier2: b[3]}, nil
}

// AppendPacketHeader appends a packet header.
func AppendPacketHeader(b []byte, h PacketHeader) []byte {
	b = append(b, h.Modifier1)
	b = binary.LittleEndian.AppendUint16(b, h.Size)
	return append(b, h.Modifier2)
}

// AppendItem appends one RPC item (u16 little-endian length, bytes).
func AppendItem(b, item []byte) ([]byte, error) {
	if len(item) > MaxVarLen {
		return b, ErrVarTooLong
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(item)))
	return append(b, item...), nil
}

// SplitItems splits an RPC item list into the function name and its arguments (slices
// of block). The list is checked whole before anything is returned.
func SplitItems(block []byte, items [][]byte) ([][]byte, error) {
	items = items[:0]
	for i := 0; i < len(block); {
		if len(block)-i < 2 {
			return nil, ErrBadItems
		}
		n := int(binary.LittleEndian.Uint16(block[i:]))
		i += 2
		if n > len(block)-i || len(items) == MaxRPCItems {
			return nil, ErrBadItems
		}
		items = append(items, block[i:i+n])
		i += n
	}
	if len(items) == 0 {
		return nil, ErrBadItems
	}
	return items, nil
}

// UwsgiRequest turns the vars block of a uwsgi request (as nginx sends it with
// uwsgi_params) into what the server needs: it fills req's method, target, protocol and
// body length, and appends to out the block Python will see. HTTP_CONTENT_TYPE and
// HTTP_CONTENT_LENGTH (nginx sends them besides CONTENT_TYPE and CONTENT_LENGTH) are
// dropped; SCRIPT_NAME and PATH_INFO, which PEP 3333 needs, are added when absent.
// req's slices alias block.
func UwsgiRequest(block []byte, req *Request, out []byte) ([]byte, error) {
	*req = Request{Headers: req.Headers[:0], ContentLength: -1, ProtoMajor: 1, Close: true, buf: req.buf, meta: req.meta}
	hasScript, hasPath := false, false
	var uri []byte
	var bad error
	err := EachVar(block, func(k, v []byte) bool {
		switch string(k) {
		case "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH":
			return true
		case "REQUEST_METHOD":
			req.Method = v
		case "REQUEST_URI":
			uri = v
		case "SCRIPT_NAME":
			hasScript = true
		case "PATH_INFO":
			hasPath = true
			req.Path = v
		case "QUERY_STRING":
			req.Query = v
		case "SERVER_PROTOCOL":
			if string(v) == "HTTP/1.1" {
				req.ProtoMinor = 1
			}
		case "CONTENT_LENGTH":
			if len(v) > 0 {
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil || n < 0 {
					bad = errors.New("proto: invalid CONTENT_LENGTH in uwsgi vars")
					return false
				}
				req.ContentLength = n
			}
		}
		out = appendVarBytes(out, k, v)
		return true
	})
	if err != nil {
		return out, err
	}
	if bad != nil {
		return out, bad
	}
	if len(req.Method) == 0 {
		return out, errors.New("proto: uwsgi vars without REQUEST_METHOD")
	}
	req.Target = uri
	if !hasScript {
		out = AppendVar(out, "SCRIPT_NAME", "")
	}
	if !hasPath {
		p := uri
		for i, c := range p {
			if c == '?' {
				p = p[:i]
				break
			}
		}
		out = appendKey(out, "PATH_INFO")
		var at int
		out, at = beginValue(out)
		out = appendUnescaped(out, p)
		out = endValue(out, at)
		req.Path = p
	}
	if req.Target == nil {
		req.Target = req.Path
	}
	return out, nil
}

func appendVarBytes(b, k, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(k)))
	b = append(b, k...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}
