//go:build pam

package main_test

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam/pamtest"
)

// TestMain (e2e_test.go) builds the binary with a plain `go build`, which
// does not inherit this test binary's build tags. GOFLAGS does reach it, so
// add -tags=pam there before TestMain runs: the binary then has the real
// pam backend, not the stub. TestPAMLoginOverHTTP checks that it worked.
func init() {
	flags := strings.Fields(os.Getenv("GOFLAGS"))
	i := slices.IndexFunc(flags, func(f string) bool { return strings.HasPrefix(f, "-tags=") })
	if i >= 0 {
		flags[i] += ",pam"
	} else {
		flags = append(flags, "-tags=pam")
	}
	os.Setenv("GOFLAGS", strings.Join(flags, " "))
}

// TestPAMLoginOverHTTP logs a real host account in through pam_unix, with
// `backend: pam`, and checks that a locked account and a wrong password
// get 401.
func TestPAMLoginOverHTTP(t *testing.T) {
	requirePAMBinary(t)
	pamtest.RequireHostAccounts(t)
	pamtest.ModuleDir(t, "pam_unix.so")

	const password = "Host-Password-42"
	user := pamtest.NewUser(t, password)
	locked := pamtest.NewUser(t, password)
	pamtest.Lock(t, locked)

	dir := t.TempDir()
	confDir := pamtest.ConfDir(t, map[string]string{
		"gatehouse": "auth required pam_unix.so\naccount required pam_unix.so\n",
	})
	cfg := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  backend: pam\n  backend_kwargs: {service: gatehouse, confdir: %s}\n"+
		"database:\n  url: sqlite:%s/db\n", confDir, dir))
	p := startGatehouse(t, dir, nil, "serve", "--config", cfg)

	if code, body := postToken(t, p.URL, user, password); code != 201 || body["user"] != user || body["token"] == "" {
		t.Fatalf("login of %s: %d %v\n%s", user, code, body, p.Stderr())
	}
	if code, body := postToken(t, p.URL, locked, password); code != 401 {
		t.Errorf("locked account: %d %v, want 401", code, body)
	}
	if code, body := postToken(t, p.URL, user, password+"!"); code != 401 {
		t.Errorf("wrong password: %d %v, want 401", code, body)
	}
	if strings.Contains(p.Stderr(), password) {
		t.Error("the password appears in the log")
	}
}

// requirePAMBinary fails unless the binary TestMain built has the pam tag.
func requirePAMBinary(t *testing.T) {
	t.Helper()
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" && slices.Contains(strings.Split(s.Value, ","), "pam") {
			return
		}
	}
	t.Fatalf("%s was built without -tags pam (settings %v): see init in pam_test.go", binary, info.Settings)
}
