// Package storeopen is the store registry: it opens a store.Store from a
// URL, choosing the implementation by the URL's scheme, and checks URLs
// for package config with the same grammar:
//
//	sqlite:RELATIVE/PATH       a file, relative to the working directory
//	sqlite:///ABSOLUTE/PATH    a file at an absolute path
//	sqlite::memory:            a private in-memory database (tests)
//	postgres://… postgresql://…  PostgreSQL, as libpq and pgx take it
//
// It lives apart from package store because it imports the
// implementations, which import store.
//
// # Adding a store
//
// Write a package under pkg/store that implements store.Store, with its
// migrations in migrations/<name>/ (the same versions as the other
// stores', one file each), and prove it with the shared suites:
//
//	func TestConformance(t *testing.T) { storetest.RunTests(t, newStore) }
//	// Stores that replicas share also implement store.Notifier:
//	func TestNotifier(t *testing.T) { storetest.RunNotifierTests(t, newReplicas) }
//
// Then add one line to the drivers table in storeopen.go with its URL
// schemes, a Check that reads a URL without opening anything, and Open.
// Configuration, `gatehouse migrate` and every test that opens a store by
// URL pick it up from there.
package storeopen
