package htpasswd

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

const fixture = "testdata/users.htpasswd"

// openFixture opens the shared, read-only test file.
func openFixture(t *testing.T) *Backend {
	t.Helper()
	b, err := New(Config{FilePath: fixture}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// writeFile writes content to a new file in a fresh directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustAuth asserts the outcome of one authentication.
func mustAuth(t *testing.T, b backend.Backend, user, password string, wantOK bool) {
	t.Helper()
	id, err := b.Authenticate(t.Context(), user, password)
	switch {
	case wantOK && err != nil:
		t.Errorf("Authenticate(%q, %q) = %v, want success", user, password, err)
	case wantOK && (id.Username != user || id.Groups != nil):
		t.Errorf("Authenticate(%q) identity = %+v, want {Username: %q}", user, id, user)
	case !wantOK && err != backend.ErrInvalidCredentials: // the bare sentinel, not a wrapped one
		t.Errorf("Authenticate(%q, %q) = %v, want ErrInvalidCredentials", user, password, err)
	}
}

func TestAuthenticateFormats(t *testing.T) {
	b := openFixture(t)
	users := []string{
		"st2_apr1", "st2_bcrypt_2y", "st2_sha1", "st2_des",
		"bcrypt_2y", "bcrypt_2a", "bcrypt_2b", "apr1", "md5",
		"sha256", "sha256_rounds", "sha512", "sha512_rounds", "sha512_rounds20k",
	}
	for _, user := range users {
		t.Run(user, func(t *testing.T) {
			mustAuth(t, b, user, "testpassword", true)
			mustAuth(t, b, user, "Testpassword", false)
			mustAuth(t, b, user, "wrong", false)
			mustAuth(t, b, user, "", false)
		})
	}
}

func TestAuthenticateSpecialPasswords(t *testing.T) {
	tests := []struct {
		name, user, password string
		want                 bool
	}{
		{"colon in password, sha512", "colon_sha512", "pass:word", true},
		{"colon in password, bcrypt", "colon_bcrypt", "pass:word", true},
		{"colon, only the part before", "colon_bcrypt", "pass", false},
		{"spaces kept", "spaced", " spaced pw ", true},
		{"spaces not trimmed", "spaced", "spaced pw", false},
		{"later duplicate wins", "dup", "second", true},
		{"earlier duplicate lost", "dup", "testpassword", false},
		{"DES uses 8 bytes", "st2_des", "testpassXYZ", true},
		{"DES 7 bytes", "st2_des", "testpas", false},
		{"trailing space counts", "sha512", "testpassword ", false},
		{"DES ignores the 13th byte", "st2_des", "testpassword ", true},
		{"user is case sensitive", "SHA512", "testpassword", false},
	}
	b := openFixture(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustAuth(t, b, tc.user, tc.password, tc.want)
		})
	}
}

func TestAuthenticateNeverMatches(t *testing.T) {
	tests := []struct {
		name, user, password string
	}{
		{"plaintext entry, its text", "plaintext", "testpassword"},
		{"DES-shaped plaintext", "plain_des_shaped", "testpasswor12"},
		{"DES-shaped plaintext, fixture password", "plain_des_shaped", "testpassword"},
		{"yescrypt unsupported", "yescrypt", "testpassword"},
		{"bcrypt one char short", "bcrypt_truncated", "testpassword"},
		{"bcrypt trailing garbage", "bcrypt_trailing", "testpassword"},
		{"bcrypt $2x$", "bcrypt_2x", "testpassword"},
		{"hash with extra field", "extra_field", "testpassword"},
		{"empty hash, empty password", "empty_hash", ""},
		{"empty hash", "empty_hash", "testpassword"},
		{"bad {SHA}", "sha1_bad", "testpassword"},
		{"commented out", "#commented", "testpassword"},
		{"commented out, trimmed", "# indented comment", "testpassword"},
		{"empty user", "", "testpassword"},
		{"no-colon line", "this line has no colon and is skipped", ""},
	}
	b := openFixture(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustAuth(t, b, tc.user, tc.password, false)
		})
	}
}

func TestAuthenticateUnknownUserSameError(t *testing.T) {
	b := openFixture(t)
	_, errUnknown := b.Authenticate(t.Context(), "nobody", "testpassword")
	_, errWrong := b.Authenticate(t.Context(), "bcrypt_2y", "wrong")
	_, errEmpty := b.Authenticate(t.Context(), "bcrypt_2y", "")
	_, errPlain := b.Authenticate(t.Context(), "plaintext", "testpassword")
	for name, err := range map[string]error{"wrong": errWrong, "empty": errEmpty, "unusable": errPlain} {
		if err != errUnknown || err.Error() != errUnknown.Error() { // the very same value
			t.Errorf("%s password: %v; unknown user: %v; want the same error", name, err, errUnknown)
		}
	}
	if !errors.Is(errUnknown, backend.ErrInvalidCredentials) {
		t.Errorf("unknown user: %v, want ErrInvalidCredentials", errUnknown)
	}
}

// bcrypt reads only 72 bytes. A hash written by a truncating tool for an
// 80-byte password must not accept it, even though the first 72 match.
func TestAuthenticateBcryptOver72Bytes(t *testing.T) {
	long := strings.Repeat("a", 80)
	if err := bcrypt.CompareHashAndPassword(hashOf(t, "bcrypt_72"), []byte(long)); err != nil {
		t.Logf("x/crypto now refuses long passwords itself (%v); the length check stays", err)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"72 bytes", strings.Repeat("a", 72), true},
		{"73 bytes", strings.Repeat("a", 73), false},
		{"80 bytes", long, false},
		{"71 bytes", strings.Repeat("a", 71), false},
	}
	b := openFixture(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustAuth(t, b, "bcrypt_72", tc.password, tc.want)
		})
	}
}

// x/crypto accepts these malformed hashes; parseBcrypt must not.
func TestBcryptLibraryLaxness(t *testing.T) {
	for _, user := range []string{"bcrypt_trailing", "bcrypt_2x"} {
		t.Run(user, func(t *testing.T) {
			if err := bcrypt.CompareHashAndPassword(hashOf(t, user), []byte("testpassword")); err != nil {
				t.Logf("x/crypto refuses %s now (%v); parseBcrypt's check stays", user, err)
			}
			b := openFixture(t)
			mustAuth(t, b, user, "testpassword", false)
		})
	}
}

// hashOf returns the raw hash of user in the fixture.
func hashOf(t *testing.T, user string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if u, h, ok := ParseLine(line); ok && u == user {
			return []byte(h)
		}
	}
	t.Fatalf("no user %q in %s", user, fixture)
	return nil
}

func TestAuthenticateCancelledContext(t *testing.T) {
	b := openFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.Authenticate(ctx, "bcrypt_2y", "testpassword")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate with cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		kwargs  map[string]any
		wantErr string // substring; "" means success
	}{
		{"ok", map[string]any{"file_path": fixture}, ""},
		{"missing file_path", map[string]any{}, "file_path"},
		{"nil kwargs", nil, "file_path"},
		{"empty file_path", map[string]any{"file_path": ""}, "file_path"},
		{"unknown kwarg", map[string]any{"file_path": fixture, "fiel_path": "x"}, "fiel_path"},
		{"wrong type", map[string]any{"file_path": 42}, "file_path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Factory(tc.kwargs, nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Factory: %v", err)
				}
				mustAuth(t, b, "apr1", "testpassword", true)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Factory error = %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	reg := backend.NewRegistry()
	reg.Register(Name, Factory)
	b, err := reg.Open("flat_file", map[string]any{"file_path": fixture}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustAuth(t, b, "st2_des", "testpassword", true)
}

// A file missing at start is not New's error: logins fail closed with
// ErrUnavailable, Ready says what is wrong (nothing else is logged, so the
// start-up log has one line about it), and the file is picked up once it
// exists.
func TestNewMissingFile(t *testing.T) {
	var buf bytes.Buffer
	path := filepath.Join(t.TempDir(), "missing")
	b, err := New(Config{FilePath: path}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatalf("New on missing file: %v", err)
	}
	b.checkInterval = 0
	if _, err := b.Authenticate(t.Context(), "alice", "testpassword"); !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Authenticate = %v, want ErrUnavailable and ErrNotExist", err)
	}
	want := "htpasswd file " + path + " does not exist (create it with: gatehouse htpasswd set USER --file " + path + ")"
	if err := b.Ready(t.Context()); err == nil || err.Error() != want {
		t.Errorf("Ready = %v, want %q", err, want)
	}
	if buf.Len() != 0 {
		t.Errorf("New or Ready logged:\n%s", buf.String())
	}
	if err := os.WriteFile(path, []byte("alice:"+sha1Test+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(t.Context()); err != nil {
		t.Errorf("Ready once the file exists: %v", err)
	}
	mustAuth(t, b, "alice", "testpassword", true)
}

// Loading, reloading, failing and authenticating must not log secrets.
func TestLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const hash = "{SHA}i7YRj4/Wk1rQh2o740pxfTJwj/0="
	path := writeFile(t, "alice:"+hash+"\nbob:plain-secret\n")
	b, err := New(Config{FilePath: path}, log)
	if err != nil {
		t.Fatal(err)
	}
	b.checkInterval = 0
	mustAuth(t, b, "alice", "testpassword", true)
	mustAuth(t, b, "alice", "wrong-secret", false)
	mustAuth(t, b, "nobody", "wrong-secret", false)
	os.Remove(path)
	if _, err := b.Authenticate(t.Context(), "alice", "testpassword"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("after removal: %v, want ErrUnavailable", err)
	}
	out := buf.String()
	for _, secret := range []string{"testpassword", "wrong-secret", "plain-secret", "i7YRj4"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"htpasswd file loaded", "never match", "lines=[2]", "refusing all logins"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
