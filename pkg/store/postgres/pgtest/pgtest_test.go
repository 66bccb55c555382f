package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name, url, require string
		wantSkip, wantFail bool
	}{
		{name: "set", url: "postgres://x"},
		{name: "set, required", url: "postgres://x", require: "1"},
		{name: "unset", wantSkip: true},
		{name: "unset, required", require: "1", wantFail: true},
		{name: "unset, require=0", require: "0", wantSkip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, skip, fail := decide(tc.url, tc.require)
			if (skip != "") != tc.wantSkip || (fail != "") != tc.wantFail || base != tc.url {
				t.Errorf("decide = %q, %q, %q", base, skip, fail)
			}
		})
	}
}

func TestWithSearchPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=s&sslmode=disable"},
		{"postgresql://h/db?search_path=old", "postgresql://h/db?search_path=s"},
		{"host=h dbname=db", "host=h dbname=db search_path=s"},
	} {
		got, err := WithSearchPath(tc.in, "s")
		if err != nil || got != tc.want {
			t.Errorf("WithSearchPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestStale(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for name, want := range map[string]bool{
		SchemaPrefix + "1799000000_abcdef": true,
		SchemaPrefix + "1799999999_abcdef": false,
		SchemaPrefix + "garbage":           false,
		"public":                           false,
	} {
		if got := stale(name, now); got != want {
			t.Errorf("stale(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestURL checks that URL gives a private schema and drops it afterwards.
func TestURL(t *testing.T) {
	base := BaseURL(t)
	var schema string
	t.Run("use", func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, SchemaPrefix) {
			t.Fatalf("current_schema() = %q", schema)
		}
		if _, err := conn.Exec(t.Context(), `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
	})
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	err = conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists)
	if err != nil || exists {
		t.Fatalf("schema %q still exists after cleanup (%v)", schema, err)
	}
}
