package storetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// RunTests runs the conformance suite. newStore must return a fresh, empty
// store on every call and arrange (with t.Cleanup) for it to be closed.
// Every subtest gets its own store.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenSession", testTokenSession},
		{"TokenNilGroupsAndMetadata", testTokenNilGroupsAndMetadata},
		{"TokenDuplicate", testTokenDuplicate},
		{"TokenByHashUnknown", testTokenByHashUnknown},
		{"DeleteToken", testDeleteToken},
		{"DeleteUserTokens", testDeleteUserTokens},
		{"PurgeExpiredTokens", testPurgeExpiredTokens},
		{"PurgeExpiredTokensLimit", testPurgeExpiredTokensLimit},
		{"APIKeyRoundTrip", testAPIKeyRoundTrip},
		{"APIKeyNilMetadata", testAPIKeyNilMetadata},
		{"APIKeyDuplicate", testAPIKeyDuplicate},
		{"APIKeyUnknown", testAPIKeyUnknown},
		{"ListAPIKeys", testListAPIKeys},
		{"ListAPIKeysPages", testListAPIKeysPages},
		{"UpdateAPIKey", testUpdateAPIKey},
		{"UpdateAPIKeyUnknown", testUpdateAPIKeyUnknown},
		{"DeleteAPIKey", testDeleteAPIKey},
		{"APIKeyLocked", testAPIKeyLocked},
		{"DisableUserAPIKeys", testDisableUserAPIKeys},
		{"UserRoundTrip", testUserRoundTrip},
		{"UpdateAndDeleteUser", testUpdateAndDeleteUser},
		{"ListUsers", testListUsers},
		{"UsersCancelledContext", testUsersCancelled},
		{"TokenScopeAndByID", testTokenScopeAndByID},
		{"ListTokens", testListTokens},
		{"RenewToken", testRenewToken},
		{"APIKeyLifecycleFields", testAPIKeyLifecycleFields},
		{"RotateAPIKey", testRotateAPIKey},
		{"TouchAPIKey", testTouchAPIKey},
		{"Ping", testPing},
		{"ThrottleCounts", testThrottleCounts},
		{"ThrottleClearAndPurge", testThrottleClearAndPurge},
		{"ThrottleClearPrefix", testThrottleClearPrefix},
		{"PendingLoginOnce", testPendingLoginOnce},
		{"PendingLoginExpiry", testPendingLoginExpiry},
		{"PendingLoginRace", testPendingLoginRace},
		{"CancelledContext", testCancelledContext},
		{"NoSecretsStored", testNoSecretsStored},
		{"KerberosReplay", testReplay},
		{"KerberosReplayConcurrent", testReplayConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
	t.Run("Concurrency", func(t *testing.T) { RunConcurrencyTests(t, newStore, 8, 25) })
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
