package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate turns a driver error into the store's vocabulary: sql.ErrNoRows
// becomes store.ErrNotFound, a unique or primary key violation
// store.ErrAlreadyExists, and anything else store.ErrUnavailable. op names
// the operation in the message. translate(op, nil) is nil.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrAlreadyExists)
	default:
		return fmt.Errorf("sqlite: %s: %w", op, store.Unavailable(err))
	}
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}
