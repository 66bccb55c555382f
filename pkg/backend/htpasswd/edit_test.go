package htpasswd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		name string
		user string
		ok   bool
	}{
		{"plain", "alice", true},
		{"email", "alice@example.com", true},
		{"inner space", "alice smith", true},
		{"unicode", "jürgen", true},
		{"inner hash", "a#b", true},
		{"empty", "", false},
		{"colon", "ali:ce", false},
		{"leading space", " alice", false},
		{"trailing space", "alice ", false},
		{"trailing tab", "alice\t", false},
		{"newline", "ali\nce", false},
		{"carriage return", "alice\r", false},
		{"NUL", "ali\x00ce", false},
		{"DEL", "ali\x7fce", false},
		{"C1 control", "ali\u0085ce", false},
		{"no-break space at end", "alice\u00a0", false},
		{"leading hash", "#alice", false},
		{"invalid UTF-8", "ali\xffce", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateUsername(tc.user)
			if tc.ok && err != nil {
				t.Errorf("ValidateUsername(%q) = %v, want nil", tc.user, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidUsername) {
				t.Errorf("ValidateUsername(%q) = %v, want ErrInvalidUsername", tc.user, err)
			}
		})
	}
}

// readFile returns the content of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// fileMode returns the permission bits of path.
func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestSetUserCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := SetUser(path, "alice", "s3cret:pw", bcrypt.MinCost); err != nil {
		t.Fatalf("SetUser: %v", err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("mode = %o, want 600", m)
	}
	content := readFile(t, path)
	if !strings.HasPrefix(content, "alice:$2y$04$") || strings.Count(content, "\n") != 1 {
		t.Errorf("content = %q, want one alice:$2y$04$ line", content)
	}
	b := openReloading(t, path, 0)
	mustAuth(t, b, "alice", "s3cret:pw", true)
	mustAuth(t, b, "alice", "s3cret", false)
}

func TestSetUserKeepsOtherLines(t *testing.T) {
	const before = "# users\r\n" +
		"alice:" + sha1Test + "\n" +
		"\n" +
		"  bob:" + sha1Test + "  \n" +
		"no colon here\n" +
		"carol:" + sha1Test + "\n" +
		"bob:" + sha1Second + "\n" +
		"# end"
	path := writeFile(t, before)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	b := openReloading(t, path, 0)
	mustAuth(t, b, "bob", "second", true) // the later bob line wins

	if err := SetUser(path, "bob", "new-bob", bcrypt.MinCost); err != nil {
		t.Fatalf("SetUser: %v", err)
	}
	lines := strings.SplitAfter(readFile(t, path), "\n")
	want := strings.SplitAfter(before, "\n")
	if len(lines) != len(want)-1 || !strings.HasPrefix(lines[3], "bob:$2y$04$") {
		t.Fatalf("after SetUser:\n%s", strings.Join(lines, ""))
	}
	for i, line := range lines {
		wantLine := want[i]
		if i >= 6 {
			wantLine = want[i+1] // the second bob line was dropped
		}
		if i != 3 && line != wantLine {
			t.Errorf("line %d = %q, want %q", i+1, line, wantLine)
		}
	}
	if m := fileMode(t, path); m != 0o640 {
		t.Errorf("mode = %o, want 640 kept", m)
	}
	mustAuth(t, b, "bob", "new-bob", true)
	mustAuth(t, b, "alice", "testpassword", true)
	mustAuth(t, b, "carol", "testpassword", true)
}

func TestSetUserAppends(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{"with final newline", "alice:x\n", "alice:x\nbob:"},
		{"without final newline", "alice:x", "alice:x\nbob:"},
		{"empty file", "", "bob:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.before)
			if err := SetUser(path, "bob", "pw", bcrypt.MinCost); err != nil {
				t.Fatalf("SetUser: %v", err)
			}
			got := readFile(t, path)
			if !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, "\n") {
				t.Errorf("content = %q, want prefix %q and final newline", got, tc.want)
			}
		})
	}
}

// Through a symbolic link, the target is rewritten and the link kept.
func TestSetUserSymlink(t *testing.T) {
	target := writeFile(t, "alice:"+sha1Test+"\n")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks: %v", err)
	}
	if err := SetUser(link, "bob", "pw", bcrypt.MinCost); err != nil {
		t.Fatalf("SetUser: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link replaced by a file (%v)", err)
	}
	if !strings.Contains(readFile(t, target), "\nbob:$2y$") {
		t.Errorf("target not updated: %q", readFile(t, target))
	}
}

func TestSetUserErrors(t *testing.T) {
	tests := []struct {
		name, user, password string
		cost                 int
		wantErr              string
	}{
		{"invalid user", "a:b", "pw", 4, "invalid user name"},
		{"empty password", "alice", "", 4, "empty password"},
		{"password over 72 bytes", "alice", strings.Repeat("x", 73), 4, "72 bytes"},
		{"cost too low", "alice", "pw", 3, "cost 3"},
		{"cost too high", "alice", "pw", 32, "cost 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "alice:x\n")
			err := SetUser(path, tc.user, tc.password, tc.cost)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("SetUser error = %v, want one containing %q", err, tc.wantErr)
			}
			if got := readFile(t, path); got != "alice:x\n" {
				t.Errorf("file changed to %q", got)
			}
		})
	}
}

func TestSetUserDefaultCost(t *testing.T) {
	h, err := bcryptHash("pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2y$10$") {
		t.Errorf("bcryptHash(pw, 0) = %q, want $2y$10$ prefix", h)
	}
}

// No temporary files are left in the directory.
func TestSetUserLeavesNoTempFiles(t *testing.T) {
	path := writeFile(t, "")
	for _, pw := range []string{"a", "b"} {
		if err := SetUser(path, "alice", pw, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
}

func TestDeleteUser(t *testing.T) {
	const before = "# c\nalice:x\nbob:y\n  alice:z\nno colon\n"
	tests := []struct {
		name, user string
		found      bool
		after      string
	}{
		{"all lines of the user", "alice", true, "# c\nbob:y\nno colon\n"},
		{"other user", "bob", true, "# c\nalice:x\n  alice:z\nno colon\n"},
		{"absent user", "carol", false, before},
		{"comment is not a user", "# c", false, before},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, before)
			found, err := DeleteUser(path, tc.user)
			if tc.user == "# c" {
				if !errors.Is(err, ErrInvalidUsername) {
					t.Errorf("DeleteUser(%q) = %v, want ErrInvalidUsername", tc.user, err)
				}
			} else if err != nil || found != tc.found {
				t.Errorf("DeleteUser(%q) = %v, %v; want %v, nil", tc.user, found, err, tc.found)
			}
			if got := readFile(t, path); got != tc.after {
				t.Errorf("content = %q, want %q", got, tc.after)
			}
		})
	}
}

func TestDeleteUserMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing")
	found, err := DeleteUser(path, "alice")
	if found || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteUser on missing file = %v, %v; want false, ErrNotExist", found, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteUser created the file")
	}
}

// SetUser then DeleteUser through a live backend.
func TestSetDeleteRoundTrip(t *testing.T) {
	path := writeFile(t, "# admins\n")
	b := openReloading(t, path, 0)
	mustAuth(t, b, "alice", "pw1", false)
	if err := SetUser(path, "alice", "pw1", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "pw1", true)
	if err := SetUser(path, "alice", "pw2", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, "alice", "pw1", false)
	mustAuth(t, b, "alice", "pw2", true)
	if found, err := DeleteUser(path, "alice"); !found || err != nil {
		t.Fatalf("DeleteUser = %v, %v", found, err)
	}
	mustAuth(t, b, "alice", "pw2", false)
	if got := readFile(t, path); got != "# admins\n" {
		t.Errorf("content = %q, want the comment only", got)
	}
}
