// Package sqlite is the embedded Gatehouse store, on modernc.org/sqlite
// (pure Go, no cgo).
//
// The database runs in WAL mode with synchronous=FULL, so a committed token
// survives a power cut, and readers never wait for the writer. All writes
// go through one connection and start with BEGIN IMMEDIATE: writers of
// this process queue in Go instead of racing for SQLite's lock, so they
// never see "database is locked", and busy_timeout covers another process
// (such as "gatehouse migrate") holding the lock for a moment. Reads use a
// separate pool of read-only connections.
//
// Times are stored as INTEGER microseconds since the Unix epoch, groups and
// metadata as JSON text. Open applies the migrations of package migrations.
package sqlite
