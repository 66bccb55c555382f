package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/store"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// Memory is the path that opens a private in-memory database, for tests.
const Memory = ":memory:"

// busyTimeoutMS is how long a statement waits for another process's lock.
const busyTimeoutMS = "5000"

// Store is a store.Store in one SQLite database file. It is safe for
// concurrent use; Close it when done.
type Store struct {
	w *sql.DB // one connection, the only one that writes
	r *sql.DB // read-only pool; the same as w for Memory
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it (mode 0600) and its parent
// directory (mode 0700) if missing, and applies pending migrations. Path
// Memory (":memory:") opens a fresh in-memory database that lives until
// Close.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(path)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func open(path string) (*Store, error) {
	switch path {
	case "":
		return nil, errors.New("sqlite: empty database path")
	case Memory:
		return openMemory()
	}
	abs, err := createFile(path)
	if err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", fileDSN(abs, writerParams()))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", fileDSN(abs, readerParams()))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &Store{w: w, r: r}, nil
}

// openMemory uses a single connection for everything: each SQLite
// connection to ":memory:" would otherwise get a database of its own.
func openMemory() (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+busyTimeoutMS+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", Memory+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", Memory, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return &Store{w: db, r: db}, nil
}

// createFile makes sure path exists with mode 0600 before SQLite opens it,
// since SQLite itself would create it world-readable. The -wal and -shm
// files inherit the database file's mode. It returns the absolute path.
func createFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	return abs, f.Close()
}

func writerParams() url.Values {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+busyTimeoutMS+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return q
}

func readerParams() url.Values {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+busyTimeoutMS+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "query_only(1)")
	return q
}

// fileDSN builds a SQLite URI for the absolute path abs. In such a URI,
// '%', '?' and '#' in the path must be escaped.
func fileDSN(abs string, q url.Values) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	return "file:" + p + "?" + q.Encode()
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	return translate("ping", err)
}

// Close closes the database. In-memory data is gone afterwards.
func (s *Store) Close() error {
	if s.r == s.w {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// exec runs one statement in a write transaction (write) and returns how
// many rows it changed.
func (s *Store) exec(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// write runs fn in a transaction on the writer connection. The writer's
// BEGIN is IMMEDIATE, so the write lock is taken up front (waiting up to
// busy_timeout for another process) instead of failing at the first write.
func (s *Store) write(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return translate(op, err)
	}
	return translate(op, tx.Commit())
}
