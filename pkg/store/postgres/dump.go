package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Dump returns every row of every table of the current schema as text, one
// line per row ("table: {json of the row}"). It reads the whole schema and
// is meant for tests that check no secret is stored, and for debugging.
func (s *Store) Dump(ctx context.Context) (string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", translate("dump", err)
	}
	var b strings.Builder
	for _, t := range tables {
		rows, _ := s.pool.Query(ctx, `SELECT row_to_json(t)::text FROM `+pgx.Identifier{t}.Sanitize()+` t`)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", translate("dump "+t, err)
		}
		for _, l := range lines {
			b.WriteString(t + ": " + l + "\n")
		}
	}
	return b.String(), nil
}
