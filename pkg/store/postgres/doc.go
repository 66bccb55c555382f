// Package postgres is the Gatehouse store for PostgreSQL, on pgx's
// connection pool, for several replicas sharing one database.
//
// Every query is bounded by the caller's context: a stopped or frozen
// database makes calls fail with store.ErrUnavailable once the context
// ends, never hang. Open applies the migrations of package migrations
// under an advisory lock, so replicas starting together migrate once.
//
// Groups are kept as text[], metadata as jsonb, times as timestamptz
// (microseconds).
package postgres
