package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Error codes: what went wrong, in the domain's words. pkg/httpapi maps
// each to a status and, for most, a fixed text.
const (
	// ENOAUTH: no credential was sent.
	ENOAUTH = "noauth"
	// EUNKNOWN: the token or API key is not known (or was revoked).
	EUNKNOWN = "unknown"
	// EEXPIRED: the token has expired.
	EEXPIRED = "expired"
	// EDISABLED: the API key is disabled.
	EDISABLED = "disabled"
	// EKEYEXPIRED: the API key has expired.
	EKEYEXPIRED = "key_expired"
	// EINVALIDCREDS: the user name and password were refused, or could not
	// be read. A wrong password and an unknown user are the same.
	EINVALIDCREDS = "invalid_credentials"
	// ETHROTTLED: too many failed attempts; Error.RetryAfter says when to
	// come back.
	ETHROTTLED = "throttled"
	// EFORBIDDEN: the caller is known but may not do this.
	EFORBIDDEN = "forbidden"
	// EINVALID: the request itself is wrong; Message says how.
	EINVALID = "invalid"
	// ENOTFOUND: what the request names does not exist (for this caller).
	ENOTFOUND = "not_found"
	// ECONFLICT: what the request would create exists already.
	ECONFLICT = "conflict"
	// EUNAVAILABLE: the store or the backend did not answer in time.
	EUNAVAILABLE = "unavailable"
	// EINTERNAL: anything else; the cause is logged, never shown.
	EINTERNAL = "internal"
)

// Error is a domain error. Message, when set, is meant for the client as
// it is; Err is the cause, for logs only.
type Error struct {
	Code    string
	Message string
	// RetryAfter is how long an ETHROTTLED caller should wait.
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Code
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a message for the client.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, ErrExpired) holds for every expired-token answer,
// whatever its message or cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels of the codes the Service answers with most often, for
// errors.Is.
var (
	// ErrNoCredential: the request carries no credential at all (ENOAUTH).
	ErrNoCredential error = &Error{Code: ENOAUTH}
	// ErrUnknown: no such token or key (EUNKNOWN).
	ErrUnknown error = &Error{Code: EUNKNOWN}
	// ErrExpired: the token has expired (EEXPIRED).
	ErrExpired error = &Error{Code: EEXPIRED}
	// ErrDisabled: the API key is disabled (EDISABLED).
	ErrDisabled error = &Error{Code: EDISABLED}
	// ErrKeyExpired: the API key has expired (EKEYEXPIRED).
	ErrKeyExpired error = &Error{Code: EKEYEXPIRED}
	// ErrInvalidCredentials: a wrong password, an unknown user or
	// credentials that could not be read (EINVALIDCREDS).
	ErrInvalidCredentials error = &Error{Code: EINVALIDCREDS}
)

// ErrInactive is Lookup's answer for anything unknown, expired, revoked or
// disabled: introspection reports all of them the same way.
var ErrInactive = errors.New("inactive credential")

// ErrLoginLocked is the cause of every ETHROTTLED error of a locked account
// or address, as opposed to a scanning caller slowed down: transports give
// it the same answer on every route that checks a password.
var ErrLoginLocked = errors.New("login locked")

// sentinelCodes translates the sentinels of the store and the backends,
// and a dependency that did not answer within the request's time.
var sentinelCodes = []struct {
	err  error
	code string
}{
	{backend.ErrInvalidCredentials, EINVALIDCREDS},
	{backend.ErrUnavailable, EUNAVAILABLE},
	{backend.ErrBusy, EUNAVAILABLE},
	{store.ErrUnavailable, EUNAVAILABLE},
	{store.ErrNotFound, ENOTFOUND},
	{store.ErrAlreadyExists, ECONFLICT},
	{context.DeadlineExceeded, EUNAVAILABLE},
	{context.Canceled, EUNAVAILABLE},
}

// ErrorCode returns the code of err: an *Error's own, else the code of a
// store or backend sentinel it wraps, else EINTERNAL ("" for nil).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	return EINTERNAL
}

// ErrorMessage returns the client's text of err: an *Error's Message, or
// "" when it has none (the transport then says what the code says).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// ErrorRetryAfter returns how long an ETHROTTLED caller should wait.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
