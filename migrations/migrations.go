package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed postgres/*.sql
var postgresFiles embed.FS

//go:embed sqlite/*.sql
var sqliteFiles embed.FS

// Migration is one SQL file.
type Migration struct {
	// Version is the file name without ".sql", e.g. "0001_init". It is the
	// key recorded in schema_migrations.
	Version string
	// SQL is the file's content: one or more statements.
	SQL string
}

// Postgres returns the PostgreSQL migrations, file names at the root.
func Postgres() fs.FS { return sub(postgresFiles, "postgres") }

// SQLite returns the SQLite migrations, file names at the root.
func SQLite() fs.FS { return sub(sqliteFiles, "sqlite") }

func sub(fsys embed.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is a constant embedded above
	}
	return s
}

// Load reads the *.sql files at the root of fsys, in file-name order.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	sort.Strings(names)
	ms := make([]Migration, 0, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		ms = append(ms, Migration{Version: strings.TrimSuffix(path.Base(name), ".sql"), SQL: string(b)})
	}
	return ms, nil
}
