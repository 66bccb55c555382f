package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// uniqueViolation is SQLSTATE unique_violation.
const uniqueViolation = "23505"

// translate turns a pgx error into the store's vocabulary: pgx.ErrNoRows
// becomes store.ErrNotFound, a unique violation store.ErrAlreadyExists, and
// anything else store.ErrUnavailable. op names the operation in the
// message. translate(op, nil) is nil.
func translate(op string, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	case errors.As(err, &pgErr) && pgErr.Code == uniqueViolation:
		return fmt.Errorf("postgres: %s: %w", op, store.ErrAlreadyExists)
	default:
		return fmt.Errorf("postgres: %s: %w", op, store.Unavailable(err))
	}
}
