package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// UpdateUser changes a local user (admins only). A new password passes
// the policy and clears the account's throttle counters; setting Active
// false cuts the user off at once (tokens deleted, API keys disabled and
// locked), as removal does.
func (s *Service) UpdateUser(ctx context.Context, caller Principal, name string, ch UserChange) (store.User, error) {
	if err := s.usersFor(caller); err != nil {
		return store.User{}, err
	}
	if err := mayChange(caller); err != nil {
		return store.User{}, err
	}
	u, err := s.readUser(ctx, name)
	if err != nil {
		return store.User{}, err
	}
	wasActive := u.Active
	if err := s.applyChange(ctx, &u, ch); err != nil {
		return store.User{}, err
	}
	if err := s.writeUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if err := s.afterUserChange(ctx, u, ch, wasActive); err != nil {
		return store.User{}, err
	}
	s.audit(ctx, auditUserUpdated, outcomeSuccess, u.Name, slog.String("by", caller.User),
		slog.Bool("active", u.Active), slog.Bool("must_change_password", u.MustChangePassword),
		slog.Bool("password_changed", ch.Password != nil))
	return u, nil
}

// applyChange sets ch's fields on u.
func (s *Service) applyChange(ctx context.Context, u *store.User, ch UserChange) error {
	now := s.now().Truncate(time.Microsecond)
	if ch.Password != nil {
		hash, err := s.hashPassword(ctx, u.Name, *ch.Password)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordChangedAt = hash, now
	}
	if ch.Active != nil {
		u.Active = *ch.Active
	}
	if ch.MustChangePassword != nil {
		u.MustChangePassword = *ch.MustChangePassword
	}
	if ch.Groups != nil {
		u.Groups = nonNil(*ch.Groups)
	}
	if ch.Extra != nil {
		u.Extra = nonNilMap(*ch.Extra)
	}
	u.UpdatedAt = now
	return nil
}

// afterUserChange cuts a user just disabled off, and forgets the
// throttle counters and cached logins of one whose password was set.
func (s *Service) afterUserChange(ctx context.Context, u store.User, ch UserChange, wasActive bool) error {
	if ch.Password != nil || !u.Active {
		s.basic.forget(u.Name)
	}
	if wasActive && !u.Active {
		if _, _, err := s.cutUser(ctx, u.Name, true); err != nil {
			return err
		}
	}
	if ch.Password != nil {
		return s.clearAccountFailures(ctx, u.Name)
	}
	return nil
}

// DeleteUser removes a local user (admins only) and cuts them off: their
// tokens are deleted and their API keys disabled and locked, so that a
// user re-added under the name gets none of them back.
func (s *Service) DeleteUser(ctx context.Context, caller Principal, name string) error {
	if err := s.usersFor(caller); err != nil {
		return err
	}
	if err := mayChange(caller); err != nil {
		return err
	}
	sctx, cancel := s.storeCtx(ctx)
	err := s.cfg.Store.DeleteUser(sctx, name)
	cancel()
	if err != nil {
		return err
	}
	s.basic.forget(name)
	n, keys, err := s.cutUser(ctx, name, true)
	if err != nil {
		return err
	}
	s.audit(ctx, auditUserDeleted, outcomeSuccess, name, slog.String("by", caller.User),
		slog.Int("tokens_revoked", n), slog.Int("apikeys_disabled", len(keys)))
	return nil
}

// ChangePassword sets the caller's own password: a local user, logged in
// with a token or with the current password (LoginForPasswordChange). It
// clears must_change_password and the throttle counters and deletes the
// user's other tokens; a token caller keeps the token it used.
func (s *Service) ChangePassword(ctx context.Context, caller Principal, newPassword string) error {
	if s.cfg.Local == nil || (caller.Backend != "" && caller.Backend != localName) {
		return ErrNotLocalUser
	}
	if caller.Kind != authn.KindToken && caller.Kind != KindPassword {
		return Errorf(EFORBIDDEN, "Change a password with the current password or a token, not an API key.")
	}
	if err := mayChange(caller); err != nil {
		return err
	}
	u, err := s.readUser(ctx, caller.User)
	if ErrorCode(err) == ENOTFOUND {
		return ErrNotLocalUser
	} else if err != nil {
		return err
	}
	f := false
	if err := s.applyChange(ctx, &u, UserChange{Password: &newPassword, MustChangePassword: &f}); err != nil {
		return err
	}
	if err := s.writeUser(ctx, u); err != nil {
		return err
	}
	s.basic.forget(u.Name)
	n, err := s.revokeOtherTokens(ctx, caller)
	if err != nil {
		return err
	}
	s.audit(ctx, auditPassword, outcomeSuccess, u.Name, slog.Int("tokens_revoked", n))
	return s.clearAccountFailures(ctx, u.Name)
}

// ChangePasswordAtLogin is the way in of a user who must change the
// password (ErrPasswordChangeRequired): the current password is checked
// like any login (LoginForPasswordChange: throttled, audited), the new one
// set (ChangePassword: policy, other tokens revoked), and the identity
// returned, no longer bound to change, for a session to be issued.
func (s *Service) ChangePasswordAtLogin(ctx context.Context, user, current, newPassword string) (backend.Identity, error) {
	p, err := s.LoginForPasswordChange(ctx, user, current)
	if err != nil {
		return backend.Identity{}, err
	}
	if err := s.ChangePassword(ctx, p, newPassword); err != nil {
		return backend.Identity{}, err
	}
	return backend.Identity{Username: p.User, Groups: p.Groups, Backend: p.Backend}, nil
}

// localName is the local backend's name (local.Name).
const localName = "local"

// revokeOtherTokens deletes every token of caller's user but the one the
// caller used, which is put back.
func (s *Service) revokeOtherTokens(ctx context.Context, caller Principal) (int, error) {
	var own store.Token
	if caller.TokenHash != "" {
		sctx, cancel := s.storeCtx(ctx)
		t, err := s.cfg.Store.TokenByHash(sctx, caller.TokenHash)
		cancel()
		if err != nil {
			return 0, err
		}
		own = t
	}
	n, _, err := s.cutUser(ctx, caller.User, false)
	if err != nil || own.Hash == "" {
		return n, err
	}
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return n - 1, s.cfg.Store.CreateToken(sctx, own)
}

// UnlockUser forgets every failed login of user (admins only), from every
// address, so that the account's owner can log in again at once.
func (s *Service) UnlockUser(ctx context.Context, caller Principal, user string) error {
	if !s.IsAdmin(caller.User) {
		return Errorf(EFORBIDDEN, "Only admins may unlock accounts.")
	}
	if err := mayChange(caller); err != nil {
		return err
	}
	if !ValidUsername(user) {
		return Errorf(EINVALID, "not a user name")
	}
	if err := s.clearAccountFailures(ctx, user); err != nil {
		return err
	}
	s.audit(ctx, auditUnlock, outcomeSuccess, user, slog.String("by", caller.User))
	return nil
}

// clearPasswordSet forgets the failed logins of users whose password was
// set outside the API (a flat_file entry whose hash changed).
func (s *Service) clearPasswordSet(ctx context.Context, users []string) {
	for _, u := range users {
		s.basic.forget(u)
		if err := s.clearAccountFailures(ctx, u); err != nil {
			s.log.Warn("clearing the failed logins of a user whose password changed", slog.String("user", u),
				slog.String("error", err.Error()))
			continue
		}
		s.audit(ctx, auditUnlock, outcomeSuccess, u, slog.String("reason", "password_changed"))
	}
}

func (s *Service) readUser(ctx context.Context, name string) (store.User, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.UserByName(ctx, name)
}

func (s *Service) writeUser(ctx context.Context, u store.User) error {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.UpdateUser(ctx, u)
}
