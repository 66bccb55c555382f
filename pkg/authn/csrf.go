package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// HeaderCSRF carries a browser session's anti-CSRF token on requests that
// change state.
const HeaderCSRF = "X-CSRF-Token"

// csrfLabel is what a session's CSRF token is the MAC of.
const csrfLabel = "gatehouse-csrf"

// CSRFToken is the anti-CSRF token of the session whose cookie has that
// value: base64url(HMAC-SHA256(key = the cookie's value, "gatehouse-csrf")).
// It needs no state, so every replica and every service behind Gatehouse
// computes the same one, and only who holds the HttpOnly cookie (the page,
// through /auth/v1/me's csrf_token) can know it. It reveals nothing of the
// cookie.
func CSRFToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether got is the CSRF token of
// the session whose cookie has that value.
func CheckCSRF(session, got string) bool {
	want := CSRFToken(session)
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// SafeMethod reports whether method only reads (GET, HEAD, OPTIONS).
func SafeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// CookieMayChange reports whether a request that carries only the session
// cookie may change state: a method that only reads always may; any other
// needs the session's token in X-CSRF-Token and must not come from another
// site (Sec-Fetch-Site cross-site or same-site, which SameSite=Lax lets
// through for top-level navigations and sibling subdomains).
func CookieMayChange(method string, h http.Header, session string) bool {
	if SafeMethod(method) {
		return true
	}
	switch h.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	return CheckCSRF(session, h.Get(HeaderCSRF))
}
