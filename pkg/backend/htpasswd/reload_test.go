package htpasswd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// {SHA} keeps these tests fast; the hashes are of "testpassword" and
// "second".
const (
	sha1Test   = "{SHA}i7YRj4/Wk1rQh2o740pxfTJwj/0="
	sha1Second = "{SHA}NS94KaI4SwAcwSsMJhPHVkVKH2o="
)

// openReloading opens path with the check interval set to interval.
func openReloading(t *testing.T, path string, interval time.Duration) *Backend {
	t.Helper()
	b, err := New(Config{FilePath: path}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b.checkInterval = interval
	return b
}

// setMTime gives path the modification time mtime.
func setMTime(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// An in-place edit that changes the size is seen even when the mtime is
// the same as before (an edit within the same timestamp tick).
func TestReloadInPlaceSameMTime(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\n")
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	setMTime(t, path, mtime)
	b := openReloading(t, path, 0)
	mustAuth(t, b, "alice", "testpassword", true)

	if err := os.WriteFile(path, []byte("alice:"+sha1Test+"\nbob:"+sha1Second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setMTime(t, path, mtime)
	mustAuth(t, b, "bob", "second", true)
	mustAuth(t, b, "alice", "testpassword", true)
}

// A file replaced by rename is seen even when the new file has the same
// size and mtime: only the inode differs.
func TestReloadRenameReplace(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\n")
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	setMTime(t, path, mtime)
	b := openReloading(t, path, 0)
	mustAuth(t, b, "alice", "testpassword", true)

	tmp := filepath.Join(filepath.Dir(path), "new")
	if err := os.WriteFile(tmp, []byte("alice:"+sha1Second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setMTime(t, tmp, mtime)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "second", true)
	mustAuth(t, b, "alice", "testpassword", false)
}

// With the default-style interval, a change waits for the next look, and
// the file is not stat'ed on every call.
func TestReloadInterval(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\n")
	const interval = 300 * time.Millisecond
	b := openReloading(t, path, interval)

	if err := os.WriteFile(path, []byte("alice:"+sha1Second+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "testpassword", true) // not due yet: old content
	time.Sleep(interval + 50*time.Millisecond)
	mustAuth(t, b, "alice", "second", true)

	if err := os.WriteFile(path, []byte("alice:"+sha1Test+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "second", true) // just looked: old content again
}

// Once loaded, a file that disappears makes every call fail with
// ErrUnavailable (fail closed, no stale users); it recovers when the file
// comes back.
func TestReloadFileRemovedFailsClosed(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\n")
	b := openReloading(t, path, 0)
	mustAuth(t, b, "alice", "testpassword", true)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "nobody"} {
		_, err := b.Authenticate(t.Context(), user, "testpassword")
		if !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after removal: %v, want ErrUnavailable wrapping ErrNotExist", user, err)
		}
	}

	if err := os.WriteFile(path, []byte("alice:"+sha1Second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "second", true)
}

// A path that cannot be read (here a directory) is ErrUnavailable, at start
// and later.
func TestReloadUnreadable(t *testing.T) {
	dir := t.TempDir()
	atStart, err := New(Config{FilePath: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := atStart.Authenticate(t.Context(), "alice", "testpassword"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Authenticate on a directory from the start = %v, want ErrUnavailable", err)
	}
	if err := atStart.Ready(t.Context()); err == nil || err.Error() != "cannot read htpasswd file "+dir+": is a directory" {
		t.Errorf("Ready on a directory = %v", err)
	}

	path := writeFile(t, "alice:"+sha1Test+"\n")
	b := openReloading(t, path, 0)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(t.Context(), "alice", "testpassword"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Authenticate on directory = %v, want ErrUnavailable", err)
	}
}

// Many concurrent logins while the file is rewritten; run with -race.
func TestReloadConcurrent(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\n")
	b := openReloading(t, path, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				_, err := b.Authenticate(t.Context(), "alice", "testpassword")
				if err != nil && !errors.Is(err, backend.ErrInvalidCredentials) {
					t.Errorf("Authenticate: %v", err)
					return
				}
			}
		})
	}
	for i := range 50 {
		if err := rewriteWithPadding(path, i); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	mustAuth(t, b, "alice", "testpassword", true)
}

// rewriteWithPadding rewrites path atomically with alice's entry and i padding
// lines, so that the size changes on every call.
func rewriteWithPadding(path string, i int) error {
	content := "alice:" + sha1Test + "\n"
	for range i {
		content += "#\n"
	}
	return writeAtomic(path, []byte(content), 0o600)
}

// TestPasswordsChanged: a user whose hash changes in the file is reported
// once; users left alone, and added ones, are not.
func TestPasswordsChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	for _, u := range []string{"alice", "bob"} {
		if err := SetUser(path, u, u+"-password", 4); err != nil {
			t.Fatal(err)
		}
	}
	b := openReloading(t, path, 0)
	if got, err := b.PasswordsChanged(t.Context()); err != nil || len(got) != 0 {
		t.Fatalf("at start: %v, %v", got, err)
	}
	if err := SetUser(path, "alice", "new-password", 4); err != nil {
		t.Fatal(err)
	}
	if err := SetUser(path, "carol", "carol-password", 4); err != nil {
		t.Fatal(err)
	}
	if got, err := b.PasswordsChanged(t.Context()); err != nil || len(got) != 1 || got[0] != "alice" {
		t.Fatalf("after alice's change: %v, %v; want [alice]", got, err)
	}
	if got, _ := b.PasswordsChanged(t.Context()); len(got) != 0 {
		t.Errorf("reported twice: %v", got)
	}
}
