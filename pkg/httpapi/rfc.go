package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// oauthError is the error shape of the RFC endpoints (RFC 6749 section 5.2,
// used by RFC 7662 and RFC 7009).
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// rfcHandle adapts a handler of an RFC endpoint: errors are written in the
// RFC's shape, and no answer may be cached.
func (s *Server) rfcHandle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		routed(r)
		setNoStore(w)
		if err := h(w, r); err != nil {
			s.writeRFCError(w, r, err)
		}
	}
}

// setNoStore forbids caching the answer, as RFC 6749 5.1 asks.
func setNoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeRFCError sends err in RFC 6749's shape, {"error", "error_description"},
// with the status of the errors table. 5xx answers and a locked account's
// 429 keep st2's faultstring body.
func (s *Server) writeRFCError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e.Status >= 500 || errors.Is(err, auth.ErrLoginLocked) {
		s.writeError(w, r, err) // logs the cause; a lockout's body is the same on every route
		return
	}
	setRetryAfter(w, e)
	code := "invalid_request"
	switch e.Status {
	case http.StatusTooManyRequests:
		code = "slow_down"
	case http.StatusUnauthorized:
		code = "invalid_client"
		// RFC 6749 5.2: a client that tried HTTP Basic is told the scheme.
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
		}
	case http.StatusForbidden:
		code = "insufficient_scope"
	}
	writeJSON(w, e.Status, oauthError{Code: code, Description: e.Message})
}

// rfcCaller authenticates the caller of introspect or revoke, as every
// route does (authenticate); an Authorization header of another scheme is
// RFC 6749's invalid_client.
func (s *Server) rfcCaller(r *http.Request) (auth.Principal, error) {
	p, err := s.authenticate(r)
	if errors.Is(err, auth.ErrNoCredential) && r.Header.Get("Authorization") != "" {
		return auth.Principal{}, auth.ErrInvalidCredentials
	}
	return p, err
}

// readRFCForm reads the body of an RFC endpoint and returns the token and
// its type hint: an application/x-www-form-urlencoded form, as the RFCs
// say, or a JSON object with the same fields (read as readObject reads
// JSON, whatever the Content-Type). Parameters in the query string do not
// count.
func readRFCForm(r *http.Request) (tok, hint string, err error) {
	raw, err := readBody(r)
	if err != nil {
		return "", "", err
	}
	trimmed := bytes.Trim(raw, jsonSpace)
	kind := bodyKind(r.Header.Get("Content-Type"))
	switch {
	case len(trimmed) > 0 && (looksLikeJSON(trimmed) || kind == kindJSON):
		tok, hint, err = rfcJSONFields(raw)
	case kind == kindForm:
		tok, hint, err = rfcFormFields(raw)
	default:
		err = badRequest("The body must be a JSON object or an application/x-www-form-urlencoded form.")
	}
	if err == nil && tok == "" {
		err = badRequest("The token parameter is required.")
	}
	return tok, hint, err
}

func rfcFormFields(raw []byte) (tok, hint string, err error) {
	q, err := url.ParseQuery(string(raw))
	if err != nil {
		return "", "", badRequest("The body is not a valid form.")
	}
	return q.Get("token"), q.Get("token_type_hint"), nil
}

func rfcJSONFields(raw []byte) (tok, hint string, err error) {
	obj, err := decodeJSONObject(raw)
	if err != nil {
		return "", "", err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"token", &tok}, {"token_type_hint", &hint}} {
		v := obj[f.name]
		s, isString := v.(string)
		if v != nil && !isString {
			return "", "", badRequest("The %s parameter must be a string.", f.name)
		}
		*f.dst = s
	}
	return tok, hint, nil
}
