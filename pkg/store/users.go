package store

import (
	"context"
	"time"
)

// User is an account of the local backend. PasswordHash is a PHC-style
// string ($argon2id$…, or a $2y$ bcrypt hash imported from htpasswd and
// re-hashed at the next good login); it never leaves the server.
type User struct {
	Name               string
	PasswordHash       string
	Active             bool
	MustChangePassword bool
	Groups             []string       // never nil once read back
	Extra              map[string]any // never nil once read back
	CreatedAt          time.Time      // UTC, microsecond precision
	UpdatedAt          time.Time
	PasswordChangedAt  time.Time
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Limit  int // at most this many; <= 0 means no limit
	Offset int // skip this many
}

// UserStore keeps the local backend's users.
type UserStore interface {
	// CreateUser inserts u. ErrAlreadyExists if the name is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByName returns the user with that name (exact match).
	// ErrNotFound if none.
	UserByName(ctx context.Context, name string) (User, error)
	// ListUsers returns one page of users ordered by name, and the number
	// of users in all.
	ListUsers(ctx context.Context, f UserFilter) (users []User, total int, err error)
	// UpdateUser replaces every field of the user named u.Name but Name and
	// CreatedAt. ErrNotFound if none.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user. ErrNotFound if none.
	DeleteUser(ctx context.Context, name string) error
}
