package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCLIOutputFormats (issue 17, item 7): -j, -y and -a on the read
// commands, as st2 prints.
func TestCLIOutputFormats(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)
	u.ok("", "login", "admin", "-p", password)
	var k struct{ ID string }
	if err := json.Unmarshal([]byte(u.ok("", "apikey", "create", "-j", "-m", `{"used_by": "ci"}`)), &k); err != nil {
		t.Fatal(err)
	}
	u.ok("", "apikey", "create", "-u", "bob")

	table := u.ok("", "apikey", "list", "-a", "id", "-a", "user")
	if !regexp.MustCompile(`^ID +USER\n[0-9a-f]{24} +admin\n[0-9a-f]{24} +bob\n$`).MatchString(table) {
		t.Fatalf("list -a id -a user:\n%s", table)
	}
	out := u.ok("", "apikey", "list", "-a", "id,enabled", "-j")
	if !regexp.MustCompile(`^\[\s*\{\s*"id": "[0-9a-f]{24}",\s*"enabled": true\s*\},\s*\{\s*"id"`).MatchString(out) {
		t.Fatalf("list -a id,enabled -j (attributes in the order asked):\n%s", out)
	}
	var keys []map[string]any
	if err := yaml.Unmarshal([]byte(u.ok("", "apikey", "list", "-y")), &keys); err != nil || len(keys) != 2 ||
		keys[0]["key_hash"] != "********" || keys[0]["enabled"] != true || keys[0]["metadata"].(map[string]any)["used_by"] != "ci" {
		t.Fatalf("list -y: %v %v", err, keys)
	}
	if out := u.ok("", "apikey", "get", k.ID, "-y", "-a", "metadata.used_by"); out != "metadata.used_by: ci\n" {
		t.Fatalf("get -y -a metadata.used_by: %q", out)
	}
	if out := u.ok("", "apikey", "get", k.ID, "-a", "user", "-a", "enabled"); out != "user     admin\nenabled  true\n" {
		t.Fatalf("get -a: %q", out)
	}
	u.fails(`no attribute "nosuch"; attributes: id, uid, user, key_hash, metadata, created_at, enabled.*`, "", "apikey", "get", k.ID, "-a", "nosuch")
	u.fails(`if any flags in the group \[json yaml\] are set none of the others can be; .*`, "", "apikey", "list", "-j", "-y")

	// whoami, as rows, JSON and YAML.
	out = u.ok("", "whoami")
	for _, want := range []string{`(?m)^username +admin$`, `(?m)^credential +authentication token \(header\)$`,
		`(?m)^expires +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$`, `(?m)^server +` + regexp.QuoteMeta(p.URL) + `$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("whoami lacks %s:\n%s", want, out)
		}
	}
	var me struct {
		Username       string
		Authentication struct{ Method string }
	}
	if err := json.Unmarshal([]byte(u.ok("", "whoami", "-j")), &me); err != nil || me.Username != "admin" || me.Authentication.Method != "authentication token" {
		t.Fatalf("whoami -j: %v %+v", err, me)
	}
	if err := yaml.Unmarshal([]byte(u.ok("", "whoami", "-y")), &me); err != nil || me.Username != "admin" {
		t.Fatalf("whoami -y: %v %+v", err, me)
	}
	if out := u.ok("", "whoami", "-a", "authentication.method"); out != "authentication.method  authentication token\n" {
		t.Fatalf("whoami -a: %q", out)
	}
}

// TestCLIToken (issue 17, item 7): token introspect and token revoke with
// the caller's credential, the token as an argument or on stdin.
func TestCLIToken(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)
	u.ok("", "login", "admin", "-p", password)
	other := postTokenValue(t, p.URL, "admin", password)
	key := strings.TrimSpace(u.ok("", "apikey", "create", "-k"))

	out := u.ok("", "token", "introspect", other)
	for _, want := range []string{`(?m)^active +true$`, `(?m)^username +admin$`, `(?m)^token_type +access_token$`,
		`(?m)^exp +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("introspect lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, other) {
		t.Error("introspect printed the token")
	}
	if out := u.ok(key+"\n", "token", "introspect", "-", "-a", "active,token_type"); out != "active      true\ntoken_type  api_key\n" {
		t.Fatalf("introspect - -a: %q", out)
	}
	if out := u.ok("", "token", "introspect", "no-such-token", "-j"); out != "{\n  \"active\": false\n}\n" {
		t.Fatalf("introspect unknown -j: %q", out)
	}

	u.ok(other+"\n", "token", "revoke", "-")
	if code, _ := whoami(t, p.URL, "X-Auth-Token", other); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	u.ok("", "token", "revoke", key)
	if code, msg := whoami(t, p.URL, "St2-Api-Key", key); code != 401 || msg != "Unauthorized - API key is disabled." {
		t.Fatalf("revoked key: %d %s", code, msg)
	}
	u.fails(`missing token: stdin was empty; usage: gatehouse token revoke ID\|TOKEN \[flags\]`, "", "token", "revoke", "-")
}

func postTokenValue(t *testing.T, url, user, password string) string {
	t.Helper()
	code, body := postToken(t, url, user, password)
	tok, _ := body["token"].(string)
	if code != 201 || tok == "" {
		t.Fatalf("POST /auth/v1/tokens: %d %v", code, body)
	}
	return tok
}

// TestCLIHtpasswdList (issue 17, item 7): the user names of the flat
// file, never the hashes.
func TestCLIHtpasswdList(t *testing.T) {
	t.Parallel()
	u := newCLIUser(t, "")
	file := filepath.Join(t.TempDir(), "users")
	for _, name := range []string{"alice", "bob"} {
		u.ok(name+"-password\n", "htpasswd", "set", name, "--file", file, "--cost", "4")
	}
	writeFile(t, file, "# people\n"+readFile(t, file)+"\nalice:$apr1$x$y\n")
	out := u.ok("", "htpasswd", "list", "--file", file)
	if out != "alice\nbob\n" {
		t.Fatalf("list: %q", out)
	}
	js := u.ok("", "htpasswd", "list", "--file", file, "-j")
	if strings.Contains(js, "$") || !strings.Contains(js, `"user": "bob"`) {
		t.Fatalf("list -j: %s", js)
	}
	if out := u.ok("", "htpasswd", "list", "--file", file, "-y"); out != "- user: alice\n- user: bob\n" {
		t.Fatalf("list -y: %q", out)
	}
	u.fails(`htpasswd: open .*nosuch: no such file or directory`, "", "htpasswd", "list", "--file", filepath.Join(t.TempDir(), "nosuch"))
}

// TestCLIUsageErrors (issue 17, item 7): a missing argument is named.
func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	u := newCLIUser(t, "http://127.0.0.1:"+closedPort(t))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"apikey", "get"}, `missing API key id or key; usage: gatehouse apikey get ID_OR_KEY \[flags\]`},
		{[]string{"apikey", "enable"}, `missing API key id or key; usage: gatehouse apikey enable ID_OR_KEY \[flags\]`},
		{[]string{"apikey", "disable"}, `missing API key id or key; .*`},
		{[]string{"apikey", "delete"}, `missing API key id or key; .*`},
		{[]string{"apikey", "import"}, `missing file to import \("-": stdin\); usage: gatehouse apikey import FILE \[flags\]`},
		{[]string{"token", "introspect"}, `missing token or API key \("-": read it from stdin\); usage: gatehouse token introspect TOKEN \[flags\]`},
		{[]string{"token", "revoke"}, `missing token or API key \("-": read it from stdin\); .*`},
		{[]string{"htpasswd", "set"}, `missing user name; usage: gatehouse htpasswd set USER \[flags\]`},
		{[]string{"htpasswd", "delete"}, `missing user name; .*`},
		{[]string{"login"}, `missing user name; usage: gatehouse login \[USER\] \[flags\]`},
		{[]string{"apikey", "get", "a", "b"}, `unexpected argument "b"; usage: gatehouse apikey get ID_OR_KEY \[flags\]`},
		{[]string{"logout", "a", "b"}, `unexpected argument "b" after USER; .*`},
	} {
		u.fails(tc.want, "", tc.args...)
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	flag, err1 := exec.Command(binary, "--version").CombinedOutput()
	cmd, err2 := exec.Command(binary, "version").CombinedOutput()
	if err1 != nil || err2 != nil || string(flag) != string(cmd) || !strings.HasPrefix(string(flag), "gatehouse ") {
		t.Fatalf("--version %q (%v), version %q (%v)", flag, err1, cmd, err2)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
