package storeopen_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

func TestSQLitePath(t *testing.T) {
	for _, tc := range []struct {
		url, want string
		wantErr   bool
	}{
		{url: "sqlite:data/gatehouse.db", want: "data/gatehouse.db"},
		{url: "sqlite:gatehouse.db", want: "gatehouse.db"},
		{url: "sqlite:///var/lib/gatehouse/db", want: "/var/lib/gatehouse/db"},
		{url: "sqlite:/var/lib/gatehouse/db", want: "/var/lib/gatehouse/db"},
		{url: "sqlite::memory:", want: sqlite.Memory},
		{url: "sqlite:", wantErr: true},
		{url: "sqlite://host/db", wantErr: true},
		{url: "sqlite:db?_pragma=x", wantErr: true},
		{url: "sqlite:db#frag", wantErr: true},
		{url: "postgres://x", wantErr: true},
	} {
		got, err := storeopen.SQLitePath(tc.url)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("SQLitePath(%q) = %q, %v; want %q, error %v", tc.url, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, storeopen.ErrUnsupported) {
			t.Errorf("SQLitePath(%q): %v is not ErrUnsupported", tc.url, err)
		}
	}
}

func TestOpenUnsupported(t *testing.T) {
	for _, url := range []string{"", "mysql://u:secret@h/db", "memory", "postgres:foo", "file:x.db", "SQLITE:x"} {
		s, err := storeopen.Open(t.Context(), url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if !errors.Is(err, storeopen.ErrUnsupported) {
			t.Errorf("Open(%q) = %v, want ErrUnsupported", url, err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error shows the password: %v", url, err)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	t.Chdir(t.TempDir())
	abs := filepath.Join(t.TempDir(), "abs", "gatehouse.db")
	for _, tc := range []struct{ url, file string }{
		{"sqlite::memory:", ""},
		{"sqlite:rel/gatehouse.db", "rel/gatehouse.db"},
		{"sqlite://" + abs, abs},
	} {
		s, err := storeopen.Open(t.Context(), tc.url)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.url, err)
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Errorf("Open(%q) = %T", tc.url, s)
		}
		checkWorks(t, s)
		if tc.file != "" {
			if _, err := os.Stat(tc.file); err != nil {
				t.Errorf("Open(%q): %v", tc.url, err)
			}
		}
	}
}

func TestMigrateSQLite(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db")
	for range 2 {
		if err := migrate(t, url); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if err := migrate(t, url); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{url, "postgresql" + strings.TrimPrefix(url, "postgres")} {
		s, err := storeopen.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if _, ok := s.(*postgres.Store); !ok {
			t.Errorf("Open = %T", s)
		}
		checkWorks(t, s)
	}
}

func checkWorks(t *testing.T, s store.Store) {
	t.Helper()
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Error(err)
	}
	if _, err := s.TokenByHash(t.Context(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash: %v, want ErrNotFound", err)
	}
}

// migrate opens the store at url, which applies its migrations, and closes
// it, as "gatehouse migrate" does.
func migrate(t *testing.T, url string) error {
	t.Helper()
	s, err := storeopen.Open(t.Context(), url)
	if err != nil {
		return err
	}
	return s.Close()
}

// TestDriversShareOneSchemaHistory: every store applies the same list of
// migrations, so a feature never lands on one store only.
func TestDriversShareOneSchemaHistory(t *testing.T) {
	var first []string
	for i, d := range storeopen.Drivers() {
		names, err := fs.Glob(d.Migrations(), "*.sql")
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: migrations %v, %v", d.Name, names, err)
		}
		if i == 0 {
			first = names
			continue
		}
		if !slices.Equal(names, first) {
			t.Errorf("%s migrations %v, %s has %v", d.Name, names, storeopen.Drivers()[0].Name, first)
		}
	}
}

// TestCheckIsOpensGrammar: Check (what config validates with) and Open
// agree on every URL: one grammar.
func TestCheckIsOpensGrammar(t *testing.T) {
	for _, url := range []string{"", "SQLITE:x", "sqlite://host/db", "sqlite:x?mode=ro", "sqlite:", "postgres:foo",
		"mysql://u:secret@h/db", "postgres://%zz", "sqlite:" + filepath.Join(t.TempDir(), "ok.db")} {
		checkErr := storeopen.Check(url)
		s, openErr := storeopen.Open(t.Context(), url)
		if s != nil {
			s.Close()
		}
		if (checkErr == nil) != (openErr == nil) {
			t.Errorf("%q: Check %v, Open %v", url, checkErr, openErr)
		}
		if checkErr != nil && strings.Contains(checkErr.Error(), "secret") {
			t.Errorf("%q: Check echoes the password: %v", url, checkErr)
		}
	}
}
