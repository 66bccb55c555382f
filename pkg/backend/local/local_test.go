package local_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// TestProbe: a name in the store is the store's, whatever refuses the
// login; only a missing name is Unknown. The identity carries the groups
// and the must-change flag.
func TestProbe(t *testing.T) {
	s := newSQLite(t)
	b := newBackend(t, s, small, nil)
	addUser(t, s, "alice", "alice-password", "", small, func(u *store.User) { u.Groups = []string{"ops", "dev"} })
	addUser(t, s, "ivan", "ivan-password", "", small, func(u *store.User) { u.Active = false })
	addUser(t, s, "mcp", "mcp-password", "", small, func(u *store.User) { u.MustChangePassword = true })
	addUser(t, s, "plain", "", "plain-password", small, nil)
	tests := []struct {
		name, user, password string
		want                 backend.Verdict
		mustChange           bool
	}{
		{"right password", "alice", "alice-password", backend.Accepted, false},
		{"wrong password", "alice", "alice-passwore", backend.Refused, false},
		{"names are exact", "Alice", "alice-password", backend.Unknown, false},
		{"inactive, right password", "ivan", "ivan-password", backend.Refused, false},
		{"must change the password", "mcp", "mcp-password", backend.Accepted, true},
		{"plaintext in the store never matches", "plain", "plain-password", backend.Refused, false},
		{"unknown", "mallory", "alice-password", backend.Unknown, false},
		{"empty password", "alice", "", backend.Refused, false},
		{"control character in the name", "alice\n", "alice-password", backend.Refused, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, v, err := b.Probe(t.Context(), tt.user, tt.password)
			if err != nil || v != tt.want {
				t.Fatalf("Probe(%q) = %v, %v; want %v", tt.user, v, err, tt.want)
			}
			if v == backend.Accepted && (id.Username != tt.user || id.MustChangePassword != tt.mustChange || id.Backend != "") {
				t.Errorf("identity %+v", id)
			}
		})
	}
	id, err := b.Authenticate(t.Context(), "alice", "alice-password")
	if err != nil || !slices.Equal(id.Groups, []string{"ops", "dev"}) {
		t.Errorf("Authenticate(alice) = %+v, %v; want groups [ops dev]", id, err)
	}
}

// TestRehash: an imported bcrypt hash ($2y$ from htpasswd) and an
// argon2id hash at other parameters are replaced at the next good login,
// on both stores; the other fields are kept.
func TestRehash(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("imported-password"), 4)
	if err != nil {
		t.Fatal(err)
	}
	y := "$2y$" + string(bc[4:])
	older := local.Params{Memory: 32, Iterations: 1, Parallelism: 1}
	for kind, open := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			s := open(t)
			log, logs := newLog()
			b := newBackend(t, s, small, log)
			before := addUser(t, s, "imported", "", y, small, func(u *store.User) { u.MustChangePassword = true })
			addUser(t, s, "older", "older-password", "", older, nil)
			rehashed(t, b, s, "imported", "imported-password", y, before)
			rehashed(t, b, s, "older", "older-password", hashOf(t, s, "older"), store.User{})
			if strings.Contains(logs.String(), "password=") || strings.Contains(logs.String(), "argon2id$") {
				t.Errorf("the log holds a password or a hash:\n%s", logs)
			}
			if !strings.Contains(logs.String(), "from=\"bcrypt cost 4\"") {
				t.Errorf("the re-hash was not logged:\n%s", logs)
			}
		})
	}
}

// rehashed checks that a wrong password leaves user's hash (oldHash)
// alone and the right one replaces it with one at the current parameters,
// keeping before's other fields (when before is set).
func rehashed(t *testing.T, b *local.Backend, s store.UserStore, user, password, oldHash string, before store.User) {
	t.Helper()
	if _, err := b.Authenticate(t.Context(), user, password+"x"); err != backend.ErrInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	if h := hashOf(t, s, user); h != oldHash {
		t.Fatalf("a wrong password re-hashed %s: %q", user, h)
	}
	if _, err := b.Authenticate(t.Context(), user, password); err != nil {
		t.Fatalf("right password: %v", err)
	}
	after, err := s.UserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("%s's hash after a good login: %q", user, after.PasswordHash)
	}
	if before.Name != "" && (after.MustChangePassword != before.MustChangePassword || !after.PasswordChangedAt.Equal(before.PasswordChangedAt) ||
		!after.UpdatedAt.Equal(before.UpdatedAt) || !slices.Equal(after.Groups, before.Groups)) {
		t.Errorf("re-hashing changed other fields: %+v, was %+v", after, before)
	}
	if _, err := b.Authenticate(t.Context(), user, password); err != nil {
		t.Errorf("login with the new hash: %v", err)
	}
}

// TestNoRehashForInactive: only a good login re-hashes.
func TestNoRehashForInactive(t *testing.T) {
	s := newSQLite(t)
	b := newBackend(t, s, small, nil)
	bc, _ := bcrypt.GenerateFromPassword([]byte("imported-password"), 4)
	addUser(t, s, "gone", "", string(bc), small, func(u *store.User) { u.Active = false })
	if _, err := b.Authenticate(t.Context(), "gone", "imported-password"); err != backend.ErrInvalidCredentials {
		t.Fatalf("inactive user: %v", err)
	}
	if h := hashOf(t, s, "gone"); h != string(bc) {
		t.Errorf("an inactive user's hash was replaced: %q", h)
	}
}

// faultyStore is a real store whose UpdateUser fails, and which can run a
// hook after each UserByName, to stand for a change made by someone else.
type faultyStore struct {
	store.Store
	failUpdate bool
	afterRead  func()
}

func (f *faultyStore) UserByName(ctx context.Context, name string) (store.User, error) {
	u, err := f.Store.UserByName(ctx, name)
	if f.afterRead != nil {
		f.afterRead()
	}
	return u, err
}

func (f *faultyStore) UpdateUser(ctx context.Context, u store.User) error {
	if f.failUpdate {
		return store.Unavailable(errors.New("disk full"))
	}
	return f.Store.UpdateUser(ctx, u)
}

// TestRehashFailureKeepsLogin: a re-hash that cannot be saved is logged,
// and the login succeeds.
func TestRehashFailureKeepsLogin(t *testing.T) {
	s := &faultyStore{Store: newSQLite(t), failUpdate: true}
	log, logs := newLog()
	b := newBackend(t, s, small, log)
	older := local.Params{Memory: 32, Iterations: 1, Parallelism: 1}
	u := addUser(t, s, "alice", "alice-password", "", older, nil)
	if _, err := b.Authenticate(t.Context(), "alice", "alice-password"); err != nil {
		t.Fatalf("login with a failing re-hash: %v", err)
	}
	if h := hashOf(t, s, "alice"); h != u.PasswordHash {
		t.Errorf("hash changed: %q", h)
	}
	if !strings.Contains(logs.String(), "cannot save the re-hashed password") || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("the failure was not logged:\n%s", logs)
	}
}

// TestRehashKeepsNewerPassword: a password set while a login was hashing
// is not overwritten by that login's re-hash.
func TestRehashKeepsNewerPassword(t *testing.T) {
	s := &faultyStore{Store: newSQLite(t)}
	b := newBackend(t, s, small, nil)
	older := local.Params{Memory: 32, Iterations: 1, Parallelism: 1}
	addUser(t, s, "alice", "alice-password", "", older, nil)
	newer, _ := local.HashPassword("new-password", small)
	s.afterRead = func() {
		s.afterRead = nil
		u, _ := s.Store.UserByName(t.Context(), "alice")
		u.PasswordHash = newer
		if err := s.Store.UpdateUser(t.Context(), u); err != nil {
			t.Error(err)
		}
	}
	if _, err := b.Authenticate(t.Context(), "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if h := hashOf(t, s, "alice"); h != newer {
		t.Errorf("the newer password was overwritten: %q", h)
	}
}

// TestStoreUnavailable: a store that cannot be read is ErrUnavailable,
// never a refusal.
func TestStoreUnavailable(t *testing.T) {
	s := newSQLite(t)
	b := newBackend(t, s, small, nil)
	addUser(t, s, "alice", "alice-password", "", small, nil)
	_ = s.Close()
	_, v, err := b.Probe(t.Context(), "alice", "alice-password")
	if !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Probe on a closed store = %v, %v; want ErrUnavailable", v, err)
	}
}

// TestHash: Backend.Hash hashes at the backend's parameters.
func TestHash(t *testing.T) {
	s := newSQLite(t)
	b := newBackend(t, s, small, nil)
	h, err := b.Hash(t.Context(), "alice-password")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("Hash = %q, %v", h, err)
	}
	addUser(t, s, "alice", "", h, small, nil)
	if _, err := b.Authenticate(t.Context(), "alice", "alice-password"); err != nil {
		t.Error(err)
	}
}

// TestRefusalsLookAlike logs the median times of an unknown user, an
// inactive user and a wrong password at the default parameters. The bound
// is loose: the precise timing test lives with the HTTP service.
func TestRefusalsLookAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the default parameters")
	}
	s := newSQLite(t)
	b := newBackend(t, s, local.DefaultParams(), nil)
	addUser(t, s, "alice", "alice-password", "", local.DefaultParams(), nil)
	addUser(t, s, "ivan", "ivan-password", "", local.DefaultParams(), func(u *store.User) { u.Active = false })
	cases := []struct{ user, password string }{{"alice", "wrong"}, {"mallory", "wrong"}, {"ivan", "ivan-password"}}
	const rounds = 9
	times := make([][]time.Duration, len(cases))
	for range rounds {
		for i, c := range cases {
			start := time.Now()
			if _, err := b.Authenticate(t.Context(), c.user, c.password); err != backend.ErrInvalidCredentials {
				t.Fatalf("%s: %v", c.user, err)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	wrong := median(times[0])
	for i, c := range cases[1:] {
		m := median(times[i+1])
		t.Logf("%s: median %v (wrong password: %v)", c.user, m, wrong)
		if m < wrong/3 || m > wrong*3 {
			t.Errorf("%s takes %v, a wrong password %v", c.user, m, wrong)
		}
	}
}
