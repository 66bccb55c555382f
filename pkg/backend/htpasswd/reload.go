package htpasswd

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// state is the outcome of the last load: a parsed table, or the error that
// prevented one. It is immutable once stored.
type state struct {
	table *table
	id    fileID
	err   error // wraps backend.ErrUnavailable
}

// fileID is what is compared to decide whether the file changed. Size
// catches edits within one mtime tick that change the length; inode and
// device catch a file replaced by rename (editors, atomic writers,
// Kubernetes volume updates) even if size and mtime happen to be equal.
type fileID struct {
	modTime  time.Time
	size     int64
	dev, ino uint64
}

// identify extracts the fileID of fi.
func identify(fi fs.FileInfo) fileID {
	dev, ino := devIno(fi)
	return fileID{modTime: fi.ModTime(), size: fi.Size(), dev: dev, ino: ino}
}

// same reports whether both describe the same version of the file.
func (id fileID) same(other fileID) bool {
	return id.modTime.Equal(other.modTime) && id.size == other.size &&
		id.dev == other.dev && id.ino == other.ino
}

// current returns the state to use for one request, after reloading the
// file if it is due for a look and changed.
func (b *Backend) current() *state {
	if b.due() {
		b.refresh()
	}
	return b.state.Load()
}

// due reports whether checkInterval has passed since the last look.
func (b *Backend) due() bool {
	if b.checkInterval <= 0 {
		return true
	}
	elapsed := time.Since(b.start) - time.Duration(b.lastCheck.Load())
	return elapsed >= b.checkInterval
}

// refresh looks at the file if a look is due. Concurrent callers wait for
// the first, then find it not due.
func (b *Backend) refresh() {
	b.reloadMu.Lock()
	defer b.reloadMu.Unlock()
	if b.due() {
		b.look()
	}
}

// look stats the file, reloads it if it changed or the last load failed,
// and tells the removal tracker what the file holds now. The caller holds
// reloadMu.
func (b *Backend) look() {
	now := time.Since(b.start)
	b.lastCheck.Store(int64(now))
	old := b.state.Load()
	if fi, err := os.Stat(b.path); err != nil || old.err != nil || !old.id.same(identify(fi)) {
		next := b.load()
		b.logChange(old, next)
		b.state.Store(next)
	}
	b.removals.observe(b.state.Load().table, now, b.settle)
}

// load reads and parses the file. Size and inode come from the open file
// descriptor, so they describe the bytes that were read.
func (b *Backend) load() *state {
	f, err := os.Open(b.path)
	if err != nil {
		return &state{err: unavailable(err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return &state{err: unavailable(err)}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return &state{err: unavailable(err)}
	}
	return &state{table: parseTable(string(data)), id: identify(fi)}
}

// unavailable wraps a file error so that it satisfies both
// errors.Is(err, backend.ErrUnavailable) and checks on the cause.
func unavailable(err error) error {
	return fmt.Errorf("htpasswd: %w: %w", backend.ErrUnavailable, err)
}

// logChange logs a load. A failure is logged once, not on every look while
// it lasts. Neither passwords nor hashes are ever logged.
func (b *Backend) logChange(old, next *state) {
	if next.err != nil {
		if old == nil || old.err == nil || old.err.Error() != next.err.Error() {
			b.log.Error("cannot read htpasswd file; refusing all logins", "err", next.err)
		}
		return
	}
	t := next.table
	b.log.Info("htpasswd file loaded", "users", len(t.users))
	if len(t.unusable) > 0 {
		b.log.Warn("htpasswd entries with plaintext, unknown or malformed hashes never match",
			"lines", t.unusable)
	}
}
