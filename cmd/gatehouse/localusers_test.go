package main_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // to read a stored hash
)

// The local-user rules of DESIGN.md ("Local users and backend chains"),
// each proved through the real binary and its CLI.

// localServer starts `gatehouse serve` with backend local and nothing
// else configured, as `GATEHOUSE_AUTH_BACKEND=local make run` does, and
// logs an admin CLI user in with the first-run password it prints.
func localServer(t *testing.T) (*process, *cliUser) {
	t.Helper()
	p, password := cliServerEnv(t, []string{"GATEHOUSE_AUTH_BACKEND=local"})
	if !strings.Contains(p.Stderr(), `First run: created the local user "admin"`) {
		t.Fatalf("no first-run local admin:\n%s", p.Stderr())
	}
	admin := newCLIUser(t, p.URL)
	admin.ok(password+"\n", "login", "admin")
	return p, admin
}

// tokenWorks reports whether GET /auth/v1/me accepts tok.
func tokenWorks(t *testing.T, p *process, tok string) bool {
	t.Helper()
	code, _ := whoami(t, p.URL, "X-Auth-Token", tok)
	return code == http.StatusOK
}

// TestCLIMustChangePassword: a user added with --must-change-password
// cannot log in until `gatehouse passwd` has changed the password (the
// CLI says so); a change with the current password revokes every token
// of the user, a change with a token every other token; the admin's reset
// with --must-change-password starts it again.
func TestCLIMustChangePassword(t *testing.T) {
	t.Parallel()
	p, admin := localServer(t)
	var added map[string]any
	if err := json.Unmarshal([]byte(admin.ok("bob-first-password\n", "user", "add", "bob", "--must-change-password", "-j")), &added); err != nil ||
		added["must_change_password"] != true || added["active"] != true {
		t.Fatalf("user add: %v %v", err, added)
	}
	bob := newCLIUser(t, p.URL)
	bob.fails(`login failed: password change required; run: gatehouse passwd bob`, "bob-first-password\n", "login", "bob")
	if code, body := postToken(t, p.URL, "bob", "bob-first-password"); code != http.StatusForbidden || body["faultstring"] != "Password change required." {
		t.Fatalf("POST /auth/v1/tokens for bob: %d %v", code, body)
	}

	// Wrong current password, then a new one the policy refuses.
	bob.fails(`password not changed: Invalid or missing credentials`, "wrong-password\nbob-second-password\n", "passwd", "bob")
	bob.fails(`password not changed: Password refused: it must be at least 8 characters long\.`, "bob-first-password\nshort\n", "passwd", "bob")
	bob.fails(`no new password: give it as a line on stdin, or run on a terminal`, "bob-first-password\n", "passwd", "bob")
	out := bob.ok("bob-first-password\nbob-second-password\n", "passwd", "bob")
	if out != "Password changed for bob. Every token of bob was revoked; log in again with: gatehouse login bob\n" {
		t.Fatalf("passwd: %q", out)
	}
	bob.fails(`login failed: Invalid or missing credentials`, "bob-first-password\n", "login", "bob")
	bob.ok("bob-second-password\n", "login", "bob")
	cached := bob.cached("bob").Token
	_, body := postToken(t, p.URL, "bob", "bob-second-password")
	other, _ := body["token"].(string)

	// The admin resets the password and makes bob change it again.
	admin.ok("bob-reset-password\n", "user", "set-password", "bob", "--must-change-password")
	if code, body := postToken(t, p.URL, "bob", "bob-reset-password"); code != http.StatusForbidden {
		t.Fatalf("bob after the reset: %d %v", code, body)
	}
	// passwd with bob's cached token (bob is the current user): only the
	// new password is read; the other token is revoked, this one kept.
	out = bob.ok("bob-third-password\n", "passwd")
	if out != "Password changed for bob. Your other tokens were revoked; this login's token still works.\n" {
		t.Fatalf("passwd with a token: %q", out)
	}
	if tokenWorks(t, p, other) || !tokenWorks(t, p, cached) {
		t.Fatalf("after passwd with a token: other token works %v, cached token works %v", tokenWorks(t, p, other), tokenWorks(t, p, cached))
	}
	if code, body := postToken(t, p.URL, "bob", "bob-third-password"); code != http.StatusCreated {
		t.Fatalf("bob after passwd: %d %v", code, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(bob.ok("", "user", "get", "bob", "-j")), &got); err != nil || got["must_change_password"] != false {
		t.Fatalf("user get bob: %v %v", err, got)
	}

	// With the current password (-p): every token goes, the cached one too.
	bob.ok("bob-fourth-password\n", "passwd", "bob", "-p", "bob-third-password")
	if tokenWorks(t, p, cached) {
		t.Fatal("the cached token still works after passwd with the current password")
	}
	if _, err := os.Stat(bob.cacheFile("bob")); err == nil {
		t.Fatal("passwd left a revoked token in the cache")
	}
	bob.ok("bob-fourth-password\n", "login", "bob")
	checkNoSecrets(t, p.Stderr(), "bob-first-password", "bob-second-password", "bob-reset-password", "bob-third-password", "bob-fourth-password")
}

// checkNoSecrets fails if text holds any of secrets or a password hash.
func checkNoSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, "$argon2id$", "$2y$", "$2a$", "$2b$", "$apr1$") {
		if strings.Contains(text, s) {
			t.Errorf("%q appears in:\n%s", s, text)
		}
	}
}

// TestCLIImportHtpasswd moves the bcrypt users of a file made with
// `gatehouse htpasswd set` into the local store; they log in with their
// old passwords, which are re-hashed with argon2id at the first login.
// Other schemes are skipped, existing users left alone, and only admins
// may import.
func TestCLIImportHtpasswd(t *testing.T) {
	t.Parallel()
	p, admin := localServer(t)
	file := filepath.Join(t.TempDir(), "htpasswd")
	htpasswdCLI(t, file, "carol-password\n", "set", "carol")
	htpasswdCLI(t, file, "dave-file-password\n", "set", "dave")
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// erin's hash is apr1 (htpasswd -m), frank's plain text.
	f.WriteString("erin:$apr1$W3nxcvQ5$Jw0SbXVOsW3nlfGL7FFh61\nfrank:frank-password\n")
	f.Close()
	admin.ok("dave-local-password\n", "user", "add", "dave")

	r := admin.run("", nil, "user", "import-htpasswd", file)
	want := []string{
		"imported  carol",
		"exists    dave: already a local user (409), left unchanged",
		"skipped   erin: unsupported hash scheme (apr1, Apache MD5); only bcrypt can be imported",
		"skipped   frank: unsupported hash scheme (plain text or unknown); only bcrypt can be imported",
		"1 imported, 1 already existed, 2 skipped, 0 failed.",
	}
	if r.code != 1 || r.stdout != strings.Join(want, "\n")+"\n" || r.stderr != "gatehouse: 2 of 4 users could not be imported\n" {
		t.Fatalf("import: exit %d\nstdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	checkNoSecrets(t, r.stdout+r.stderr)

	// carol logs in with her old password, twice: bcrypt, then argon2id.
	if hash := storedHash(t, p, "carol"); !strings.HasPrefix(hash, "$2") {
		t.Fatalf("carol's imported hash is not bcrypt: %.4s…", hash)
	}
	carol := newCLIUser(t, p.URL)
	carol.ok("carol-password\n", "login", "carol")
	if hash := storedHash(t, p, "carol"); !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("carol's hash after a good login is not argon2id: %.10s…", hash)
	}
	carol.ok("carol-password\n", "login", "carol", "--force")
	out := carol.ok("", "user", "get", "carol", "-j")
	if strings.Contains(out, "hash") || strings.Contains(out, "$") {
		t.Fatalf("user get shows a hash: %s", out)
	}
	// dave keeps the local password; the file's was not imported.
	if code, _ := postToken(t, p.URL, "dave", "dave-file-password"); code != http.StatusUnauthorized {
		t.Fatalf("dave with the file's password: %d", code)
	}
	if code, _ := postToken(t, p.URL, "dave", "dave-local-password"); code != http.StatusCreated {
		t.Fatalf("dave with the local password: %d", code)
	}

	// Again, from stdin, with only bcrypt entries: nothing fails.
	htpasswdCLI(t, file, "grace-password\n", "set", "grace")
	htpasswdCLI(t, file, "", "delete", "erin")
	htpasswdCLI(t, file, "", "delete", "frank")
	data, _ := os.ReadFile(file)
	if out := admin.ok(string(data), "user", "import-htpasswd", "-"); !strings.HasSuffix(out, "1 imported, 2 already existed, 0 skipped, 0 failed.\n") {
		t.Fatalf("second import:\n%s", out)
	}
	if code, _ := postToken(t, p.URL, "grace", "grace-password"); code != http.StatusCreated {
		t.Fatalf("grace: %d", code)
	}
	// Only admins import.
	carol.fails(regexp.QuoteMeta("Only admins may manage local users."), "", "user", "import-htpasswd", file)
}

// storedHash reads name's password hash from the server's SQLite file.
func storedHash(t *testing.T, p *process, name string) string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(p.cmd.Dir, "data", "gatehouse.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hash string
	if err := db.QueryRowContext(t.Context(), "SELECT password_hash FROM users WHERE name = ?", name).Scan(&hash); err != nil {
		t.Fatalf("reading %s's hash: %v", name, err)
	}
	return hash
}
