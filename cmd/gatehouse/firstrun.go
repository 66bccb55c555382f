package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/config"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// firstRun makes the zero-setup default usable: when the flat_file backend
// points at the default htpasswd path and that file does not exist yet, it
// creates it with one user, admin, whose random password is printed once on
// out. A configured path that is missing is left alone: that is an
// operator's mistake to see, not to paper over.
//
// With a local backend configured and no local user yet, it creates the
// local user admin the same way (firstRunLocal).
func firstRun(ctx context.Context, cfg config.Config, users store.UserStore, out io.Writer) error {
	for _, spec := range cfg.Auth.Chain() {
		var err error
		switch spec.Name {
		case htpasswd.Name:
			err = firstRunFile(spec.Kwargs, out)
		case local.Name:
			err = firstRunLocal(ctx, users, out)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// firstRunFile creates the default htpasswd file with admin when it is
// missing.
func firstRunFile(kwargs map[string]any, out io.Writer) error {
	path, _ := kwargs["file_path"].(string)
	if filepath.Clean(path) != filepath.Clean(config.DefaultHtpasswdPath) {
		return nil
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("first run: %w", err)
	}
	password := rand.Text()
	if err := htpasswd.SetUser(path, "admin", password, htpasswd.DefaultCost); err != nil {
		return fmt.Errorf("first run: %w", err)
	}
	fmt.Fprintf(out, "\nFirst run: created %s with user \"admin\" and password:\n\n    %s\n\n"+
		"It is shown only this once. Change it with: gatehouse htpasswd set admin\n\n", path, password)
	return nil
}

// firstRunLocal creates the local user admin with a random password,
// printed once on out, when the store holds no local user.
func firstRunLocal(ctx context.Context, users store.UserStore, out io.Writer) error {
	_, total, err := users.ListUsers(ctx, store.UserFilter{Limit: 1})
	if err != nil || total > 0 {
		return wrapFirstRun(err)
	}
	password := rand.Text()
	hash, err := local.HashPassword(password, local.DefaultParams())
	if err != nil {
		return wrapFirstRun(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := store.User{Name: "admin", PasswordHash: hash, Active: true, CreatedAt: now, UpdatedAt: now,
		PasswordChangedAt: now}
	if err := users.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) { // another replica's first run
			return nil
		}
		return wrapFirstRun(err)
	}
	fmt.Fprintf(out, "\nFirst run: created the local user \"admin\" with password:\n\n    %s\n\n"+
		"It is shown only this once. Change it with: gatehouse passwd\n\n", password)
	return nil
}

func wrapFirstRun(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("first run: %w", err)
}
