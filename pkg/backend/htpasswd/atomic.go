package htpasswd

import (
	"fmt"
	"io/fs"

	"github.com/gatehouse-auth/gatehouse/pkg/atomicfile"
)

// writeAtomic replaces path with data, so readers see the old or the new
// file, never a mix (atomicfile.Write).
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	return nil
}
