package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func newUser(name string) store.User {
	return store.User{Name: name, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$" + randomHex(8) + "$" + randomHex(16),
		Active: true, Groups: []string{"ops", "cn=dev,ou=groups,dc=example,dc=org"},
		Extra:     map[string]any{"email": name + "@example.org", "n": float64(1)},
		CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0}
}

func checkUser(t *testing.T, got, want store.User) {
	t.Helper()
	want.CreatedAt, want.UpdatedAt = want.CreatedAt.Truncate(time.Microsecond).UTC(), want.UpdatedAt.Truncate(time.Microsecond).UTC()
	want.PasswordChangedAt = want.PasswordChangedAt.Truncate(time.Microsecond).UTC()
	if got.Name != want.Name || got.PasswordHash != want.PasswordHash || got.Active != want.Active ||
		got.MustChangePassword != want.MustChangePassword || !slices.Equal(got.Groups, want.Groups) ||
		!reflect.DeepEqual(got.Extra, want.Extra) || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.UpdatedAt.Equal(want.UpdatedAt) || !got.PasswordChangedAt.Equal(want.PasswordChangedAt) {
		t.Errorf("user\n got %+v\nwant %+v", got, want)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("alice")
	u.MustChangePassword = true
	must(t, "CreateUser", s.CreateUser(ctx, u))
	got, err := s.UserByName(ctx, "alice")
	must(t, "UserByName", err)
	checkUser(t, got, u)
	_, err = s.UserByName(ctx, "ALICE")
	wantErr(t, "UserByName is exact", err, store.ErrNotFound)
	bare := store.User{Name: "bob", PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0}
	must(t, "CreateUser without groups", s.CreateUser(ctx, bare))
	got, err = s.UserByName(ctx, "bob")
	must(t, "UserByName", err)
	if got.Groups == nil || got.Extra == nil || got.Active {
		t.Errorf("bare user read back as %+v: want empty non-nil Groups and Extra, inactive", got)
	}
	wantErr(t, "CreateUser with a taken name", s.CreateUser(ctx, newUser("alice")), store.ErrAlreadyExists)
}

func testUpdateAndDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("carol")
	must(t, "CreateUser", s.CreateUser(ctx, u))
	u.PasswordHash, u.Active, u.Groups, u.Extra = "$2y$10$new", false, []string{"x"}, map[string]any{}
	u.UpdatedAt, u.PasswordChangedAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
	changed := u
	changed.CreatedAt = t0.Add(time.Minute) // never changes
	must(t, "UpdateUser", s.UpdateUser(ctx, changed))
	got, err := s.UserByName(ctx, "carol")
	must(t, "UserByName", err)
	checkUser(t, got, u)
	wantErr(t, "UpdateUser unknown", s.UpdateUser(ctx, newUser("nobody")), store.ErrNotFound)
	must(t, "DeleteUser", s.DeleteUser(ctx, "carol"))
	_, err = s.UserByName(ctx, "carol")
	wantErr(t, "UserByName after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "carol"), store.ErrNotFound)
}

func testListUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	users, total, err := s.ListUsers(ctx, store.UserFilter{})
	must(t, "ListUsers empty", err)
	if users == nil || len(users) != 0 || total != 0 {
		t.Fatalf("empty store: %v, %d", users, total)
	}
	for _, n := range []string{"dave", "alice", "carol", "bob", "erin"} {
		must(t, "CreateUser", s.CreateUser(ctx, newUser(n)))
	}
	page, total, err := s.ListUsers(ctx, store.UserFilter{Limit: 2, Offset: 1})
	must(t, "ListUsers", err)
	var names []string
	for _, u := range page {
		names = append(names, u.Name)
	}
	if total != 5 || !slices.Equal(names, []string{"bob", "carol"}) {
		t.Errorf("page = %v of %d, want [bob carol] of 5", names, total)
	}
	all, _, err := s.ListUsers(ctx, store.UserFilter{})
	must(t, "ListUsers all", err)
	if len(all) != 5 {
		t.Errorf("no limit gave %d users", len(all))
	}
}

func testUsersCancelled(t *testing.T, s store.Store) {
	must(t, "CreateUser", s.CreateUser(t.Context(), newUser("alice")))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, call := range map[string]func() error{
		"CreateUser": func() error { return s.CreateUser(ctx, newUser("bob")) },
		"UserByName": func() error { _, err := s.UserByName(ctx, "alice"); return err },
		"ListUsers":  func() error { _, _, err := s.ListUsers(ctx, store.UserFilter{}); return err },
		"UpdateUser": func() error { return s.UpdateUser(ctx, newUser("alice")) },
		"DeleteUser": func() error { return s.DeleteUser(ctx, "alice") },
	} {
		if err := call(); !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v, want ErrUnavailable and context.Canceled", name, err)
		}
	}
	if _, err := s.UserByName(t.Context(), "alice"); err != nil {
		t.Errorf("alice after the cancelled calls: %v", err)
	}
}
