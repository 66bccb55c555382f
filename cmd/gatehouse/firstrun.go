package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

// firstRun makes the zero-setup default usable: when the flat_file backend
// points at the default htpasswd path and that file does not exist yet, it
// creates it with one user, admin, whose random password is printed once on
// out. A configured path that is missing is left alone: that is an
// operator's mistake to see, not to paper over.
func firstRun(cfg config.Config, out io.Writer) error {
	if cfg.Auth.Backend != htpasswd.Name {
		return nil
	}
	path, _ := cfg.Auth.BackendKwargs["file_path"].(string)
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
