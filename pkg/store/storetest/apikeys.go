package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func testAPIKeyRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("alice", t0)
	k.Enabled = false
	k.Metadata = map[string]any{"nested": map[string]any{"a": []any{float64(1), "b"}}, "x": "y"}
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))

	byID, err := s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, byID, k)
	byHash, err := s.APIKeyByHash(ctx, k.KeyHash)
	must(t, "APIKeyByHash", err)
	checkAPIKey(t, byHash, k)
}

func testAPIKeyNilMetadata(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("alice", t0)
	k.Metadata = nil
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	got, err := s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	if got.Metadata == nil || len(got.Metadata) != 0 {
		t.Errorf("Metadata = %#v, want empty non-nil", got.Metadata)
	}
}

func testAPIKeyDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	orig := newAPIKey("alice", t0)
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, orig))

	sameID := newAPIKey("mallory", t0)
	sameID.ID = orig.ID
	wantErr(t, "CreateAPIKey with a taken ID", s.CreateAPIKey(ctx, sameID), store.ErrAlreadyExists)
	sameHash := newAPIKey("mallory", t0)
	sameHash.KeyHash = orig.KeyHash
	wantErr(t, "CreateAPIKey with a taken KeyHash", s.CreateAPIKey(ctx, sameHash), store.ErrAlreadyExists)

	got, err := s.APIKeyByID(ctx, orig.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, got, orig)
	_, total, err := s.ListAPIKeys(ctx, store.APIKeyFilter{})
	if err != nil || total != 1 {
		t.Errorf("ListAPIKeys total = %d, %v; want 1, nil", total, err)
	}
}

func testAPIKeyUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, newAPIKey("alice", t0)))
	_, err := s.APIKeyByID(ctx, randomHex(12))
	wantErr(t, "APIKeyByID", err, store.ErrNotFound)
	_, err = s.APIKeyByHash(ctx, randomHex(64))
	wantErr(t, "APIKeyByHash", err, store.ErrNotFound)
}

// createKeys stores keys for the users given, created one second apart
// from t0 in that order, and returns them.
func createKeys(t *testing.T, s store.Store, users ...string) []store.APIKey {
	t.Helper()
	keys := make([]store.APIKey, len(users))
	for i, u := range users {
		keys[i] = newAPIKey(u, t0.Add(time.Duration(i)*time.Second))
		must(t, "CreateAPIKey", s.CreateAPIKey(t.Context(), keys[i]))
	}
	return keys
}

// checkList fails t unless ListAPIKeys(f) returns want, in order, and total.
func checkList(t *testing.T, s store.Store, f store.APIKeyFilter, want []store.APIKey, wantTotal int) {
	t.Helper()
	got, total, err := s.ListAPIKeys(t.Context(), f)
	must(t, "ListAPIKeys", err)
	if total != wantTotal {
		t.Errorf("ListAPIKeys(%+v) total = %d, want %d", f, total, wantTotal)
	}
	if len(got) != len(want) {
		t.Fatalf("ListAPIKeys(%+v) returned %d keys, want %d", f, len(got), len(want))
	}
	for i := range got {
		checkAPIKey(t, got[i], want[i])
	}
}

func testListAPIKeys(t *testing.T, s store.Store) {
	// Created out of id order, so ordering by id alone would fail.
	keys := createKeys(t, s, "alice", "bob", "alice", "carol", "alice")
	alices := []store.APIKey{keys[0], keys[2], keys[4]}

	checkList(t, s, store.APIKeyFilter{}, keys, 5)
	checkList(t, s, store.APIKeyFilter{User: "alice"}, alices, 3)
	checkList(t, s, store.APIKeyFilter{User: "nobody"}, nil, 0)
}

func testListAPIKeysPages(t *testing.T, s store.Store) {
	keys := createKeys(t, s, "alice", "bob", "alice", "carol", "alice", "alice")
	alices := []store.APIKey{keys[0], keys[2], keys[4], keys[5]}

	checkList(t, s, store.APIKeyFilter{Limit: 2}, keys[:2], 6)
	checkList(t, s, store.APIKeyFilter{Limit: 2, Offset: 2}, keys[2:4], 6)
	checkList(t, s, store.APIKeyFilter{Limit: 4, Offset: 4}, keys[4:], 6)
	checkList(t, s, store.APIKeyFilter{Offset: 5}, keys[5:], 6)
	checkList(t, s, store.APIKeyFilter{Limit: 10, Offset: 10}, nil, 6)
	checkList(t, s, store.APIKeyFilter{User: "alice", Limit: 2, Offset: 1}, alices[1:3], 4)
	checkList(t, s, store.APIKeyFilter{User: "alice", Limit: -1, Offset: 3}, alices[3:], 4)

	// Keys created in the same microsecond are ordered by id.
	same := []store.APIKey{newAPIKey("dave", t0), newAPIKey("dave", t0)}
	same[0].ID, same[1].ID = "ffffffffffffffffffffffff", "000000000000000000000000"
	for _, k := range same {
		must(t, "CreateAPIKey", s.CreateAPIKey(t.Context(), k))
	}
	checkList(t, s, store.APIKeyFilter{User: "dave"}, []store.APIKey{same[1], same[0]}, 2)
}

func testUpdateAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	orig := newAPIKey("alice", t0)
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, orig))

	upd := orig
	upd.User = "bob"
	upd.Enabled = false
	upd.Metadata = map[string]any{"note": "moved to bob", "n": map[string]any{"k": "v"}}
	upd.KeyHash = randomHex(64)            // must be ignored
	upd.CreatedAt = t0.Add(24 * time.Hour) // must be ignored
	must(t, "UpdateAPIKey", s.UpdateAPIKey(ctx, upd))

	want := upd
	want.KeyHash, want.CreatedAt = orig.KeyHash, orig.CreatedAt
	got, err := s.APIKeyByID(ctx, orig.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, got, want)
	got, err = s.APIKeyByHash(ctx, orig.KeyHash)
	must(t, "APIKeyByHash(original hash)", err)
	checkAPIKey(t, got, want)
	_, err = s.APIKeyByHash(ctx, upd.KeyHash)
	wantErr(t, "APIKeyByHash(ignored hash)", err, store.ErrNotFound)
	checkList(t, s, store.APIKeyFilter{User: "bob"}, []store.APIKey{want}, 1)

	upd.Enabled, upd.Metadata = true, nil
	must(t, "UpdateAPIKey again", s.UpdateAPIKey(ctx, upd))
	want.Enabled, want.Metadata = true, nil
	got, err = s.APIKeyByID(ctx, orig.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, got, want)
}

func testUpdateAPIKeyUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, newAPIKey("alice", t0)))
	wantErr(t, "UpdateAPIKey", s.UpdateAPIKey(ctx, newAPIKey("alice", t0)), store.ErrNotFound)
}

func testDeleteAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	k, other := newAPIKey("alice", t0), newAPIKey("alice", t0.Add(time.Second))
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, other))

	must(t, "DeleteAPIKey", s.DeleteAPIKey(ctx, k.ID))
	_, err := s.APIKeyByID(ctx, k.ID)
	wantErr(t, "APIKeyByID after delete", err, store.ErrNotFound)
	_, err = s.APIKeyByHash(ctx, k.KeyHash)
	wantErr(t, "APIKeyByHash after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIKey again", s.DeleteAPIKey(ctx, k.ID), store.ErrNotFound)
	checkList(t, s, store.APIKeyFilter{}, []store.APIKey{other}, 1)
}

// testAPIKeyLocked: Locked is stored on create, replaced by UpdateAPIKey
// and read back by every read.
func testAPIKeyLocked(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("alice", t0)
	k.Enabled, k.Locked = false, true
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	got, err := s.APIKeyByHash(ctx, k.KeyHash)
	must(t, "APIKeyByHash", err)
	checkAPIKey(t, got, k)

	k.Enabled, k.Locked = true, false
	must(t, "UpdateAPIKey (unlock)", s.UpdateAPIKey(ctx, k))
	got, err = s.APIKeyByID(ctx, k.ID)
	must(t, "APIKeyByID", err)
	checkAPIKey(t, got, k)

	k.Enabled, k.Locked = false, true
	must(t, "UpdateAPIKey (lock)", s.UpdateAPIKey(ctx, k))
	checkList(t, s, store.APIKeyFilter{User: "alice"}, []store.APIKey{k}, 1)
}

// testDisableUserAPIKeys: every key of the user ends disabled and locked,
// whatever it was before; other users' keys are untouched; only the keys
// that changed are returned, so a second call returns none.
func testDisableUserAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys := createKeys(t, s, "alice", "bob", "alice", "alice", "alice")
	keys[2].Enabled = false // disabled by alice herself
	keys[3].Enabled, keys[3].Locked = false, true
	keys[4].Locked = true // enabled and locked: not made by Gatehouse, still covered
	for _, k := range keys[2:] {
		must(t, "UpdateAPIKey", s.UpdateAPIKey(ctx, k))
	}

	got, err := s.DisableUserAPIKeys(ctx, "alice")
	must(t, "DisableUserAPIKeys", err)
	want := []store.APIKey{keys[0], keys[2], keys[4]}
	for i := range want {
		want[i].Enabled, want[i].Locked = false, true
	}
	slices.SortFunc(got, func(a, b store.APIKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if len(got) != len(want) {
		t.Fatalf("DisableUserAPIKeys returned %d keys, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		checkAPIKey(t, got[i], want[i])
	}
	checkList(t, s, store.APIKeyFilter{User: "alice"}, []store.APIKey{want[0], want[1], keys[3], want[2]}, 4)
	checkList(t, s, store.APIKeyFilter{User: "bob"}, []store.APIKey{keys[1]}, 1)

	got, err = s.DisableUserAPIKeys(ctx, "alice")
	if err != nil || len(got) != 0 {
		t.Errorf("DisableUserAPIKeys again = %v, %v; want none, nil", got, err)
	}
	got, err = s.DisableUserAPIKeys(ctx, "nobody")
	if err != nil || len(got) != 0 {
		t.Errorf("DisableUserAPIKeys(nobody) = %v, %v; want none, nil", got, err)
	}
}
