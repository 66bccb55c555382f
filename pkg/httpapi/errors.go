package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// The fixed texts clients see. They are st2's, byte for byte.
const (
	msgInvalidCredentials = "Invalid or missing credentials"
	msgNoCredential       = "Unauthorized - One of Token or API key required."
	msgUnauthorized       = "Unauthorized"
	msgTokenExpired       = "Unauthorized - Token has expired."
	msgKeyDisabled        = "Unauthorized - API key is disabled."
	msgNotFound           = "The resource could not be found."
	msgUnavailable        = "Service unavailable, try again later."
	msgInternal           = "Internal Server Error"
	msgBodyTooLarge       = "Request body is too large."
)

// Error is an error with the status and text the client sees. Err, if set,
// is the cause; it is logged for 5xx answers and never sent.
type Error struct {
	Status  int
	Message string
	Err     error
	// RetryAfter, when positive, is sent as Retry-After (seconds).
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

func newError(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, format, args...)
}

var (
	errInvalidCredentials = &Error{Status: http.StatusUnauthorized, Message: msgInvalidCredentials}
	errNoCredential       = &Error{Status: http.StatusUnauthorized, Message: msgNoCredential}
	errUnauthorized       = &Error{Status: http.StatusUnauthorized, Message: msgUnauthorized}
	errTokenExpired       = &Error{Status: http.StatusUnauthorized, Message: msgTokenExpired}
	errKeyDisabled        = &Error{Status: http.StatusUnauthorized, Message: msgKeyDisabled}
	errNotFound           = &Error{Status: http.StatusNotFound, Message: msgNotFound}
)

// statuses maps the sentinels of other packages to HTTP. This table and
// toError are the only place that knows how a package error becomes a status.
var statuses = []struct {
	err    error
	status int
	msg    string
}{
	{backend.ErrInvalidCredentials, http.StatusUnauthorized, msgInvalidCredentials},
	{backend.ErrUnavailable, http.StatusServiceUnavailable, msgUnavailable},
	{backend.ErrBusy, http.StatusServiceUnavailable, msgUnavailable},
	{store.ErrUnavailable, http.StatusServiceUnavailable, msgUnavailable},
	{store.ErrNotFound, http.StatusNotFound, msgNotFound},
	{store.ErrAlreadyExists, http.StatusConflict, "The resource already exists."},
	// A dependency that did not answer within the request's time.
	{context.DeadlineExceeded, http.StatusServiceUnavailable, msgUnavailable},
	{context.Canceled, http.StatusServiceUnavailable, msgUnavailable},
}

// toError turns any error into the *Error the client sees: a known sentinel
// gets its status (a deadline or cancellation while waiting on a dependency
// is a 503), anything else is a logged 500 with a fixed text.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return &Error{Status: s.status, Message: s.msg, Err: err}
		}
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: msgBodyTooLarge, Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Message: msgInternal, Err: err}
}

// writeError sends err as {"faultstring": …}. 5xx causes are logged with the
// request id; the client only ever sees the fixed text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	setRetryAfter(w, e)
	if e.Status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("route", routePattern(r)),
			slog.Int("status", e.Status),
			slog.String("error", fmt.Sprint(e.Err)))
	}
	writeJSON(w, e.Status, faultBody{e.Message})
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

func setRetryAfter(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}
