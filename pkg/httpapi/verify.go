package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// verify is GET /auth/v1/verify, for nginx auth_request, Traefik forwardAuth
// and Envoy ext_authz: 200 with X-Auth-User, X-Auth-Groups and X-Auth-Scope,
// 401 with st2's texts, or 403 when the credential's scope does not allow
// the original request (its method and URI, read from the headers
// Config.ForwardAuthHeaders names, and from nowhere else).
//
// A 401 or 403 also carries its faultstring in X-Auth-Error, because nginx
// drops the body of an auth subrequest but can copy a header
// (auth_request_set) into the answer it gives the client.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	orig := s.originalRequest(r)
	cred, ok := forwardedCredential(r, orig.uri)
	if !ok {
		w.Header().Set("X-Auth-Error", msgNoCredential)
		return auth.ErrNoCredential
	}
	p, err := s.auth.Check(r.Context(), cred)
	if err == nil {
		err = s.authorizeOriginal(p, orig)
	}
	if err == nil && cred.Location == authn.InCookie {
		err = s.cookieMayChange(r, orig, cred.Value)
	}
	if err != nil {
		if e := toError(err); e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
			w.Header().Set("X-Auth-Error", e.Message)
		}
		return err
	}
	groups, header := s.verifyGroups(p.Groups)
	w.Header().Set("X-Auth-User", p.User)
	w.Header().Set("X-Auth-Groups", header)
	w.Header().Set("X-Auth-Scope", p.Scope)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"username": p.User, "groups": groups, "scope": p.Scope})
	return nil
}

// cookieMayChange refuses (403) an original request that carries only the
// browser session cookie and changes state without the session's
// X-CSRF-Token (which the proxy passes on from the original request, as
// nginx's auth_request and Traefik's forwardAuth do), or that a browser
// says came from another site: the app behind the proxy gets the same
// protection as Gatehouse's own routes. Without the method header the
// request may be a change, so the token is needed.
func (s *Server) cookieMayChange(r *http.Request, o original, session string) error {
	method := o.method
	if !o.haveMethod {
		method = http.MethodPost
	}
	if !authn.CookieMayChange(method, r.Header, session) {
		return forbidden("The original request changes state with the session cookie only and needs the X-CSRF-Token header (csrf_token from /auth/v1/me); %s was not sent or does not match, or the request came from another site.", HeaderCSRF)
	}
	return nil
}

// The values of Config.ForwardAuthHeaders (auth.forward_auth_headers).
const (
	// ForwardAuthNginx reads X-Original-Method and X-Original-URI, which
	// the nginx example sets with proxy_set_header (overwriting a
	// client's).
	ForwardAuthNginx = "nginx"
	// ForwardAuthForwarded reads X-Forwarded-Method and X-Forwarded-Uri,
	// which Traefik and Caddy set (overwriting a client's).
	ForwardAuthForwarded = "forwarded"
)

// original is the request a proxy asks about, as far as its headers tell.
type original struct {
	method, uri             string
	methodHeader, uriHeader string // the names they were read from
	haveMethod, haveURI     bool
}

// originalRequest reads the original method and URI from the headers
// Config.ForwardAuthHeaders names and only those: each proxy overwrites
// its own headers but passes the other proxies' through from the client,
// so "whichever is present" would let a client choose what is checked.
func (s *Server) originalRequest(r *http.Request) original {
	o := original{methodHeader: "X-Original-Method", uriHeader: "X-Original-URI"}
	if s.cfg.ForwardAuthHeaders == ForwardAuthForwarded {
		o.methodHeader, o.uriHeader = "X-Forwarded-Method", "X-Forwarded-Uri"
	}
	o.method, o.uri = r.Header.Get(o.methodHeader), r.Header.Get(o.uriHeader)
	o.haveMethod, o.haveURI = o.method != "", o.uri != ""
	return o
}

// authorizeOriginal checks p's scope against the original request. A
// "write" credential needs nothing; a read one needs the method header, a
// path-limited one the URI header: without them it is refused (403), since
// what it may do cannot be checked.
func (s *Server) authorizeOriginal(p auth.Principal, o original) error {
	if p.Scope == authn.ScopeWrite {
		return nil
	}
	sc := p.ParsedScope()
	if sc.Read && !o.haveMethod {
		return forbidden("The credential's scope is %s and the proxy sent no %s (auth.forward_auth_headers: %s).",
			p.Scope, o.methodHeader, s.cfg.ForwardAuthHeaders)
	}
	if len(sc.Paths) > 0 && !o.haveURI {
		return forbidden("The credential's scope is %s and the proxy sent no %s (auth.forward_auth_headers: %s).",
			p.Scope, o.uriHeader, s.cfg.ForwardAuthHeaders)
	}
	method := o.method
	if !sc.Read {
		method = http.MethodGet // only the path matters
	}
	uri := o.uri
	if len(sc.Paths) == 0 {
		uri = "/"
	}
	return p.Authorize(method, uri)
}

// forwardedCredential reads the credential of the request a proxy is asking
// about: the headers in Extract's order (X-Auth-Token, St2-Api-Key,
// Authorization: Bearer), the session cookie (an app on the same site
// behind nginx shares the web page's login: single sign-on through
// auth_request), then the query string of the original URI (from the
// configured header only), for webhooks that can only put it there; then
// this request's own query.
func forwardedCredential(r *http.Request, originalURI string) (authn.Credential, bool) {
	if c, ok := authn.ExtractHeaders(r.Header); ok {
		return c, true
	}
	if c, ok := authn.ExtractCookie(r); ok {
		return c, true
	}
	if originalURI != "" {
		if u, err := url.ParseRequestURI(originalURI); err == nil {
			if c, ok := authn.ExtractQuery(u.RawQuery); ok {
				return c, true
			}
		}
	}
	return authn.ExtractQuery(r.URL.RawQuery)
}

// The values of Config.GroupHeader (auth.group_header): what verify sends
// in X-Auth-Groups.
const (
	// GroupHeaderRDN sends the value of each group DN's first RDN,
	// separated by commas: cn=ops,ou=groups,dc=example,dc=org is "ops".
	// Groups of the same name in two subtrees read the same.
	GroupHeaderRDN = "rdn"
	// GroupHeaderDN sends the full DNs separated by ";". A ";" inside a DN
	// is sent as the RFC 4514 escape \3B, which names the same DN, so
	// splitting the header on every ";" is always right.
	GroupHeaderDN = "dn"
)

// verifyGroups returns the groups verify reports in its body and the value
// of X-Auth-Groups, as Config.GroupHeader asks.
func (s *Server) verifyGroups(groups []string) ([]string, string) {
	if s.cfg.GroupHeader != GroupHeaderDN {
		names := groupNames(groups)
		return names, strings.Join(names, ",")
	}
	escaped := make([]string, len(groups))
	for i, g := range groups {
		escaped[i] = escapeSemicolons(g)
	}
	return append([]string{}, groups...), strings.Join(escaped, ";")
}

// escapeSemicolons writes every ";" of a DN, escaped (\;) or not, as \3B.
func escapeSemicolons(dn string) string {
	if !strings.Contains(dn, ";") {
		return dn
	}
	var b strings.Builder
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == '\\' && i+1 < len(dn) && dn[i+1] == ';':
			b.WriteString(`\3B`)
			i++
		case c == '\\' && i+1 < len(dn):
			b.WriteString(dn[i : i+2])
			i++
		case c == ';':
			b.WriteString(`\3B`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// groupNames shortens group DNs to the value of their first RDN
// (cn=ops,ou=groups,dc=example,dc=org → ops) for X-Auth-Groups; other
// names are kept. Commas inside a name would split the header's list, so
// they are dropped.
func groupNames(groups []string) []string {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, strings.ReplaceAll(firstRDNValue(g), ",", ""))
	}
	return out
}

func firstRDNValue(dn string) string {
	eq := strings.IndexByte(dn, '=')
	if eq < 0 {
		return dn
	}
	var b strings.Builder
	for i := eq + 1; i < len(dn); i++ {
		c := dn[i]
		if c == '\\' && i+1 < len(dn) {
			i++
			b.WriteByte(dn[i])
			continue
		}
		if c == ',' || c == '+' {
			break
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}
