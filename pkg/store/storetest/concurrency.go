package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// RunConcurrencyTests runs workers goroutines against one store from
// newStore, each doing ops writes (creating, updating and deleting tokens
// and API keys of its own user), each write followed by reads that must
// see it. Run it under -race. No operation may fail: a store that reports
// "database is locked" or similar under contention fails the test.
func RunConcurrencyTests(t *testing.T, newStore func(t *testing.T) store.Store, workers, ops int) {
	s := newStore(t)
	results := make([]workerState, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			results[w], errs[w] = runWorker(t, s, fmt.Sprintf("user-%02d", w), ops)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		checkWorker(t, s, r)
	}
}

// workerState is what one worker has left in the store.
type workerState struct {
	user   string
	tokens []store.Token  // not deleted
	keys   []store.APIKey // latest versions
}

func runWorker(t *testing.T, s store.Store, user string, ops int) (workerState, error) {
	st := workerState{user: user}
	for i := range ops {
		if err := st.step(t, s, i); err != nil {
			return st, fmt.Errorf("%s, op %d: %w", user, i, err)
		}
	}
	return st, nil
}

// step does the i-th write of a worker, then reads it back.
func (st *workerState) step(t *testing.T, s store.Store, i int) error {
	ctx := t.Context()
	switch {
	case i%4 == 0:
		tok := newToken(st.user)
		tok.CreatedAt = time.Now()
		if err := s.CreateToken(ctx, tok); err != nil {
			return err
		}
		st.tokens = append(st.tokens, tok)
		_, err := s.TokenByHash(ctx, tok.Hash)
		return err
	case i%4 == 1:
		k := newAPIKey(st.user, t0.Add(time.Duration(i)*time.Millisecond))
		if err := s.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		st.keys = append(st.keys, k)
		_, err := s.APIKeyByHash(ctx, k.KeyHash)
		return err
	case i%4 == 2:
		return st.updateKey(t, s)
	default:
		return st.deleteToken(t, s)
	}
}

func (st *workerState) updateKey(t *testing.T, s store.Store) error {
	k := &st.keys[len(st.keys)-1]
	k.Enabled = !k.Enabled
	if err := s.UpdateAPIKey(t.Context(), *k); err != nil {
		return err
	}
	got, total, err := s.ListAPIKeys(t.Context(), store.APIKeyFilter{User: st.user, Limit: 5})
	switch {
	case err != nil:
		return err
	case total != len(st.keys):
		return fmt.Errorf("ListAPIKeys total = %d, want %d", total, len(st.keys))
	case len(got) != min(5, total):
		return fmt.Errorf("ListAPIKeys returned %d keys", len(got))
	}
	return nil
}

func (st *workerState) deleteToken(t *testing.T, s store.Store) error {
	if len(st.tokens) == 0 {
		return nil
	}
	tok := st.tokens[0]
	deleted, err := s.DeleteToken(t.Context(), tok.Hash)
	if err != nil || !deleted {
		return fmt.Errorf("DeleteToken = %v, %v", deleted, err)
	}
	st.tokens = st.tokens[1:]
	if _, err := s.TokenByHash(t.Context(), tok.Hash); !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("TokenByHash after delete: %v", err)
	}
	return nil
}

// checkWorker compares what the store holds for st.user with st.
func checkWorker(t *testing.T, s store.Store, st workerState) {
	t.Helper()
	keys, total, err := s.ListAPIKeys(t.Context(), store.APIKeyFilter{User: st.user})
	must(t, "ListAPIKeys", err)
	if total != len(st.keys) || len(keys) != len(st.keys) {
		t.Fatalf("%s: %d keys (total %d), want %d", st.user, len(keys), total, len(st.keys))
	}
	for i := range keys {
		checkAPIKey(t, keys[i], st.keys[i])
	}
	hashes, err := s.DeleteUserTokens(t.Context(), st.user)
	must(t, "DeleteUserTokens", err)
	if len(hashes) != len(st.tokens) {
		t.Errorf("%s: %d tokens left, want %d", st.user, len(hashes), len(st.tokens))
	}
}
