package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// The fixed texts clients see. They are st2's, byte for byte.
const (
	msgInvalidCredentials = "Invalid or missing credentials"
	msgNoCredential       = "Unauthorized - One of Token or API key required."
	msgUnauthorized       = "Unauthorized"
	msgTokenExpired       = "Unauthorized - Token has expired."
	msgKeyDisabled        = "Unauthorized - API key is disabled."
	msgKeyExpired         = "Unauthorized - API key has expired."
	msgThrottled          = "Too many failed attempts. Try again later."
	msgForbidden          = "Forbidden"
	msgBadRequest         = "Bad request"
	msgNotFound           = "The resource could not be found."
	msgConflict           = "The resource already exists."
	msgUnavailable        = "Service unavailable, try again later."
	msgInternal           = "Internal Server Error"
	msgBodyTooLarge       = "Request body is too large."
)

// codeTooLarge is the code of a body over maxBodyBytes (an
// *http.MaxBytesError): the one answer the domain never gives.
const codeTooLarge = "too_large"

// codes maps every error code to its status and text. This table is the
// only place that knows how an error becomes a status. A text marked fixed
// is always sent; otherwise the error's own message is, when it has one.
var codes = map[string]struct {
	status int
	text   string
	fixed  bool
}{
	auth.ENOAUTH:       {http.StatusUnauthorized, msgNoCredential, true},
	auth.EUNKNOWN:      {http.StatusUnauthorized, msgUnauthorized, true},
	auth.EEXPIRED:      {http.StatusUnauthorized, msgTokenExpired, true},
	auth.EDISABLED:     {http.StatusUnauthorized, msgKeyDisabled, true},
	auth.EKEYEXPIRED:   {http.StatusUnauthorized, msgKeyExpired, true},
	auth.EINVALIDCREDS: {http.StatusUnauthorized, msgInvalidCredentials, true},
	auth.ETICKET:       {http.StatusUnauthorized, msgInvalidCredentials, false},
	auth.ETHROTTLED:    {http.StatusTooManyRequests, msgThrottled, true},
	auth.EFORBIDDEN:    {http.StatusForbidden, msgForbidden, false},
	auth.EINVALID:      {http.StatusBadRequest, msgBadRequest, false},
	auth.ENOTFOUND:     {http.StatusNotFound, msgNotFound, false},
	auth.ECONFLICT:     {http.StatusConflict, msgConflict, false},
	auth.EUNAVAILABLE:  {http.StatusServiceUnavailable, msgUnavailable, false},
	auth.EINTERNAL:     {http.StatusInternalServerError, msgInternal, true},
	codeTooLarge:       {http.StatusRequestEntityTooLarge, msgBodyTooLarge, true},
}

// apiError is what the client is answered for an error: the status, the
// text, and the Retry-After seconds (when positive). Err is the cause; it
// is logged for 5xx answers and never sent.
type apiError struct {
	Status     int
	Message    string
	RetryAfter int
	Err        error
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
}

func (e *apiError) Unwrap() error { return e.Err }

// toError turns any error into the answer the client sees, through codes:
// a domain error by its code, a store or backend sentinel by the code
// auth.ErrorCode gives it (a deadline or cancellation while waiting on a
// dependency is EUNAVAILABLE), anything else a logged 500 with a fixed
// text.
func toError(err error) *apiError {
	code := auth.ErrorCode(err)
	var maxBytes *http.MaxBytesError
	if code == auth.EINTERNAL && errors.As(err, &maxBytes) {
		code = codeTooLarge
	}
	c := codes[code]
	e := &apiError{Status: c.status, Message: c.text, Err: err}
	var ae *auth.Error
	if errors.As(err, &ae) {
		e.Err = ae.Err // the cause, for the log: the rest is in the answer
	}
	if msg := auth.ErrorMessage(err); msg != "" && !c.fixed {
		e.Message = msg
	}
	if wait := auth.ErrorRetryAfter(err); wait > 0 || code == auth.ETHROTTLED {
		e.RetryAfter = retrySeconds(wait)
	}
	return e
}

// retrySeconds is Retry-After for a wait: whole seconds, rounded up, at
// least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// badRequest is an error of the request itself (400), with its text.
func badRequest(format string, args ...any) error {
	return auth.Errorf(auth.EINVALID, format, args...)
}

// forbidden is a refusal of the HTTP layer itself (403), with its text.
func forbidden(format string, args ...any) error {
	return auth.Errorf(auth.EFORBIDDEN, format, args...)
}

// errNotFound is the answer for a path nothing serves.
var errNotFound = &auth.Error{Code: auth.ENOTFOUND}

// withMessage gives err the client text msg when err has the code: st2's
// texts for a missing or taken API key name the route's reference.
func withMessage(err error, code, msg string) error {
	if err != nil && auth.ErrorCode(err) == code {
		return &auth.Error{Code: code, Message: msg, Err: err}
	}
	return err
}

// writeError sends err as {"faultstring": …}. 5xx causes are logged with the
// request id; the client only ever sees the fixed text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if clientGone(r, e) {
		// Not a failure of ours: no ERROR line, and 499 (nginx's "client
		// closed request") in the access log and the metrics, not a 5xx.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "client went away",
			slog.String("request_id", requestID(r.Context())), slog.String("route", routePattern(r)))
		writeJSON(w, statusClientClosed, faultBody{msgClientClosed})
		return
	}
	setRetryAfter(w, e)
	if e.Status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(r.Context())),
			slog.String("route", routePattern(r)),
			slog.Int("status", e.Status),
			slog.String("error", fmt.Sprint(e.Err)))
	}
	writeJSON(w, e.Status, faultBody{e.Message})
}

// statusClientClosed is nginx's code for a request whose client hung up
// before the answer: it is never seen by the client, only in logs and
// metrics.
const (
	statusClientClosed = 499
	msgClientClosed    = "Client closed request."
)

// clientGone reports whether a would-be 5xx is only the client hanging
// up: its request's context was cancelled, so what ended the work was the
// client, not a dependency. A 4xx stays what it is (a body cut short is
// still a bad request).
func clientGone(r *http.Request, e *apiError) bool {
	return e.Status >= 500 && errors.Is(r.Context().Err(), context.Canceled)
}

type faultBody struct {
	Faultstring string `json:"faultstring"`
}

// writeJSON writes v compactly, without escaping <, > and & (as st2's orjson).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"faultstring":"Internal Server Error"}`)
		status = http.StatusInternalServerError
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

func setRetryAfter(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}
