package storeopen

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/migrations"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
)

// ErrUnsupported is returned, wrapped, for a URL whose scheme names no
// store or whose form is wrong.
var ErrUnsupported = errors.New("unsupported store URL")

// Driver is one kind of store: the URL schemes it serves, how such a URL
// is checked without opening anything, how it is opened, and its schema
// migrations. Check and Open never echo the URL in an error (it may hold a
// password); Open applies pending migrations and returns errors that reach
// the database wrapped in store.ErrUnavailable.
type Driver struct {
	Name       string
	Schemes    []string // lower case, without ":"
	Form       string   // the URL's shape, for messages: "sqlite:PATH"
	Check      func(url string) error
	Open       func(ctx context.Context, url string) (store.Store, error)
	Migrations func() fs.FS
}

// drivers is the registry: one line per store. A new store is one package
// that passes storetest.RunTests (and RunNotifierTests if replicas share
// it) plus one line here; config validates database.url through Check, so
// the grammar of its URLs lives in one place.
var drivers = []Driver{
	{Name: "sqlite", Schemes: []string{"sqlite"}, Form: "sqlite:PATH", Check: checkSQLite, Open: openSQLite, Migrations: migrations.SQLite},
	{Name: "postgres", Schemes: []string{"postgres", "postgresql"}, Form: "postgres://…", Check: checkPostgres, Open: openPostgres, Migrations: migrations.Postgres},
}

// Drivers returns the registered drivers.
func Drivers() []Driver { return slices.Clone(drivers) }

// Lookup returns the driver that serves url's scheme. Schemes are matched
// in lower case only, as the drivers' own parsers read them.
func Lookup(url string) (Driver, error) {
	scheme, _, ok := strings.Cut(url, ":")
	if !ok {
		scheme = ""
	}
	for _, d := range drivers {
		if slices.Contains(d.Schemes, scheme) {
			return d, nil
		}
	}
	if strings.TrimSpace(url) == "" {
		return Driver{}, fmt.Errorf("%w: must not be empty", ErrUnsupported)
	}
	// Never echo the URL: it may hold a password.
	return Driver{}, fmt.Errorf("%w: unsupported scheme %q (want %s)", ErrUnsupported, scheme, wanted())
}

// wanted lists the URL forms the drivers take, for error messages.
func wanted() string {
	var forms []string
	for _, d := range drivers {
		forms = append(forms, d.Form)
	}
	return strings.Join(forms, " or ")
}

// Check reports, without opening anything, whether url names a store that
// Open could open: a registered scheme and a well-formed URL for it.
func Check(url string) error {
	d, err := Lookup(url)
	if err != nil {
		return err
	}
	return d.Check(url)
}

// Open opens the store that url names and applies its pending
// migrations. Errors reaching the database are store.ErrUnavailable.
func Open(ctx context.Context, url string) (store.Store, error) {
	d, err := Lookup(url)
	if err != nil {
		return nil, fmt.Errorf("storeopen: %w", err)
	}
	if err := d.Check(url); err != nil {
		return nil, fmt.Errorf("storeopen: %w", err)
	}
	return d.Open(ctx, url)
}

// The openers return a nil interface, not a typed nil, on error.
func openPostgres(ctx context.Context, url string) (store.Store, error) {
	s, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, url string) (store.Store, error) {
	path, err := sqlitePath(url)
	if err != nil {
		return nil, err
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func checkSQLite(url string) error {
	_, err := sqlitePath(url)
	return err
}

// sqlitePath returns the file path (or sqlite.Memory) that a sqlite: URL
// names. Query strings and hosts are refused, so that a typo does not turn
// into an oddly named file.
func sqlitePath(url string) (string, error) {
	rest, ok := strings.CutPrefix(url, "sqlite:")
	switch {
	case !ok:
		return "", fmt.Errorf("%w: not a sqlite: URL", ErrUnsupported)
	case rest == ":memory:":
		return sqlite.Memory, nil
	case strings.ContainsAny(rest, "?#"):
		return "", fmt.Errorf("%w: sqlite URLs take no query or fragment", ErrUnsupported)
	case strings.HasPrefix(rest, "///"):
		return rest[2:], nil
	case strings.HasPrefix(rest, "//"):
		return "", fmt.Errorf("%w: sqlite://HOST is not supported; use sqlite:///ABSOLUTE/PATH or sqlite:RELATIVE/PATH", ErrUnsupported)
	case rest == "":
		return "", fmt.Errorf("%w: sqlite: URL has no path (want sqlite:RELATIVE/PATH or sqlite:///ABSOLUTE/PATH)", ErrUnsupported)
	}
	return rest, nil
}

// checkPostgres accepts postgres://… and postgresql://… URLs that parse;
// what the server says of them is Open's business.
func checkPostgres(raw string) error {
	scheme, _, _ := strings.Cut(raw, ":")
	if !strings.HasPrefix(raw, scheme+"://") {
		return fmt.Errorf("%w: want %s://…", ErrUnsupported, scheme)
	}
	if _, err := url.Parse(raw); err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password and all
		}
		return fmt.Errorf("%w: invalid postgres URL: %w", ErrUnsupported, err)
	}
	return nil
}
