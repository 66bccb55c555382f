package htpasswd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeAtomic replaces path with data: it writes a temporary file in the
// same directory, sets mode, syncs, and renames it over path, so readers see
// the old or the new file, never a mix. The temporary file is removed on
// failure. Ownership is not copied (that needs privileges).
func writeAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = writeSynced(f, data, mode); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	syncDir(dir)
	return nil
}

// writeSynced writes data to f, sets its mode, flushes it to disk and
// closes it.
func writeSynced(f *os.File, data []byte, mode fs.FileMode) error {
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	return nil
}

// syncDir makes the rename durable where the platform allows it; failures
// are ignored because the new file is already in place.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	_ = d.Sync()
}
