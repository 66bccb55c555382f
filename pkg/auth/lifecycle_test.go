package auth_test

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// scoped logs user in and returns a token of that scope as a Principal,
// and its secret.
func (f *fixture) scoped(t *testing.T, user, scope string) (auth.Principal, string) {
	t.Helper()
	ctx := f.from(t, "192.0.2.1")
	id, err := f.svc.Login(ctx, user, users[user])
	if err != nil {
		t.Fatal(err)
	}
	issued, err := f.svc.Issue(ctx, id, auth.TokenRequest{Scope: scope})
	if err != nil {
		t.Fatalf("issue %q: %v", scope, err)
	}
	p, err := f.svc.Check(t.Context(), authn.Credential{Kind: authn.KindBearer, Value: issued.Secret})
	if err != nil {
		t.Fatal(err)
	}
	return p, issued.Secret
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := auth.ErrorCode(err); got != code {
		t.Errorf("%s: %v (code %q), want code %q", what, err, got, code)
	}
}

// TestScopes: a read credential changes nothing but revoking itself, and
// nobody creates a credential wider than their own.
func TestScopes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	write, _ := f.scoped(t, "joe", "")
	if write.Scope != "write" {
		t.Fatalf("default scope %q, want write", write.Scope)
	}
	read, readSecret := f.scoped(t, "joe", "read")
	if read.Scope != "read" {
		t.Fatalf("scope %q, want read", read.Scope)
	}
	_, otherSecret := f.scoped(t, "joe", "")

	k, _, err := f.svc.CreateAPIKey(ctx, write, auth.NewAPIKey{})
	if err != nil || k.Scope != "write" {
		t.Fatalf("write creates a key: %+v, %v", k, err)
	}
	_, _, err = f.svc.CreateAPIKey(ctx, read, auth.NewAPIKey{Scope: "read"})
	wantCode(t, "read creates a key", err, auth.EFORBIDDEN)
	_, err = f.svc.UpdateAPIKey(ctx, read, k.ID, auth.APIKeyUpdate{Metadata: map[string]any{"a": "b"}})
	wantCode(t, "read updates a key", err, auth.EFORBIDDEN)
	wantCode(t, "read deletes a key", f.svc.DeleteAPIKey(ctx, read, k.ID), auth.EFORBIDDEN)
	_, _, err = f.svc.RotateAPIKey(ctx, read, k.ID, 0)
	wantCode(t, "read rotates a key", err, auth.EFORBIDDEN)
	wantCode(t, "read revokes another token", f.svc.RevokeCredential(ctx, read, otherSecret, ""), auth.EFORBIDDEN)
	if _, err := f.svc.Check(ctx, authn.Credential{Kind: authn.KindToken, Value: otherSecret}); err != nil {
		t.Fatalf("the other token after a refused revocation: %v", err)
	}
	if err := f.svc.RevokeCredential(ctx, read, readSecret, ""); err != nil {
		t.Fatalf("read revokes itself: %v", err)
	}
	_, err = f.svc.Check(ctx, authn.Credential{Kind: authn.KindToken, Value: readSecret})
	wantCode(t, "the revoked read token", err, auth.EUNKNOWN)

	// Containment.
	pathKey, pathSecret, err := f.svc.CreateAPIKey(ctx, write, auth.NewAPIKey{Scope: "path:/hooks/a"})
	if err != nil || pathKey.Scope != "path:/hooks/a" {
		t.Fatalf("path key: %+v, %v", pathKey, err)
	}
	pathP, err := f.svc.Check(ctx, authn.Credential{Kind: authn.KindBearer, Value: *pathSecret})
	if err != nil || pathP.Scope != "path:/hooks/a" || pathP.Kind != authn.KindAPIKey {
		t.Fatalf("path key as Bearer: %+v, %v", pathP, err)
	}
	for _, tc := range []struct{ asked, want, code string }{
		{"", "path:/hooks/a", ""},
		{"path:/hooks/a/b", "path:/hooks/a/b", ""},
		{"read path:/hooks/a", "read path:/hooks/a", ""},
		{"write", "", auth.EFORBIDDEN},
		{"read", "", auth.EFORBIDDEN},
		{"path:/hooks/b", "", auth.EFORBIDDEN},
		{"delete", "", auth.EINVALID},
	} {
		got, _, err := f.svc.CreateAPIKey(ctx, pathP, auth.NewAPIKey{Scope: tc.asked})
		wantCode(t, "path key creates "+tc.asked, err, tc.code)
		if err == nil && got.Scope != tc.want {
			t.Errorf("path key creates %q: scope %q, want %q", tc.asked, got.Scope, tc.want)
		}
	}
	if err := pathP.Authorize("POST", "/hooks/a/x?st2-api-key=s"); err != nil {
		t.Errorf("path key on its path: %v", err)
	}
	wantCode(t, "path key elsewhere", pathP.Authorize("POST", "/hooks/b"), auth.EFORBIDDEN)
}

// TestKeyExpiry: an expired key is EKEYEXPIRED, inactive to introspection.
func TestKeyExpiry(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	joe := f.principal(t, "joe")
	k, secret, err := f.svc.CreateAPIKey(ctx, joe, auth.NewAPIKey{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cred := authn.Credential{Kind: authn.KindAPIKey, Value: *secret}
	p, err := f.svc.Check(ctx, cred)
	if err != nil || !p.ExpiresAt.Equal(k.ExpiresAt) || k.ExpiresAt.IsZero() {
		t.Fatalf("fresh key: %+v, %v (key expires %v)", p, err, k.ExpiresAt)
	}
	f.clock.Advance(61 * time.Minute)
	_, err = f.svc.Check(ctx, cred)
	wantCode(t, "expired key", err, auth.EKEYEXPIRED)
	if _, err := f.svc.Lookup(ctx, *secret, auth.HintAPIKey); err != auth.ErrInactive {
		t.Errorf("Lookup of an expired key: %v, want ErrInactive", err)
	}
	_, _, err = f.svc.CreateAPIKey(ctx, joe, auth.NewAPIKey{ExpiresAt: f.clock.Now().Add(-time.Second)})
	wantCode(t, "expires_at in the past", err, auth.EINVALID)
	_, _, err = f.svc.CreateAPIKey(ctx, joe, auth.NewAPIKey{ExpiresAt: f.clock.Now().Add(time.Hour), TTL: time.Hour})
	wantCode(t, "expires_at and ttl", err, auth.EINVALID)
}

// TestKeyRotation: both secrets work during the grace period, the old
// one stops when it ends, though this replica had it cached.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	joe := f.principal(t, "joe")
	k, secret, err := f.svc.CreateAPIKey(ctx, joe, auth.NewAPIKey{})
	if err != nil {
		t.Fatal(err)
	}
	old := authn.Credential{Kind: authn.KindAPIKey, Value: *secret}
	if _, err := f.svc.Check(ctx, old); err != nil { // now cached
		t.Fatal(err)
	}
	rotated, plain, err := f.svc.RotateAPIKey(ctx, joe, k.ID, time.Hour)
	if err != nil || rotated.ID != k.ID || plain == *secret {
		t.Fatalf("rotate: %+v, %v", rotated, err)
	}
	fresh := authn.Credential{Kind: authn.KindAPIKey, Value: plain}
	for range 2 { // the second time from the cache
		if p, err := f.svc.Check(ctx, old); err != nil || p.ExpiresAt.IsZero() {
			t.Fatalf("old secret in its grace period: %+v, %v", p, err)
		}
		if p, err := f.svc.Check(ctx, fresh); err != nil || !p.ExpiresAt.IsZero() {
			t.Fatalf("new secret: %+v, %v", p, err)
		}
	}
	f.clock.Advance(time.Hour + time.Second)
	_, err = f.svc.Check(ctx, old)
	wantCode(t, "old secret after its grace period", err, auth.EUNKNOWN)
	if _, err := f.svc.Check(ctx, fresh); err != nil {
		t.Fatalf("new secret after the grace period: %v", err)
	}
	// No grace: the old secret stops at once.
	_, newer, err := f.svc.RotateAPIKey(ctx, joe, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Check(ctx, fresh)
	wantCode(t, "secret rotated without grace", err, auth.EUNKNOWN)
	if _, err := f.svc.Check(ctx, authn.Credential{Kind: authn.KindBearer, Value: newer}); err != nil {
		t.Fatalf("newest secret as Bearer: %v", err)
	}
	_, _, err = f.svc.RotateAPIKey(ctx, f.principal(t, "svc"), k.ID, 0)
	wantCode(t, "another user rotates", err, auth.ENOTFOUND)
}

// touchCounter counts the writes of last_used_at that reach the store.
type touchCounter struct {
	store.Store
	calls, wrote atomic.Int64
}

func (c *touchCounter) TouchAPIKey(ctx context.Context, id string, at time.Time) (bool, error) {
	c.calls.Add(1)
	ok, err := c.Store.TouchAPIKey(ctx, id, at)
	if ok {
		c.wrote.Add(1)
	}
	return ok, err
}

// TestKeyLastUsed: under load, last_used_at is written once a minute per
// key, not once a request.
func TestKeyLastUsed(t *testing.T) {
	var counter *touchCounter
	f := newFixture(t, func(c *auth.Config) {
		counter = &touchCounter{Store: c.Store}
		c.Store = counter
	})
	ctx := t.Context()
	joe := f.principal(t, "joe")
	k, secret, err := f.svc.CreateAPIKey(ctx, joe, auth.NewAPIKey{})
	if err != nil {
		t.Fatal(err)
	}
	_, secret2, err := f.svc.CreateAPIKey(ctx, joe, auth.NewAPIKey{})
	if err != nil {
		t.Fatal(err)
	}
	burst := func() {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for range 250 {
					s := *secret
					if i%2 == 1 {
						s = *secret2
					}
					if _, err := f.svc.Check(ctx, authn.Credential{Kind: authn.KindAPIKey, Value: s}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		f.svc.WaitBackground()
	}
	burst()
	if c, w := counter.calls.Load(), counter.wrote.Load(); c != 2 || w != 2 {
		t.Fatalf("2000 checks of 2 keys: %d writes asked, %d made; want 2 and 2", c, w)
	}
	f.clock.Advance(30 * time.Second)
	burst()
	if c := counter.calls.Load(); c != 2 {
		t.Fatalf("30 s later: %d writes, want still 2", c)
	}
	f.clock.Advance(31 * time.Second)
	burst()
	if c := counter.calls.Load(); c != 4 {
		t.Fatalf("61 s later: %d writes, want 4", c)
	}
	got, err := f.store.APIKeyByID(ctx, k.ID)
	if err != nil || got.LastUsedAt.IsZero() || f.clock.Now().Sub(got.LastUsedAt) > 5*time.Second {
		t.Errorf("last_used_at %v (now %v), %v", got.LastUsedAt, f.clock.Now(), err)
	}
}

// TestRenew: renewal is off by default, never goes past issue time + the
// maximum, and needs a live write token.
func TestRenew(t *testing.T) {
	off := newFixture(t, nil)
	_, err := off.svc.Renew(t.Context(), off.principal(t, "joe"), nil)
	wantCode(t, "renewal while off", err, auth.EINVALID)

	f := newFixture(t, func(c *auth.Config) { c.TokenTTL, c.TokenMaxLifetime = time.Hour, 2*time.Hour })
	ctx := t.Context()
	joe := f.principal(t, "joe")
	f.clock.Advance(30 * time.Minute)
	tok, err := f.svc.Renew(ctx, joe, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.ExpiresAt.Sub(f.clock.Now()); d < 59*time.Minute || d > time.Hour {
		t.Errorf("renewed for %v, want about an hour", d)
	}
	tok, err = f.svc.Renew(ctx, joe, big.NewInt(60))
	if err != nil || tok.ExpiresAt.Sub(f.clock.Now()) > time.Minute {
		t.Errorf("renew with ttl 60: %v, %v", tok.ExpiresAt, err)
	}
	f.clock.Advance(50 * time.Second)
	if _, err := f.svc.Renew(ctx, joe, nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(40 * time.Minute)
	tok, err = f.svc.Renew(ctx, joe, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(tok.CreatedAt.Add(2 * time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("renewed to %v, want the cap %v", tok.ExpiresAt, tok.CreatedAt.Add(2*time.Hour))
	}
	_, err = f.svc.Renew(ctx, joe, big.NewInt(1_000_000))
	wantCode(t, "ttl over the maximum", err, auth.EINVALID)
	read, _ := f.scoped(t, "joe", "read")
	_, err = f.svc.Renew(ctx, read, nil)
	wantCode(t, "read token renews", err, auth.EFORBIDDEN)
	if err := f.svc.Logout(ctx, joe); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Renew(ctx, joe, nil)
	wantCode(t, "revoked token renews", err, auth.EUNKNOWN)
}

// TestRenewSessionKeepsTheUserTTL: a service account's browser session
// has the user TTL (IssueSession), and renewing it keeps that TTL rather
// than the service accounts' longer one.
func TestRenewSessionKeepsTheUserTTL(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) {
		c.TokenTTL, c.ServiceTokenTTL, c.TokenMaxLifetime = time.Hour, 24*time.Hour, 48*time.Hour
	})
	ctx := f.from(t, "192.0.2.1")
	id, err := f.svc.Login(ctx, "svc", users["svc"])
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.svc.IssueSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.Check(ctx, authn.Credential{Kind: authn.KindToken, Location: authn.InCookie, Value: s.Secret})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	tok, err := f.svc.Renew(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.ExpiresAt.Sub(f.clock.Now()); d > time.Hour {
		t.Errorf("a service account's session renewed for %v, want the user TTL (1h)", d)
	}
}

// TestTokenList: a user lists and revokes their own tokens by id; admins
// anyone's; never the secret.
func TestTokenList(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	joe := f.principal(t, "joe")
	second := f.token(t, "joe")
	admin := f.principal(t, "admin")
	list, err := f.svc.ListTokens(ctx, joe, "")
	if err != nil || len(list) != 2 || list[1].ID != second.Token.ID {
		t.Fatalf("joe's list: %d tokens, %v", len(list), err)
	}
	_, err = f.svc.ListTokens(ctx, joe, "admin")
	wantCode(t, "joe lists admin's", err, auth.EFORBIDDEN)
	list, err = f.svc.ListTokens(ctx, admin, "joe")
	if err != nil || len(list) != 2 {
		t.Fatalf("admin lists joe's: %d, %v", len(list), err)
	}
	adminList, _ := f.svc.ListTokens(ctx, admin, "")
	wantCode(t, "joe revokes admin's token", f.svc.RevokeTokenByID(ctx, joe, adminList[0].ID), auth.ENOTFOUND)
	wantCode(t, "unknown id", f.svc.RevokeTokenByID(ctx, joe, "0123456789abcdef01234567"), auth.ENOTFOUND)
	if err := f.svc.RevokeTokenByID(ctx, joe, second.Token.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Check(ctx, authn.Credential{Kind: authn.KindToken, Value: second.Secret})
	wantCode(t, "revoked by id", err, auth.EUNKNOWN)
	if err := f.svc.RevokeTokenByID(ctx, admin, list[0].ID); err != nil {
		t.Fatalf("admin revokes joe's: %v", err)
	}
	list, _ = f.svc.ListTokens(ctx, joe, "")
	if len(list) != 0 {
		t.Errorf("joe has %d tokens left, want 0", len(list))
	}
}
