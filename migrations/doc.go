// Package migrations holds Gatehouse's database schema, one directory of
// SQL files per dialect, embedded in the binary.
//
// A migration is a file named NNNN_description.sql. The stores apply the
// files of their dialect in file-name order, each in its own transaction,
// and record each file's version (its name without ".sql") in the table
// schema_migrations, so a file runs at most once per database. Add a
// change as a new file with the next number; never edit or rename a file
// that has shipped.
package migrations
