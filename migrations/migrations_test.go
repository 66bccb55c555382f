package migrations_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gatehouse-auth/gatehouse/migrations"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_b.sql": {Data: []byte("B")},
		"0001_a.sql": {Data: []byte("A")},
		"README.md":  {Data: []byte("ignored")},
	}
	ms, err := migrations.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []migrations.Migration{{Version: "0001_a", SQL: "A"}, {Version: "0002_b", SQL: "B"}}
	if !slices.Equal(ms, want) {
		t.Fatalf("got %+v, want %+v", ms, want)
	}
}

func TestEmbedded(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys fs.FS
	}{
		{"postgres", migrations.Postgres()},
		{"sqlite", migrations.SQLite()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := fstest.TestFS(tc.fsys, "0001_init.sql"); err != nil {
				t.Fatal(err)
			}
			ms, err := migrations.Load(tc.fsys)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if strings.TrimSpace(m.SQL) == "" {
					t.Errorf("%s is empty", m.Version)
				}
			}
		})
	}
}

// TestSameVersions guards against a migration added for one dialect only.
func TestSameVersions(t *testing.T) {
	pg, err := migrations.Load(migrations.Postgres())
	if err != nil {
		t.Fatal(err)
	}
	lite, err := migrations.Load(migrations.SQLite())
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("%d postgres migrations, %d sqlite", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version {
			t.Errorf("migration %d: postgres %q, sqlite %q", i, pg[i].Version, lite[i].Version)
		}
	}
}
