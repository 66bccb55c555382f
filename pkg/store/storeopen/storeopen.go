package storeopen

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
)

// ErrUnsupported is returned, wrapped, for a URL whose scheme names no
// store or whose form is wrong.
var ErrUnsupported = errors.New("unsupported store URL")

// Open opens the store that url names and applies its pending
// migrations. Errors reaching the database are store.ErrUnavailable.
func Open(ctx context.Context, url string) (store.Store, error) {
	switch scheme, _, _ := strings.Cut(url, ":"); scheme {
	case "sqlite":
		path, err := SQLitePath(url)
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	case "postgres", "postgresql":
		if !strings.HasPrefix(url, scheme+"://") {
			return nil, fmt.Errorf("storeopen: %w: want %s://…", ErrUnsupported, scheme)
		}
		return postgres.Open(ctx, url)
	default:
		// Never echo the URL: it may hold a password.
		return nil, fmt.Errorf("storeopen: %w: scheme %q; want sqlite: or postgres://", ErrUnsupported, scheme)
	}
}

// Migrate applies the pending migrations of the store that url names, as
// "gatehouse migrate" does, and closes it. Open migrates too; Migrate
// exists so that a deployment can migrate before starting replicas.
func Migrate(ctx context.Context, url string) error {
	s, err := Open(ctx, url)
	if err != nil {
		return err
	}
	return s.Close()
}

// SQLitePath returns the file path (or sqlite.Memory) that a sqlite: URL
// names. Query strings and hosts are refused, so that a typo does not turn
// into an oddly named file.
func SQLitePath(url string) (string, error) {
	rest, ok := strings.CutPrefix(url, "sqlite:")
	switch {
	case !ok:
		return "", fmt.Errorf("storeopen: %w: not a sqlite: URL", ErrUnsupported)
	case rest == ":memory:":
		return sqlite.Memory, nil
	case strings.ContainsAny(rest, "?#"):
		return "", fmt.Errorf("storeopen: %w: sqlite URLs take no query or fragment", ErrUnsupported)
	case strings.HasPrefix(rest, "///"):
		return rest[2:], nil
	case strings.HasPrefix(rest, "//"):
		return "", fmt.Errorf("storeopen: %w: sqlite://HOST is not supported; use sqlite:///ABSOLUTE/PATH or sqlite:RELATIVE/PATH", ErrUnsupported)
	case rest == "":
		return "", fmt.Errorf("storeopen: %w: sqlite: URL without a path", ErrUnsupported)
	}
	return rest, nil
}
