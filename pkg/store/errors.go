package store

// Unavailable wraps err, a failure of the database itself, so that
// errors.Is(result, ErrUnavailable) holds while err (a context error, a
// network error, a driver error) stays reachable through errors.Is and
// errors.As. It returns nil if err is nil. Implementations call it at their
// edge, for everything that is neither ErrNotFound nor ErrAlreadyExists.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{err: err}
}

// unavailableError is the error Unavailable returns.
type unavailableError struct{ err error }

// Error is the cause's message after "store unavailable: ".
func (e *unavailableError) Error() string { return ErrUnavailable.Error() + ": " + e.err.Error() }

// Unwrap makes both ErrUnavailable and the cause visible to errors.Is/As.
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }
