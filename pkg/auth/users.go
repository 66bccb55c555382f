package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Hasher hashes the new passwords of local users: the local backend
// (local.Backend), in one of its hashing slots. CheckPolicy refuses a
// password that may not be set (8 to 1024 characters, not the user
// name), with a text for the client.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	CheckPolicy(name, password string) error
}

// MaxUserPage is the most users one ListUsers call returns.
const MaxUserPage = 100

// ErrNoLocalUsers answers the user routes when no local backend is
// configured (ENOTFOUND): there is no user store to manage.
var ErrNoLocalUsers error = &Error{Code: ENOTFOUND,
	Message: "Local users are not enabled: configure the local backend (auth.backend or auth.backends)."}

// ErrNotLocalUser refuses a password change of a user the local backend
// does not hold (an LDAP or flat_file user).
var ErrNotLocalUser error = &Error{Code: EINVALID, Message: "Password changes are only possible for local users."}

// NewUser is what POST /auth/v1/users asks for. Exactly one of Password
// and PasswordHash is set; PasswordHash (a bcrypt hash, for htpasswd
// imports) only from admins.
type NewUser struct {
	Name               string
	Password           string
	PasswordHash       string
	Active             *bool // default true
	MustChangePassword bool
	Groups             []string
	Extra              map[string]any
}

// UserChange is what PUT /auth/v1/users/{name} changes; nil fields stay.
type UserChange struct {
	Password           *string
	Active             *bool
	MustChangePassword *bool
	Groups             *[]string
	Extra              *map[string]any
}

// usersFor returns the user store when a local backend is configured and
// caller is an admin.
func (s *Service) usersFor(caller Principal) error {
	if s.cfg.Local == nil {
		return ErrNoLocalUsers
	}
	if !s.IsAdmin(caller.User) {
		return Errorf(EFORBIDDEN, "Only admins may manage local users.")
	}
	return nil
}

// ListUsers returns one page of local users (admins only) and how many
// there are in all. limit is capped at MaxUserPage.
func (s *Service) ListUsers(ctx context.Context, caller Principal, limit, offset int) ([]store.User, int, error) {
	if err := s.usersFor(caller); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > MaxUserPage {
		limit = MaxUserPage
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.ListUsers(ctx, store.UserFilter{Limit: limit, Offset: max(0, offset)})
}

// GetUser returns a local user: admins may read anyone, others only
// themselves.
func (s *Service) GetUser(ctx context.Context, caller Principal, name string) (store.User, error) {
	if s.cfg.Local == nil {
		return store.User{}, ErrNoLocalUsers
	}
	if !s.IsAdmin(caller.User) && caller.User != name {
		return store.User{}, Errorf(EFORBIDDEN, "Only admins may read other users.")
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.UserByName(ctx, name)
}

// CreateUser adds a local user (admins only). The password must pass
// local.CheckPolicy (EINVALID with its text); a name taken is ECONFLICT.
func (s *Service) CreateUser(ctx context.Context, caller Principal, in NewUser) (store.User, error) {
	if err := s.usersFor(caller); err != nil {
		return store.User{}, err
	}
	if err := mayChange(caller); err != nil {
		return store.User{}, err
	}
	if !ValidUsername(in.Name) {
		return store.User{}, Errorf(EINVALID, "name must be a user name")
	}
	hash, err := s.newUserHash(ctx, in)
	if err != nil {
		return store.User{}, err
	}
	now := s.now().Truncate(time.Microsecond)
	u := store.User{Name: in.Name, PasswordHash: hash, Active: in.Active == nil || *in.Active,
		MustChangePassword: in.MustChangePassword, Groups: nonNil(in.Groups), Extra: nonNilMap(in.Extra),
		CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.cfg.Store.CreateUser(sctx, u); err != nil {
		return store.User{}, withConflict(err, in.Name)
	}
	s.audit(ctx, auditUserCreated, outcomeSuccess, u.Name, slog.String("by", caller.User),
		slog.Bool("active", u.Active), slog.Bool("must_change_password", u.MustChangePassword),
		slog.Bool("imported_hash", in.PasswordHash != ""))
	return u, nil
}

// newUserHash hashes in.Password, or checks in.PasswordHash (bcrypt only).
func (s *Service) newUserHash(ctx context.Context, in NewUser) (string, error) {
	switch {
	case in.PasswordHash != "" && in.Password != "":
		return "", Errorf(EINVALID, "give password or password_hash, not both")
	case in.PasswordHash != "":
		if _, err := bcrypt.Cost([]byte(in.PasswordHash)); err != nil || !strings.HasPrefix(in.PasswordHash, "$2") {
			return "", Errorf(EINVALID, "password_hash must be a bcrypt hash ($2a$, $2b$ or $2y$)")
		}
		return in.PasswordHash, nil
	}
	return s.hashPassword(ctx, in.Name, in.Password)
}

// hashPassword applies the password policy and hashes password.
func (s *Service) hashPassword(ctx context.Context, name, password string) (string, error) {
	if err := s.cfg.Local.CheckPolicy(name, password); err != nil {
		return "", &Error{Code: EINVALID, Message: policyText(err)}
	}
	return s.cfg.Local.Hash(ctx, password)
}

// policyText is a CheckPolicy refusal as the client reads it.
func policyText(err error) string {
	msg := err.Error()
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func withConflict(err error, name string) error {
	if errors.Is(err, store.ErrAlreadyExists) {
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("User %q already exists.", name), Err: err}
	}
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}
