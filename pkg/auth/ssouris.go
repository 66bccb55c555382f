package auth

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultNext is where a browser login goes when it names no next page.
const DefaultNext = "/ui/"

// SafeNext checks where a browser is sent after logging in: a path on
// this server, never another site. It must start with one "/" and not
// "//" or "/\" (which browsers read as another host), and hold no scheme,
// host, backslash or control character. "" gives DefaultNext.
func SafeNext(next string) (string, error) {
	if next == "" {
		return DefaultNext, nil
	}
	bad := Errorf(EINVALID, "next must be a path on this server, such as /ui/.")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") || len(next) > 2048 {
		return "", bad
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "", bad
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", bad
	}
	return next, nil
}

// LoopbackRedirect checks a terminal's redirect URI (RFC 8252 7.3): http
// to an IP-literal loopback address (127.0.0.1 or [::1]), any port, path
// /callback, nothing else. "localhost" is refused: it can resolve
// elsewhere, and providers such as Hydra match only IP literals.
func LoopbackRedirect(raw string) (string, error) {
	bad := Errorf(EINVALID, "redirect_uri must be http://127.0.0.1:<port>/callback or http://[::1]:<port>/callback.")
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != "/callback" {
		return "", bad
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", bad
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || (ip.To4() != nil && host != "127.0.0.1") {
		return "", bad
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad
	}
	return u.String(), nil
}
