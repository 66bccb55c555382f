package htpasswd

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"
)

// openWatching opens path with no check interval and the given settle time.
func openWatching(t *testing.T, path string, settle time.Duration) *Backend {
	t.Helper()
	b := openReloading(t, path, 0)
	b.settle = settle
	return b
}

// removed calls Removed and returns the names sorted.
func removed(t *testing.T, b *Backend) []string {
	t.Helper()
	names, err := b.Removed(t.Context())
	if err != nil {
		t.Fatalf("Removed: %v", err)
	}
	slices.Sort(names)
	return names
}

func wantRemoved(t *testing.T, b *Backend, want ...string) {
	t.Helper()
	if got := removed(t, b); !slices.Equal(got, want) {
		t.Fatalf("Removed = %q, want %q", got, want)
	}
}

// TestRemovedReportsDeletedUsers: names deleted from the file are reported
// once they stayed out for the settle time, each exactly once; re-adding a
// name and removing it again reports it again.
func TestRemovedReportsDeletedUsers(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\nbob:"+sha1Test+"\ncarol:"+sha1Test+"\n")
	b := openWatching(t, path, 50*time.Millisecond)
	wantRemoved(t, b)
	for _, u := range []string{"alice", "carol"} {
		if found, err := DeleteUser(path, u); err != nil || !found {
			t.Fatalf("DeleteUser(%s): %v %v", u, found, err)
		}
	}
	wantRemoved(t, b) // seen missing, not yet settled
	time.Sleep(60 * time.Millisecond)
	wantRemoved(t, b, "alice", "carol")
	wantRemoved(t, b) // reported once

	if err := SetUser(path, "alice", "pw", 4); err != nil {
		t.Fatal(err)
	}
	wantRemoved(t, b)
	if _, err := DeleteUser(path, "alice"); err != nil {
		t.Fatal(err)
	}
	wantRemoved(t, b)
	time.Sleep(60 * time.Millisecond)
	wantRemoved(t, b, "alice")
}

// TestRemovedIgnoresATornWrite: a file rewritten in place is briefly
// empty; users missing for that moment only are not removed.
func TestRemovedIgnoresATornWrite(t *testing.T) {
	content := "alice:" + sha1Test + "\nbob:" + sha1Test + "\n"
	path := writeFile(t, content)
	b := openWatching(t, path, time.Hour)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRemoved(t, b)
	if err := os.WriteFile(path, []byte(content+"#\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantRemoved(t, b)
	b.settle = 0 // were they still tracked, they would be reported now
	wantRemoved(t, b)
}

// TestRemovedIgnoresAnUnreadableFile: a vanished file removes nobody; when
// it comes back, the names missing from it are reported.
func TestRemovedIgnoresAnUnreadableFile(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\nbob:"+sha1Test+"\n")
	b := openWatching(t, path, 0)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wantRemoved(t, b)
	if err := os.WriteFile(path, []byte("alice:"+sha1Test+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantRemoved(t, b, "bob")
}

// TestRemovedNeverReportsUnknownNames: only names that were in the file
// can be removed from it; nor does Authenticate's own reloading lose a
// removal before Removed is asked.
func TestRemovedNeverReportsUnknownNames(t *testing.T) {
	path := writeFile(t, "alice:"+sha1Test+"\n")
	b := openWatching(t, path, 0)
	mustAuth(t, b, "ghost", "x", false)
	if err := SetUser(path, "dave", "pw", 4); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "testpassword", true)
	if _, err := DeleteUser(path, "alice"); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "testpassword", false) // reloads, and sees alice go
	wantRemoved(t, b, "alice")
}

func TestRemovedCancelled(t *testing.T) {
	b := openWatching(t, writeFile(t, "alice:"+sha1Test+"\n"), 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Removed(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Removed with a cancelled context: %v", err)
	}
}
