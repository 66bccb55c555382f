package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// verify is GET /auth/v1/verify, for nginx auth_request, Traefik forwardAuth
// and Envoy ext_authz: 200 with X-Auth-User and X-Auth-Groups, or 401 with
// st2's texts.
//
// A 401 also carries its faultstring in X-Auth-Error, because nginx drops
// the body of an auth subrequest but can copy a header (auth_request_set)
// into the answer it gives the client.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	cred, ok := forwardedCredential(r)
	if !ok {
		w.Header().Set("X-Auth-Error", msgNoCredential)
		return auth.ErrNoCredential
	}
	p, err := s.auth.Check(r.Context(), cred)
	if err != nil {
		if e := toError(err); e.Status == http.StatusUnauthorized {
			w.Header().Set("X-Auth-Error", e.Message)
		}
		return err
	}
	groups, header := s.verifyGroups(p.Groups)
	w.Header().Set("X-Auth-User", p.User)
	w.Header().Set("X-Auth-Groups", header)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"username": p.User, "groups": groups})
	return nil
}

// forwardedCredential reads the credential of the request a proxy is asking
// about: the headers in st2's order, the session cookie, then the query string of the original
// URI (X-Original-URI from nginx, X-Forwarded-Uri from Traefik), for
// webhooks that can only put it there; then this request's own query.
func forwardedCredential(r *http.Request) (authn.Credential, bool) {
	if v := r.Header.Get(authn.HeaderToken); v != "" {
		return authn.Credential{Kind: authn.KindToken, Location: authn.InHeader, Value: v}, true
	}
	if v := r.Header.Get(authn.HeaderAPIKey); v != "" {
		return authn.Credential{Kind: authn.KindAPIKey, Location: authn.InHeader, Value: v}, true
	}
	// The browser session: an app on the same site behind nginx shares
	// the login of the web page (single sign-on through auth_request).
	if c, ok := authn.ExtractCookie(r); ok {
		return c, true
	}
	for _, h := range []string{"X-Original-URI", "X-Forwarded-Uri"} {
		if uri := r.Header.Get(h); uri != "" {
			if u, err := url.ParseRequestURI(uri); err == nil {
				if c, ok := authn.ExtractQuery(u.RawQuery); ok {
					return c, true
				}
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
