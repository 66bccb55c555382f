package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// peerAddr is the address of the host at the other end of the connection.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// trusted reports whether a is inside one of the trusted proxy prefixes.
func (s *Server) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request came from: the peer's, or, when the
// peer is a trusted proxy, the first untrusted hop of X-Forwarded-For read
// from the right (each proxy appends the address it saw). A forged header
// from anywhere else changes nothing, and a header made only of trusted
// hops yields the leftmost one.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer := peerAddr(r)
	if !s.trusted(peer) {
		return peer
	}
	hops := forwardedHops(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return client // garbage: stop at the last hop we could trust
		}
		client = a.Unmap()
		if !s.trusted(client) {
			return client
		}
	}
	return client
}

func forwardedHops(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	return hops
}
