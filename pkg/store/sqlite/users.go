package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

const userColumns = `name, password_hash, active, must_change_password, groups, extra, created_at, updated_at, password_changed_at`

// CreateUser inserts u. store.ErrAlreadyExists if the name is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	groups, extra, err := encodeUserJSON(u)
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	return s.write(ctx, "create user", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Name, u.PasswordHash, u.Active, u.MustChangePassword, groups, extra,
			micros(u.CreatedAt), micros(u.UpdatedAt), micros(u.PasswordChangedAt))
		return err
	})
}

// UserByName returns the user with that name. store.ErrNotFound if none.
func (s *Store) UserByName(ctx context.Context, name string) (store.User, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name)
	u, err := scanUser(row)
	return u, translate("user by name", err)
}

// ListUsers returns one page of users ordered by name, and how many there
// are, from one snapshot.
func (s *Store) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, int, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, translate("list users", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&total); err != nil {
		return nil, 0, translate("list users", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name LIMIT ? OFFSET ?`,
		limit, max(f.Offset, 0))
	if err != nil {
		return nil, 0, translate("list users", err)
	}
	defer rows.Close()
	users := []store.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, translate("list users", err)
		}
		users = append(users, u)
	}
	return users, total, translate("list users", rows.Err())
}

// UpdateUser replaces every field of the user u.Name but the name and
// created_at. store.ErrNotFound if none.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	groups, extra, err := encodeUserJSON(u)
	if err != nil {
		return fmt.Errorf("sqlite: update user: %w", err)
	}
	return s.write(ctx, "update user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, active = ?, must_change_password = ?,
			groups = ?, extra = ?, updated_at = ?, password_changed_at = ? WHERE name = ?`,
			u.PasswordHash, u.Active, u.MustChangePassword, groups, extra,
			micros(u.UpdatedAt), micros(u.PasswordChangedAt), u.Name)
		return oneRow(res, err)
	})
}

// DeleteUser removes the user. store.ErrNotFound if none.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.write(ctx, "delete user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		return oneRow(res, err)
	})
}

func encodeUserJSON(u store.User) (groups, extra string, err error) {
	g := u.Groups
	if g == nil {
		g = []string{}
	}
	b, err := json.Marshal(g)
	if err != nil {
		return "", "", fmt.Errorf("groups: %w", err)
	}
	extra, err = encodeMetadata(u.Extra)
	return string(b), extra, err
}

func scanUser(row scanner) (store.User, error) {
	var (
		u                         store.User
		groups, extra             string
		created, updated, changed int64
	)
	if err := row.Scan(&u.Name, &u.PasswordHash, &u.Active, &u.MustChangePassword, &groups, &extra,
		&created, &updated, &changed); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal([]byte(groups), &u.Groups); err != nil {
		return store.User{}, fmt.Errorf("groups of user: %w", err)
	}
	if u.Groups == nil {
		u.Groups = []string{}
	}
	var err error
	if u.Extra, err = decodeMetadata(extra); err != nil {
		return store.User{}, fmt.Errorf("extra of user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = fromMicros(created), fromMicros(updated), fromMicros(changed)
	return u, nil
}
