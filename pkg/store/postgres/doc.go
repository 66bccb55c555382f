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
//
// # Revocation events
//
// Store implements store.Notifier. DeleteToken, DeleteUserTokens,
// UpdateAPIKey, DeleteAPIKey and DisableUserAPIKeys call pg_notify in the
// transaction of their change, so an event is sent if and only if the
// change commits; a call that changes nothing (no such token, user without
// tokens, unknown key) sends nothing. DeleteUserTokens sends one event, not
// one per token; DisableUserAPIKeys one per key it changed.
//
// The payload is "<kind>:<key>", kind being a store.EventKind ("token",
// "apikey", "user") and key a hash or a user name, which may itself hold
// colons: readers split at the first colon. A payload longer than 4000
// bytes (PostgreSQL refuses 8000) is replaced by "reset:", which Listen
// delivers as Disconnected(ErrReset) then Connected, so every cache is
// dropped; so is any payload it does not understand.
//
// NOTIFY channels belong to the database, not to a schema. The channel is
// therefore "gatehouse_events_" followed by the schema the tables live in
// (current_schema() at Open, normally "public"), or by "h" and 32 hex
// digits of the schema's SHA-256 if the name is not a plain lower-case
// identifier short enough for the 63-byte limit. Deployments or tests in
// different schemas of one database never see each other's events. To
// watch by hand: LISTEN gatehouse_events_public;
package postgres
