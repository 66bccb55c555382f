// Package storeopen opens a store.Store from a URL, choosing the
// implementation by the URL's scheme:
//
//	sqlite:RELATIVE/PATH       a file, relative to the working directory
//	sqlite:///ABSOLUTE/PATH    a file at an absolute path
//	sqlite::memory:            a private in-memory database (tests)
//	postgres://… postgresql://…  PostgreSQL, as libpq and pgx take it
//
// It lives apart from package store because it imports the
// implementations, which import store.
package storeopen
