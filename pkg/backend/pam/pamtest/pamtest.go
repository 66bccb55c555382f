package pamtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/GehirnInc/crypt"
	_ "github.com/GehirnInc/crypt/sha512_crypt" // registers crypt.SHA512
	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
)

// Environment variables read by this package.
const (
	// EnvEnable must be "1" for tests that create host accounts.
	EnvEnable = "GATEHOUSE_TEST_PAM"
	// EnvModuleDir names the directory holding the PAM modules; when it is
	// unset the usual directories are searched.
	EnvModuleDir = "GATEHOUSE_TEST_PAM_MODULE_DIR"
)

// UserPrefix starts the name of every account NewUser creates.
const UserPrefix = "gh-pam-"

// moduleDirs are searched, in order, for PAM modules.
var moduleDirs = []string{
	"/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security",
	"/lib/aarch64-linux-gnu/security", "/usr/lib/aarch64-linux-gnu/security",
	"/usr/lib64/security", "/lib64/security", "/usr/lib/security", "/lib/security",
}

// Skip skips tb, or fails it when GATEHOUSE_REQUIRE_INTEGRATION=1.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	integration.Unavailable(tb, "%s (scripts/pam-up.sh prepares the PAM tests)", why)
}

// ModuleDir returns the directory holding the named modules (file names
// such as "pam_pwdfile.so"), or skips tb if none holds them all.
func ModuleDir(tb testing.TB, modules ...string) string {
	tb.Helper()
	dir, searched := FindModuleDir(modules...)
	if dir == "" {
		Skip(tb, fmt.Sprintf("PAM modules %v not found in %v (Debian: apt-get install libpam-modules libpam-pwdfile)", modules, searched))
	}
	return dir
}

// FindModuleDir returns the first directory holding all the named modules,
// or "" and the directories it searched.
func FindModuleDir(modules ...string) (dir string, searched []string) {
	searched = moduleDirs
	if d := os.Getenv(EnvModuleDir); d != "" {
		searched = []string{d}
	}
	for _, d := range searched {
		if hasAll(d, modules) {
			return d, searched
		}
	}
	return "", searched
}

func hasAll(dir string, modules []string) bool {
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(dir, m)); err != nil {
			return false
		}
	}
	return true
}

// RequireHostAccounts skips tb unless it may create host accounts: root,
// GATEHOUSE_TEST_PAM=1 and the shadow tools (useradd, chpasswd, chage,
// passwd, userdel).
func RequireHostAccounts(tb testing.TB) {
	tb.Helper()
	switch {
	case os.Geteuid() != 0:
		Skip(tb, "PAM tests with host accounts need root")
	case os.Getenv(EnvEnable) != "1":
		Skip(tb, EnvEnable+" is not 1: not creating host accounts")
	}
	for _, tool := range []string{"useradd", "chpasswd", "chage", "passwd", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			Skip(tb, tool+" not found (Debian: apt-get install passwd)")
		}
	}
}

// ConfDir writes one file per service, named after its key, into a new
// directory and returns it, for the backend's confdir option.
func ConfDir(tb testing.TB, services map[string]string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "pam.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for name, text := range services {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// PwdFile writes a pam_pwdfile password file with a SHA-512-crypt hash of
// each user's password and returns its path. An empty password writes an
// empty hash field ("user:"), which pam_pwdfile accepts with any password
// unless PAM_DISALLOW_NULL_AUTHTOK is set.
func PwdFile(tb testing.TB, users map[string]string) string {
	tb.Helper()
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, u := range names {
		hash := ""
		if users[u] != "" {
			hash = Hash(tb, users[u])
		}
		fmt.Fprintf(&b, "%s:%s\n", u, hash)
	}
	path := filepath.Join(tb.TempDir(), "pwdfile")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Hash returns a SHA-512-crypt ("$6$") hash of password, which
// libxcrypt's crypt_r, and so pam_pwdfile and pam_unix, understand.
func Hash(tb testing.TB, password string) string {
	tb.Helper()
	h, err := crypt.SHA512.New().Generate([]byte(password), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// accounts serialises the shadow tools, which lock /etc/passwd and fail
// rather than wait when another one holds the lock.
var accounts sync.Mutex

// NewUser creates a host account (no home, no login shell) named
// UserPrefix plus random hex, sets its password, and deletes it when tb's
// cleanup runs. Call RequireHostAccounts first.
func NewUser(tb testing.TB, password string) string {
	tb.Helper()
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatal(err)
	}
	name := UserPrefix + hex.EncodeToString(rnd[:])
	Run(tb, "", "useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name)
	tb.Cleanup(func() {
		accounts.Lock()
		defer accounts.Unlock()
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			tb.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	Run(tb, name+":"+password+"\n", "chpasswd")
	return name
}

// Run runs a shadow tool with stdin and fails tb if it fails.
func Run(tb testing.TB, stdin, name string, args ...string) {
	tb.Helper()
	accounts.Lock()
	defer accounts.Unlock()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Expire sets the account's expiry date in the past (chage -E 0).
func Expire(tb testing.TB, user string) { tb.Helper(); Run(tb, "", "chage", "-E", "0", user) }

// Lock locks the account's password (passwd -l).
func Lock(tb testing.TB, user string) { tb.Helper(); Run(tb, "", "passwd", "-l", user) }

// MustChange forces a password change at next login (chage -d 0).
func MustChange(tb testing.TB, user string) { tb.Helper(); Run(tb, "", "chage", "-d", "0", user) }

// Threads returns the number of OS threads of this process, from
// /proc/self/status.
func Threads() (int, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			var n int
			_, err := fmt.Sscan(strings.TrimSpace(v), &n)
			return n, err
		}
	}
	return 0, errors.New("no Threads: line in /proc/self/status")
}
