package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// The conformance cases of scopes, token lists and renewal, and API key
// expiry, rotation and last use.

func testTokenScopeAndByID(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := newToken("alice")
	tok.Scope = "read path:/hooks/a"
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	got, err := s.TokenByID(ctx, tok.ID)
	must(t, "TokenByID", err)
	checkToken(t, got, tok)
	byHash, err := s.TokenByHash(ctx, tok.Hash)
	must(t, "TokenByHash", err)
	checkToken(t, byHash, tok)

	plain := newToken("alice") // no scope: read back as ""
	must(t, "CreateToken", s.CreateToken(ctx, plain))
	got, err = s.TokenByID(ctx, plain.ID)
	must(t, "TokenByID", err)
	if got.Scope != "" {
		t.Errorf("Scope of a token made without one = %q, want \"\"", got.Scope)
	}
	_, err = s.TokenByID(ctx, randomHex(12))
	wantErr(t, "TokenByID of an unknown id", err, store.ErrNotFound)
}

func testListTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	var alice []store.Token
	for i := range 3 {
		tok := newToken("alice")
		tok.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		must(t, "CreateToken", s.CreateToken(ctx, tok))
		alice = append(alice, tok)
	}
	expired := newToken("alice")
	expired.ExpiresAt = t0.Add(10 * time.Minute)
	must(t, "CreateToken", s.CreateToken(ctx, expired))
	must(t, "CreateToken", s.CreateToken(ctx, newToken("bob")))

	got, err := s.ListTokens(ctx, store.TokenFilter{User: "alice", Now: t0.Add(20 * time.Minute)})
	must(t, "ListTokens", err)
	if len(got) != len(alice) {
		t.Fatalf("ListTokens returned %d tokens, want %d (live ones of alice only)", len(got), len(alice))
	}
	for i := range alice {
		checkToken(t, got[i], alice[i])
	}
	got, err = s.ListTokens(ctx, store.TokenFilter{User: "alice", Now: t0.Add(20 * time.Minute), Limit: 2})
	must(t, "ListTokens with a limit", err)
	if len(got) != 2 || got[0].ID != alice[0].ID {
		t.Errorf("ListTokens with Limit 2 returned %d tokens, want the first 2", len(got))
	}
	got, err = s.ListTokens(ctx, store.TokenFilter{User: "nobody", Now: t0})
	must(t, "ListTokens of nobody", err)
	if got == nil || len(got) != 0 {
		t.Errorf("ListTokens of nobody = %#v, want empty non-nil", got)
	}
}

func testRenewToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := newToken("alice")
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	tok.ExpiresAt = t0.Add(5 * time.Hour)
	must(t, "RenewToken", s.RenewToken(ctx, tok.Hash, tok.ExpiresAt))
	got, err := s.TokenByHash(ctx, tok.Hash)
	must(t, "TokenByHash", err)
	checkToken(t, got, tok)
	wantErr(t, "RenewToken of an unknown token", s.RenewToken(ctx, randomHex(32), t0), store.ErrNotFound)
}

func testAPIKeyLifecycleFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("alice", t0)
	k.Scope = "path:/api/v1/webhooks/sample"
	k.ExpiresAt = t0.Add(48 * time.Hour)
	k.LastUsedAt = t0.Add(time.Minute)
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	got, err := s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, got, k)

	// UpdateAPIKey leaves scope, expiry and last use alone.
	changed := k
	changed.Enabled = false
	changed.Scope, changed.ExpiresAt, changed.LastUsedAt = "write", time.Time{}, time.Time{}
	must(t, "UpdateAPIKey", s.UpdateAPIKey(ctx, changed))
	got, err = s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	k.Enabled = false
	checkAPIKey(t, got, k)

	plain := newAPIKey("alice", t0) // as st2 imports and old rows are
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, plain))
	got, err = s.APIKeyByHash(ctx, plain.KeyHash)
	must(t, "APIKeyByHash", err)
	checkAPIKey(t, got, plain)
}

func testRotateAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("alice", t0)
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	first, second := randomHex(64), randomHex(64)
	until := t0.Add(time.Hour)

	got, err := s.RotateAPIKey(ctx, k.ID, first, until)
	must(t, "RotateAPIKey", err)
	want := k
	want.KeyHash, want.PrevKeyHash, want.PrevExpiresAt = first, k.KeyHash, until
	checkAPIKey(t, got, want)
	for _, h := range []string{first, k.KeyHash} {
		byHash, err := s.APIKeyByHash(ctx, h)
		must(t, "APIKeyByHash after a rotation", err)
		checkAPIKey(t, byHash, want)
	}

	// A second rotation ends the first one's grace at once.
	got, err = s.RotateAPIKey(ctx, k.ID, second, until.Add(time.Hour))
	must(t, "RotateAPIKey again", err)
	want.KeyHash, want.PrevKeyHash, want.PrevExpiresAt = second, first, until.Add(time.Hour)
	checkAPIKey(t, got, want)
	_, err = s.APIKeyByHash(ctx, k.KeyHash)
	wantErr(t, "APIKeyByHash of the hash two rotations back", err, store.ErrNotFound)

	_, err = s.RotateAPIKey(ctx, randomHex(12), randomHex(64), until)
	wantErr(t, "RotateAPIKey of an unknown id", err, store.ErrNotFound)
	other := newAPIKey("bob", t0)
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, other))
	_, err = s.RotateAPIKey(ctx, k.ID, other.KeyHash, until)
	wantErr(t, "RotateAPIKey to a taken hash", err, store.ErrAlreadyExists)
	byID, err := s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, byID, want)
}

func testTouchAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("alice", t0)
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	for _, tc := range []struct {
		at    time.Time
		wrote bool
	}{
		{t0.Add(time.Second), true},
		{t0.Add(30 * time.Second), false}, // less than a minute later
		{t0.Add(61 * time.Second), true},
		{t0.Add(62 * time.Second), false},
	} {
		wrote, err := s.TouchAPIKey(ctx, k.ID, tc.at)
		must(t, "TouchAPIKey", err)
		if wrote != tc.wrote {
			t.Errorf("TouchAPIKey at %v wrote = %v, want %v", tc.at, wrote, tc.wrote)
		}
	}
	got, err := s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	if want := t0.Add(61 * time.Second).Truncate(time.Microsecond).UTC(); !got.LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, want)
	}
	wrote, err := s.TouchAPIKey(ctx, randomHex(12), t0)
	if err != nil || wrote {
		t.Errorf("TouchAPIKey of an unknown id = %v, %v; want false, nil", wrote, err)
	}
}
