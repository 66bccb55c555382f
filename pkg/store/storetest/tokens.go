package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func testTokenRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := newToken("alice")
	tok.Service = true
	tok.Metadata = map[string]any{
		"ip":     "192.0.2.1",
		"agent":  "st2client/3.8 \"quoted\" ünïcode",
		"count":  float64(3), // JSON numbers come back as float64
		"ok":     true,
		"none":   nil,
		"nested": map[string]any{"list": []any{"a", float64(1), map[string]any{"deep": false}}},
	}
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	got, err := s.TokenByHash(ctx, tok.Hash)
	must(t, "TokenByHash", err)
	checkToken(t, got, tok)
	if got.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("CreatedAt %v not truncated to the microsecond", got.CreatedAt)
	}
}

// testTokenSession checks that the session flag (migration 0006) is kept,
// and that a token made without it reads back as no session.
func testTokenSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	sess := newToken("alice")
	sess.Session = true
	plain := newToken("alice")
	must(t, "CreateToken session", s.CreateToken(ctx, sess))
	must(t, "CreateToken", s.CreateToken(ctx, plain))
	got, err := s.TokenByHash(ctx, sess.Hash)
	must(t, "TokenByHash session", err)
	checkToken(t, got, sess)
	if !got.Session {
		t.Errorf("Session = false for a session token")
	}
	got, err = s.TokenByHash(ctx, plain.Hash)
	must(t, "TokenByHash", err)
	if got.Session {
		t.Errorf("Session = true for a token made without it")
	}
}

func testTokenNilGroupsAndMetadata(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := newToken("bob")
	tok.Groups, tok.Metadata = nil, nil
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	got, err := s.TokenByHash(ctx, tok.Hash)
	must(t, "TokenByHash", err)
	if got.Groups == nil || len(got.Groups) != 0 {
		t.Errorf("Groups = %#v, want empty non-nil", got.Groups)
	}
	if got.Metadata == nil || len(got.Metadata) != 0 {
		t.Errorf("Metadata = %#v, want empty non-nil", got.Metadata)
	}
}

func testTokenDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	orig := newToken("alice")
	must(t, "CreateToken", s.CreateToken(ctx, orig))

	sameID := newToken("mallory")
	sameID.ID = orig.ID
	wantErr(t, "CreateToken with a taken ID", s.CreateToken(ctx, sameID), store.ErrAlreadyExists)

	sameHash := newToken("mallory")
	sameHash.Hash = orig.Hash
	wantErr(t, "CreateToken with a taken Hash", s.CreateToken(ctx, sameHash), store.ErrAlreadyExists)

	got, err := s.TokenByHash(ctx, orig.Hash)
	must(t, "TokenByHash", err)
	checkToken(t, got, orig)
	_, err = s.TokenByHash(ctx, sameID.Hash)
	wantErr(t, "TokenByHash of the refused token", err, store.ErrNotFound)
}

func testTokenByHashUnknown(t *testing.T, s store.Store) {
	must(t, "CreateToken", s.CreateToken(t.Context(), newToken("alice")))
	_, err := s.TokenByHash(t.Context(), randomHex(32))
	wantErr(t, "TokenByHash", err, store.ErrNotFound)
}

func testDeleteToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok, other := newToken("alice"), newToken("alice")
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	must(t, "CreateToken", s.CreateToken(ctx, other))

	deleted, err := s.DeleteToken(ctx, tok.Hash)
	if err != nil || !deleted {
		t.Fatalf("DeleteToken(existing) = %v, %v; want true, nil", deleted, err)
	}
	_, err = s.TokenByHash(ctx, tok.Hash)
	wantErr(t, "TokenByHash after delete", err, store.ErrNotFound)
	deleted, err = s.DeleteToken(ctx, tok.Hash)
	if err != nil || deleted {
		t.Fatalf("DeleteToken(gone) = %v, %v; want false, nil", deleted, err)
	}
	_, err = s.TokenByHash(ctx, other.Hash)
	must(t, "TokenByHash of the other token", err)
}

func testDeleteUserTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []string
	for range 3 {
		tok := newToken("alice")
		must(t, "CreateToken", s.CreateToken(ctx, tok))
		want = append(want, tok.Hash)
	}
	bobs := newToken("bob")
	must(t, "CreateToken", s.CreateToken(ctx, bobs))

	got, err := s.DeleteUserTokens(ctx, "alice")
	must(t, "DeleteUserTokens", err)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("DeleteUserTokens = %v, want %v", got, want)
	}
	for _, h := range want {
		_, err := s.TokenByHash(ctx, h)
		wantErr(t, "TokenByHash of a deleted token", err, store.ErrNotFound)
	}
	_, err = s.TokenByHash(ctx, bobs.Hash)
	must(t, "TokenByHash of bob's token", err)

	got, err = s.DeleteUserTokens(ctx, "alice")
	if err != nil || len(got) != 0 {
		t.Errorf("DeleteUserTokens again = %v, %v; want none, nil", got, err)
	}
}

// createExpiring stores one token of user per expiry and returns them.
func createExpiring(t *testing.T, s store.Store, user string, expiries ...time.Time) []store.Token {
	t.Helper()
	toks := make([]store.Token, len(expiries))
	for i, exp := range expiries {
		toks[i] = newToken(user)
		toks[i].CreatedAt = exp.Add(-time.Hour)
		toks[i].ExpiresAt = exp
		must(t, "CreateToken", s.CreateToken(t.Context(), toks[i]))
	}
	return toks
}

// checkExist fails t unless each token's presence matches want.
func checkExist(t *testing.T, s store.Store, want bool, toks ...store.Token) {
	t.Helper()
	for _, tok := range toks {
		_, err := s.TokenByHash(t.Context(), tok.Hash)
		switch {
		case want && err != nil:
			t.Errorf("token expiring %v: %v, want it kept", tok.ExpiresAt, err)
		case !want && err == nil:
			t.Errorf("token expiring %v still there, want it purged", tok.ExpiresAt)
		}
	}
}

func testPurgeExpiredTokens(t *testing.T, s store.Store) {
	now := t0
	expired := createExpiring(t, s, "alice", now.Add(-48*time.Hour), now.Add(-time.Microsecond), now)
	live := createExpiring(t, s, "alice", now.Add(time.Microsecond), now.Add(time.Hour))

	n, last, err := s.PurgeExpiredTokens(t.Context(), time.Time{}, now, 100)
	must(t, "PurgeExpiredTokens", err)
	if n != len(expired) || !last.Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("PurgeExpiredTokens = %d, %v; want %d, %v", n, last, len(expired), now)
	}
	checkExist(t, s, false, expired...)
	checkExist(t, s, true, live...)
	from := now.Add(-time.Hour)
	if n, last, err := s.PurgeExpiredTokens(t.Context(), from, now, 100); n != 0 || !last.Equal(from) || err != nil {
		t.Errorf("nothing left: PurgeExpiredTokens = %d, %v, %v; want 0, from (%v), nil", n, last, err, from)
	}
}

// A purge goes in batches, each from the last one's latest expiry: ties
// at that expiry are still found, and nothing expired before from is.
func testPurgeExpiredTokensLimit(t *testing.T, s store.Store) {
	ctx, now := t.Context(), t0
	toks := createExpiring(t, s, "alice",
		now.Add(-5*time.Minute), now.Add(-4*time.Minute), now.Add(-3*time.Minute),
		now.Add(-3*time.Minute), now.Add(-1*time.Minute))
	live := createExpiring(t, s, "bob", now.Add(time.Minute))

	for _, limit := range []int{0, -1} {
		if n, _, err := s.PurgeExpiredTokens(ctx, time.Time{}, now, limit); n != 0 || err != nil {
			t.Fatalf("PurgeExpiredTokens(limit %d) = %d, %v; want 0, nil", limit, n, err)
		}
	}
	n, last, err := s.PurgeExpiredTokens(ctx, time.Time{}, now, 3)
	if n != 3 || !last.Equal(now.Add(-3*time.Minute).Truncate(time.Microsecond)) || err != nil {
		t.Fatalf("PurgeExpiredTokens(limit 3) = %d, %v, %v; want 3, %v, nil", n, last, err, now.Add(-3*time.Minute))
	}
	checkExist(t, s, false, toks[:2]...) // oldest expiry first
	checkExist(t, s, true, toks[4])
	n, last, err = s.PurgeExpiredTokens(ctx, last, now, 3)
	if n != 2 || !last.Equal(now.Add(-time.Minute).Truncate(time.Microsecond)) || err != nil {
		t.Fatalf("second PurgeExpiredTokens(limit 3) = %d, %v, %v; want 2 (the tie and the last), %v, nil", n, last, err, now.Add(-time.Minute))
	}
	checkExist(t, s, false, toks...)
	checkExist(t, s, true, live...)

	early := createExpiring(t, s, "carol", now.Add(-time.Hour))
	if n, _, err := s.PurgeExpiredTokens(ctx, now.Add(-30*time.Minute), now, 3); n != 0 || err != nil {
		t.Fatalf("PurgeExpiredTokens from after its expiry = %d, %v; want 0, nil", n, err)
	}
	checkExist(t, s, true, early...)
}
