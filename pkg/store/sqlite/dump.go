package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Dump returns every column of every row of every table as text, one line
// per row ("table: column=value ..."). It reads the whole database and is
// meant for tests that check no secret is stored, and for debugging.
func (s *Store) Dump(ctx context.Context) (string, error) {
	tables, err := s.tables(ctx)
	if err != nil {
		return "", translate("dump", err)
	}
	var b strings.Builder
	for _, t := range tables {
		if err := s.dumpTable(ctx, &b, t); err != nil {
			return "", translate("dump "+t, err)
		}
	}
	return b.String(), nil
}

func (s *Store) tables(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

func (s *Store) dumpTable(ctx context.Context, b *strings.Builder, table string) error {
	quoted := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
	rows, err := s.r.QueryContext(ctx, `SELECT * FROM `+quoted)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := dumpRow(b, rows, table, cols); err != nil {
			return err
		}
	}
	return rows.Err()
}

func dumpRow(b *strings.Builder, rows *sql.Rows, table string, cols []string) error {
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err
	}
	b.WriteString(table + ":")
	for i, c := range cols {
		fmt.Fprintf(b, " %s=%s", c, vals[i].String)
	}
	b.WriteString("\n")
	return nil
}
