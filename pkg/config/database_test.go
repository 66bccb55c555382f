package config_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

// TestDatabaseURLHasOneGrammar: database.url is checked by the store
// registry that opens it, so a URL that passes validation opens, and one
// the stores refuse is refused at validation (issue 11: SQLITE:x,
// sqlite://host/db and sqlite:x?mode=ro used to pass here and fail later).
func TestDatabaseURLHasOneGrammar(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"SQLITE:x", `database.url: unsupported scheme "SQLITE"`},
		{"sqlite://host/db", "database.url: sqlite://HOST is not supported"},
		{"sqlite:x?mode=ro", "database.url: sqlite URLs take no query or fragment"},
		{"postgres:foo", "database.url: want postgres://"},
		{"sqlite:data/gatehouse.db", ""},
		{"postgresql://u@127.0.0.1/db", ""},
	} {
		c := config.Default()
		c.Database.URL = tc.url
		if tc.want == "" {
			wantProblems(t, c.Validate(nil))
			continue
		}
		wantProblems(t, c.Validate(nil), tc.want)
	}
}

// TestMemorySettings: the cache bound and the memory limit are checked
// together (issue 18).
func TestMemorySettings(t *testing.T) {
	for _, tc := range []struct {
		cache, limit int
		want         string
	}{
		{16, 48, ""},
		{16, 0, ""},
		{64, 100, "auth.memory_limit_mib: 100 MiB is too small for a 64 MiB validation cache"},
		{0, 48, ""},
		{-1, 48, "auth.cache_max_mib: must not be negative"},
		{16, -1, "auth.memory_limit_mib: must not be negative"},
	} {
		c := config.Default()
		c.Auth.CacheMaxMiB, c.Auth.MemoryLimitMiB = tc.cache, tc.limit
		if tc.want == "" {
			wantProblems(t, c.Validate(nil))
			continue
		}
		wantProblems(t, c.Validate(nil), tc.want)
	}
}
