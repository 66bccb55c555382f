//go:build unix

package htpasswd

import (
	"io/fs"
	"syscall"
)

// devIno returns the device and inode numbers of fi.
func devIno(fi fs.FileInfo) (dev, ino uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Dev), uint64(st.Ino) // field types differ by platform
}
