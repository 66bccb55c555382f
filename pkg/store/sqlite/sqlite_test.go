package sqlite_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// openFile opens a fresh database file in a temporary directory.
func openFile(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "gatehouse.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func openMemory(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceFile(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		s, _ := openFile(t)
		return s
	})
}

func TestConformanceMemory(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store { return openMemory(t) })
}

// TestConcurrentWriters proves writers queue instead of failing with
// "database is locked": 8 goroutines × 200 writes, each followed by reads.
func TestConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 1600 fsynced commits")
	}
	storetest.RunConcurrencyTests(t, func(t *testing.T) store.Store {
		s, _ := openFile(t)
		return s
	}, 8, 200)
}

func TestFileModes(t *testing.T) {
	_, path := openFile(t)
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
	matches, _ := filepath.Glob(path + "-*") // -wal, -shm
	for _, p := range matches {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want no group or other access", p, fi.Mode())
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	s, path := openFile(t)
	k := store.APIKey{ID: "0123456789abcdef01234567", KeyHash: "h", User: "alice", Enabled: true}
	if err := s.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := sqlite.Open(t.Context(), path) // migrations already applied: no-op
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.APIKeyByID(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentOpen starts several stores on one new file at once, as
// two processes would: migrations must run exactly once, without error.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", dir} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestNoSecretsOnDisk checks the raw bytes of the database, WAL included,
// not just what SQL shows.
func TestNoSecretsOnDisk(t *testing.T) {
	s, path := openFile(t)
	secretToken := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, 32))
	secretKey := "st2-api-key-" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 24))
	tok := store.Token{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Hash: storetest.HashToken(secretToken), User: "alice"}
	key := store.APIKey{ID: "bbbbbbbbbbbbbbbbbbbbbbbb", KeyHash: storetest.HashAPIKey(secretKey), User: "alice"}
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	storetest.AssertStoreHasNoSecrets(t, s, secretToken, secretKey)
	files, _ := filepath.Glob(path + "*")
	var raw []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if !bytes.Contains(raw, []byte(tok.Hash)) {
		t.Fatal("token hash not found in the files: wrong files read?")
	}
	storetest.AssertNoSecrets(t, string(raw), secretToken, secretKey)
}

func BenchmarkTokenByHash(b *testing.B) {
	s, _ := openFile(b)
	tok := store.Token{ID: "cccccccccccccccccccccccc", Hash: storetest.HashToken("bench"), User: "alice",
		Groups: []string{"a", "b"}, Metadata: map[string]any{"k": "v"}}
	if err := s.CreateToken(b.Context(), tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TokenByHash(b.Context(), tok.Hash); err != nil {
			b.Fatal(err)
		}
	}
}
