package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

const userColumns = `name, password_hash, active, must_change_password, groups, extra, created_at, updated_at, password_changed_at`

// CreateUser inserts u. store.ErrAlreadyExists if the name is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	extra, err := encodeMetadata(u.Extra)
	if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.Name, u.PasswordHash, u.Active, u.MustChangePassword, nonNil(u.Groups), extra,
		ts(u.CreatedAt), ts(u.UpdatedAt), ts(u.PasswordChangedAt))
	return translate("create user", err)
}

// UserByName returns the user with that name. store.ErrNotFound if none.
func (s *Store) UserByName(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	return u, translate("user by name", err)
}

// ListUsers returns one page of users ordered by name, and how many there
// are, in one round trip.
func (s *Store) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, int, error) {
	var limit any // NULL: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	var (
		total int
		users []store.User
		b     pgx.Batch
	)
	b.Queue(`SELECT count(*) FROM users`).QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
	b.Queue(`SELECT `+userColumns+` FROM users ORDER BY name LIMIT $1 OFFSET $2`, limit, max(f.Offset, 0)).
		Query(func(rows pgx.Rows) (err error) {
			users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
			return err
		})
	if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, 0, translate("list users", err)
	}
	if users == nil {
		users = []store.User{}
	}
	return users, total, nil
}

// UpdateUser replaces every field of the user u.Name but the name and
// created_at. store.ErrNotFound if none.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	extra, err := encodeMetadata(u.Extra)
	if err != nil {
		return fmt.Errorf("postgres: update user: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET password_hash = $2, active = $3, must_change_password = $4,
		groups = $5, extra = $6, updated_at = $7, password_changed_at = $8 WHERE name = $1`,
		u.Name, u.PasswordHash, u.Active, u.MustChangePassword, nonNil(u.Groups), extra,
		ts(u.UpdatedAt), ts(u.PasswordChangedAt))
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return translate("update user", err)
}

// DeleteUser removes the user. store.ErrNotFound if none.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE name = $1`, name)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return translate("delete user", err)
}

// nonNil keeps a nil slice from being stored as NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanUser(row pgx.Row) (store.User, error) {
	var (
		u     store.User
		extra []byte
	)
	if err := row.Scan(&u.Name, &u.PasswordHash, &u.Active, &u.MustChangePassword, &u.Groups, &extra,
		&u.CreatedAt, &u.UpdatedAt, &u.PasswordChangedAt); err != nil {
		return store.User{}, err
	}
	if u.Groups == nil {
		u.Groups = []string{}
	}
	var err error
	if u.Extra, err = decodeMetadata(extra); err != nil {
		return store.User{}, fmt.Errorf("extra of user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC(), u.PasswordChangedAt.UTC()
	return u, nil
}
