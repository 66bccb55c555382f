package httpapi

import (
	"net/http"
	"net/url"
	"strings"

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
		w.Header().Set("X-Auth-Error", errNoCredential.Message)
		return errNoCredential
	}
	p, err := s.check(r, cred)
	if err != nil {
		if e := toError(err); e.Status == http.StatusUnauthorized {
			w.Header().Set("X-Auth-Error", e.Message)
		}
		return err
	}
	groups := groupNames(p.Groups)
	w.Header().Set("X-Auth-User", p.User)
	w.Header().Set("X-Auth-Groups", strings.Join(groups, ","))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"username": p.User, "groups": groups})
	return nil
}

// forwardedCredential reads the credential of the request a proxy is asking
// about: the headers in st2's order, then the query string of the original
// URI (X-Original-URI from nginx, X-Forwarded-Uri from Traefik), for
// webhooks that can only put it there; then this request's own query.
func forwardedCredential(r *http.Request) (authn.Credential, bool) {
	if v := r.Header.Get(authn.HeaderToken); v != "" {
		return authn.Credential{Kind: authn.KindToken, Location: authn.InHeader, Value: v}, true
	}
	if v := r.Header.Get(authn.HeaderAPIKey); v != "" {
		return authn.Credential{Kind: authn.KindAPIKey, Location: authn.InHeader, Value: v}, true
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
