package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Migrate moves a cache of the first layout, one server for all
// (DIR/token-USER files and DIR/current-user), into the per-server layout:
// each token goes under the server named by its "url", and the current
// user becomes the current user of its token's server. A token that is
// already in the new layout is not overwritten; the old file is removed
// either way. Files without a usable url (written by hand) are left where
// they are, as is anything Migrate cannot read. With no old files it does
// nothing.
func (c Cache) Migrate() error {
	names, err := filepath.Glob(filepath.Join(c.Dir, "token-*"))
	if err != nil || len(names) == 0 {
		return err
	}
	current, _ := readCurrentUser(filepath.Join(c.Dir, currentUserFile))
	var errs []error
	for _, old := range names {
		if strings.Contains(filepath.Base(old), ".tmp") {
			continue
		}
		if err := c.migrateToken(old, current); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// migrateToken moves one old token file, and makes its user the current
// user of its server when it was the current user of the old cache.
func (c Cache) migrateToken(old, current string) error {
	t, err := readTokenFile(old, "")
	if err != nil || t.User == "" {
		return nil // damaged, or a user name we cannot know: leave it
	}
	base, err := ParseURL(t.URL)
	if err != nil {
		return nil
	}
	t.URL = base.Redacted()
	if _, err := c.Load(t.URL, t.User); errors.Is(err, ErrNotCached) {
		if err := c.Save(t); err != nil {
			return err
		}
	}
	if t.User == current {
		if _, err := c.CurrentUser(t.URL); errors.Is(err, ErrNotCached) {
			if err := c.SetCurrentUser(t.URL, t.User); err != nil {
				return err
			}
		}
		if err := removeFile(filepath.Join(c.Dir, currentUserFile)); err != nil {
			return err
		}
	}
	if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
