package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
	"github.com/jackc/pgx/v5"
)

// Environment variables read by BaseURL.
const (
	EnvURL     = "GATEHOUSE_TEST_POSTGRES_URL"
	EnvRequire = integration.EnvRequire
)

// SchemaPrefix starts the name of every schema URL creates.
const SchemaPrefix = "gatehouse_test_"

// staleAfter is the age past which a schema left by a killed test run is
// dropped by the next run.
const staleAfter = 6 * time.Hour

// BaseURL returns $GATEHOUSE_TEST_POSTGRES_URL. If it is unset, it skips
// t, or fails t if $GATEHOUSE_REQUIRE_INTEGRATION is "1".
func BaseURL(t testing.TB) string {
	t.Helper()
	u, skip, fail := decide(os.Getenv(EnvURL), os.Getenv(EnvRequire))
	switch {
	case fail != "":
		t.Fatal(fail)
	case skip != "":
		t.Skip(skip)
	}
	return u
}

// decide is BaseURL's logic, apart from the environment.
func decide(u, require string) (base, skip, fail string) {
	switch {
	case u != "":
		return u, "", ""
	case require == "1":
		return "", "", EnvURL + " is unset and " + EnvRequire + "=1: PostgreSQL tests must run"
	default:
		return "", EnvURL + " is unset: skipping PostgreSQL tests", ""
	}
}

// URL creates a new, empty schema on the server of BaseURL and returns
// BaseURL with search_path set to it, so that everything a test creates
// lands there. The schema is dropped when t's cleanup runs; register the
// cleanup that closes your store after calling URL, so it runs first.
func URL(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	schema := newSchemaName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sweepOnce.Do(func() { sweep(ctx, base) })
	if err := exec(ctx, base, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, base, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := WithSearchPath(base, schema)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// WithSearchPath returns the connection string conn (a URL or a
// keyword=value string) with its search_path runtime parameter set to
// schema.
func WithSearchPath(conn, schema string) (string, error) {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return conn + " search_path=" + schema, nil
	}
	u, err := url.Parse(conn)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvURL, err) // url.Error hides the password
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// newSchemaName returns SchemaPrefix, the Unix time and random hex, so
// that sweep can tell old schemas.
func newSchemaName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s%d_%s", SchemaPrefix, time.Now().Unix(), hex.EncodeToString(b))
}

func exec(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

var sweepOnce sync.Once

// sweep drops test schemas older than staleAfter, left by test runs that
// were killed before their cleanup. Errors are ignored: it is hygiene.
func sweep(ctx context.Context, base string) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(ctx, `SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)`, SchemaPrefix)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		if stale(n, time.Now()) {
			conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{n}.Sanitize()+` CASCADE`)
		}
	}
}

// stale reports whether the schema name was made by newSchemaName more
// than staleAfter before now.
func stale(name string, now time.Time) bool {
	var unix int64
	var rest string
	if _, err := fmt.Sscanf(strings.TrimPrefix(name, SchemaPrefix), "%d_%s", &unix, &rest); err != nil {
		return false
	}
	return now.Sub(time.Unix(unix, 0)) > staleAfter
}
