// Package trustedproxy is --trusted-proxy: which peers are proxies whose X-Forwarded-For
// and X-Forwarded-Proto headers are believed, and what those headers make of a request.
// The options compile the set once (internal/options); the server asks it per connection
// and per request.
package trustedproxy

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"uwsgo/internal/proto"
)

// Behind a proxy (--trusted-proxy): the client's address and scheme come from the
// X-Forwarded-For and X-Forwarded-Proto headers the proxy adds, but only on connections
// from the proxies named; from anyone else the headers are passed to the app as they are
// (HTTP_X_FORWARDED_*) and change nothing, since a client can send them too.
//
// The client is found as nginx's real_ip_recursive finds it: X-Forwarded-For is read
// from its end (the address the nearest proxy saw) towards its start, skipping addresses
// of trusted proxies; the first address not trusted is the client. Addresses before it
// are whatever the client claimed and are never used.

// Set is the --trusted-proxy addresses.
type Set struct {
	prefixes []netip.Prefix
	unix     bool // "unix": peers on UNIX sockets (a proxy on this machine)
}

// Parse reads --trusted-proxy values: IP addresses, CIDR prefixes, or "unix"; nil when
// there are none.
func Parse(values []string) (*Set, error) {
	if len(values) == 0 {
		return nil, nil
	}
	t := &Set{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "unix" {
				t.unix = true
				continue
			}
			p, err := netip.ParsePrefix(item)
			if err != nil {
				a, aerr := netip.ParseAddr(item)
				if aerr != nil {
					return nil, fmt.Errorf("--trusted-proxy %s: not an IP address, a CIDR prefix or \"unix\"", item)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			t.prefixes = append(t.prefixes, p.Masked())
		}
	}
	return t, nil
}

func (t *Set) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TrustsPeer says whether a connection's peer is a trusted proxy.
func (t *Set) TrustsPeer(nc net.Conn) bool {
	if t == nil {
		return false
	}
	switch a := nc.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return ok && t.contains(ip)
	case *net.UnixAddr:
		return t.unix
	}
	return false
}

var (
	xForwardedFor   = []byte("X-Forwarded-For")
	xForwardedProto = []byte("X-Forwarded-Proto")
)

// Forwarded is the connection as the trusted proxy describes it: ci with REMOTE_ADDR and
// the scheme taken from the request's X-Forwarded-* headers where they are valid.
func (t *Set) Forwarded(req *proto.Request, ci proto.ConnInfo) proto.ConnInfo {
	// Fields from the last (added by the nearest proxy) to the first, each from its end.
walk:
	for i := len(req.Headers) - 1; i >= 0; i-- {
		h := &req.Headers[i]
		if !bytes.EqualFold(h.Name, xForwardedFor) {
			continue
		}
		for list := h.Value; len(list) > 0; {
			item := list
			if j := bytes.LastIndexByte(list, ','); j >= 0 {
				item, list = list[j+1:], list[:j]
			} else {
				list = nil
			}
			a, ok := parseForwardedAddr(bytes.TrimSpace(item))
			if !ok {
				break walk // garbage: keep the last address a trusted proxy vouched for
			}
			ci.RemoteAddr = a.String()
			if !t.contains(a) {
				break walk
			}
		}
	}
	for i := range req.Headers {
		h := &req.Headers[i]
		if !bytes.EqualFold(h.Name, xForwardedProto) {
			continue
		}
		v := h.Value
		if j := bytes.IndexByte(v, ','); j >= 0 {
			v = v[:j]
		}
		switch v = bytes.TrimSpace(v); {
		case bytes.EqualFold(v, []byte("https")):
			ci.Scheme = "https"
		case bytes.EqualFold(v, []byte("http")):
			ci.Scheme = "http"
		}
		break
	}
	return ci
}

// parseForwardedAddr reads an X-Forwarded-For item: an address, possibly with a port
// ("192.0.2.1:4711", "[2001:db8::1]:4711"), as some proxies write it.
func parseForwardedAddr(b []byte) (netip.Addr, bool) {
	s := string(b)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
