package authn

import (
	"net/http"
	"net/url"
	"strings"
)

// Kind says whether a credential is an access token or an API key.
type Kind string

// The two kinds of credential, named as st2 names them in auth_info.method,
// and KindBearer for a value that may be either.
const (
	KindToken  Kind = "authentication token"
	KindAPIKey Kind = "API key"
	// KindBearer is a value sent as "Authorization: Bearer" (RFC 6750):
	// a token or an API key, looked up as both.
	KindBearer Kind = "bearer"
)

// Location says where a credential was found, as st2 reports it.
type Location string

// Credential locations.
const (
	InHeader Location = "header"
	InQuery  Location = "query"
	// InCookie is the browser session cookie (CookieSession).
	InCookie Location = "cookie"
)

// Header and query parameter names, from st2common/constants/auth.py.
const (
	HeaderToken  = "X-Auth-Token"
	HeaderAPIKey = "St2-Api-Key"
	QueryToken   = "x-auth-token"
	QueryAPIKey  = "st2-api-key"
	// CookieSession is the browser session cookie Gatehouse sets on
	// POST /auth/v1/session; its value is a token.
	CookieSession = "gatehouse_session"
)

// Credential is a token or key read from a request.
type Credential struct {
	Kind     Kind
	Location Location
	Value    string
}

// Extract reads the request's credential in st2's order, with Bearer third
// and the browser's cookie fourth: header X-Auth-Token, header St2-Api-Key,
// header Authorization: Bearer, the session cookie gatehouse_session (a
// token), query x-auth-token, query st2-api-key. The first non-empty one
// wins and is the only one that counts: a bad token next to a good key is a bad
// request, as in st2. ok is false when none is present.
func Extract(r *http.Request) (c Credential, ok bool) {
	if c, ok := ExtractHeaders(r.Header); ok {
		return c, true
	}
	if c, ok := ExtractCookie(r); ok {
		return c, true
	}
	return ExtractQuery(r.URL.RawQuery)
}

// ExtractCookie reads the browser session cookie alone. A cookie that is
// empty or sent twice with different values counts as none, so a cookie
// planted by a sibling domain cannot choose which session is used.
func ExtractCookie(r *http.Request) (c Credential, ok bool) {
	var v string
	for _, ck := range r.CookiesNamed(CookieSession) {
		if ck.Value == "" || (v != "" && ck.Value != v) {
			return Credential{}, false
		}
		v = ck.Value
	}
	if v == "" {
		return Credential{}, false
	}
	return Credential{KindToken, InCookie, v}, true
}

// ExtractHeaders reads a credential from the headers alone, in Extract's
// order: X-Auth-Token, St2-Api-Key, Authorization: Bearer.
func ExtractHeaders(h http.Header) (c Credential, ok bool) {
	if v := h.Get(HeaderToken); v != "" {
		return Credential{KindToken, InHeader, v}, true
	}
	if v := h.Get(HeaderAPIKey); v != "" {
		return Credential{KindAPIKey, InHeader, v}, true
	}
	if v := bearer(h.Get("Authorization")); v != "" {
		return Credential{KindBearer, InHeader, v}, true
	}
	return Credential{}, false
}

// bearer returns the token of an "Authorization: Bearer <token>" value
// (the scheme is ASCII case-insensitive, RFC 9110 11.1), or "".
func bearer(auth string) string {
	const scheme = "bearer "
	if len(auth) <= len(scheme) {
		return ""
	}
	for i := range len(scheme) { // ASCII only: no Unicode folding of the scheme
		c := auth[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != scheme[i] {
			return ""
		}
	}
	return strings.TrimSpace(auth[len(scheme):])
}

// ExtractQuery reads a credential from a raw query string alone (the webhook
// fallback, also used for the X-Original-URI of a forward-auth request).
// Query names are matched exactly, lower case, as st2 does.
func ExtractQuery(rawQuery string) (c Credential, ok bool) {
	if rawQuery == "" {
		return Credential{}, false
	}
	q, _ := url.ParseQuery(rawQuery) // keeps the pairs it could parse
	if v := q.Get(QueryToken); v != "" {
		return Credential{KindToken, InQuery, v}, true
	}
	if v := q.Get(QueryAPIKey); v != "" {
		return Credential{KindAPIKey, InQuery, v}, true
	}
	return Credential{}, false
}
