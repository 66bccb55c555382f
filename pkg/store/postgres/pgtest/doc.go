// Package pgtest gives tests a private, empty PostgreSQL schema, so that
// test packages running in parallel, and leftovers of earlier runs, never
// collide.
//
// The server comes from GATEHOUSE_TEST_POSTGRES_URL (on a developer
// machine: postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When
// it is unset the test is skipped, unless GATEHOUSE_REQUIRE_INTEGRATION=1,
// in which case it fails: CI must never pass by skipping.
//
//	s, err := storeopen.Open(t.Context(), pgtest.URL(t))
package pgtest
