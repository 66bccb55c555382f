package main_test

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// st2's API key test vector (st2tests fixture apikey1.yaml).
const (
	st2Key     = "1234"
	st2KeyHash = "ec81d4a56f5987b0ae1cff6e152459986e873d6604637fc70d85c0a0daf131b0a830ccd5b6454cc0c95c0ba6e6655933c993325eb3a28bc43af6c1d801a7c1e8"
)

// cliServer starts `gatehouse serve` with no configuration, as a first run,
// and returns it with the password of its admin user.
func cliServer(t *testing.T) (*process, string) {
	t.Helper()
	return cliServerEnv(t, nil)
}

// cliServerEnv is cliServer with extra environment for the server.
func cliServerEnv(t *testing.T, env []string) (*process, string) {
	t.Helper()
	p := startGatehouse(t, t.TempDir(), env, "serve", "--port", "0")
	m := firstRunRe.FindStringSubmatch(p.Stderr())
	if m == nil {
		t.Fatalf("no first-run password on stderr:\n%s", p.Stderr())
	}
	return p, m[1]
}

// cliUser is a person running the CLI: their own home and configuration
// directory, and a server URL in GATEHOUSE_URL.
type cliUser struct {
	t      *testing.T
	home   string
	config string // XDG_CONFIG_HOME
	url    string // the server the cache files are looked up for
	env    []string
}

// newCLIUser is a user with GATEHOUSE_URL set to url; with url "" it is
// not set.
func newCLIUser(t *testing.T, url string) *cliUser {
	home := t.TempDir()
	u := &cliUser{t: t, home: home, config: filepath.Join(home, ".config"), url: url}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") && !strings.HasPrefix(kv, "ST2_") &&
			!strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			u.env = append(u.env, kv)
		}
	}
	u.env = append(u.env, "HOME="+home, "XDG_CONFIG_HOME="+u.config)
	if url != "" {
		u.env = append(u.env, "GATEHOUSE_URL="+url)
	}
	return u
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// run runs the gatehouse binary with stdin and extra environment.
func (u *cliUser) run(stdin string, env []string, args ...string) cliResult {
	u.t.Helper()
	cmd := exec.CommandContext(u.t.Context(), binary, args...)
	cmd.Env = append(append([]string{}, u.env...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("gatehouse %v: %v", args, err)
	}
	return r
}

// ok runs a command that must succeed and returns its stdout.
func (u *cliUser) ok(stdin string, args ...string) string {
	u.t.Helper()
	r := u.run(stdin, nil, args...)
	if r.code != 0 {
		u.t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with exit code 1 and exactly one
// line on stderr, "gatehouse: " followed by text matching want, and no
// output; it returns that line.
func (u *cliUser) fails(want, stdin string, args ...string) string {
	u.t.Helper()
	r := u.run(stdin, nil, args...)
	line := strings.TrimSuffix(r.stderr, "\n")
	if r.code != 1 || strings.Contains(line, "\n") || !regexp.MustCompile(`^gatehouse: `+want+`$`).MatchString(line) {
		u.t.Fatalf("gatehouse %s: exit %d, want 1 and one stderr line matching %q\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return line
}

// cacheFile is where user's token from u.url is cached.
func (u *cliUser) cacheFile(user string) string {
	return u.serverCacheFile(u.url, user)
}

// serverCacheFile is where user's token from server is cached:
// servers/SERVER/token-USER, each with bytes outside [A-Za-z0-9._@+-]
// written %XX.
func (u *cliUser) serverCacheFile(server, user string) string {
	return filepath.Join(u.config, "gatehouse", "servers", escapeName(server), "token-"+escapeName(user))
}

func escapeName(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._@+-", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type cachedToken struct {
	Token           string `json:"token"`
	ExpireTimestamp int64  `json:"expire_timestamp"`
	Expiry          string `json:"expiry"`
	User            string `json:"user"`
	URL             string `json:"url"`
}

func (u *cliUser) cached(user string) cachedToken {
	u.t.Helper()
	data, err := os.ReadFile(u.cacheFile(user))
	if err != nil {
		u.t.Fatal(err)
	}
	var c cachedToken
	if err := json.Unmarshal(data, &c); err != nil || c.Token == "" {
		u.t.Fatalf("cache file: %v %s", err, data)
	}
	return c
}

// whoami calls GET /auth/v1/me with one credential header.
func whoami(t *testing.T, url, header, value string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/auth/v1/me", nil)
	req.Header.Set(header, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Username    string `json:"username"`
		Faultstring string `json:"faultstring"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, body.Username
	}
	return resp.StatusCode, body.Faultstring
}

func TestCLILogin(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)

	line := u.fails(`login failed: Invalid or missing credentials`, "wrong-password\n", "login", "admin")
	if strings.Contains(line, "wrong-password") {
		t.Fatal("the password was printed")
	}
	if _, err := os.Stat(u.cacheFile("admin")); err == nil {
		t.Fatal("a failed login left a cache file")
	}
	u.fails(`not logged in; run: gatehouse login USER .*`, "", "apikey", "list")

	// The password from stdin, as from a pipe.
	r := u.run(password+"\n", nil, "login", "admin")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Logged in as admin; the token expires at ") {
		t.Fatalf("login: %+v", r)
	}
	fi, err := os.Stat(u.cacheFile("admin"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", fi, err)
	}
	if di, err := os.Stat(filepath.Dir(u.cacheFile("admin"))); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("cache directory: %v %v", di, err)
	}
	first := u.cached("admin")
	if strings.Contains(r.stdout+r.stderr, first.Token) || strings.Contains(r.stdout+r.stderr, password) {
		t.Fatal("login printed the token or the password")
	}
	exp, err := time.Parse(time.RFC3339Nano, first.Expiry)
	if err != nil || first.ExpireTimestamp != exp.Unix() || time.Until(exp) < 23*time.Hour || first.URL != p.URL {
		t.Fatalf("cache: %+v", first)
	}
	if code, who := whoami(t, p.URL, "X-Auth-Token", first.Token); code != 200 || who != "admin" {
		t.Fatalf("cached token: %d %s", code, who)
	}
	if cur, _ := os.ReadFile(filepath.Join(filepath.Dir(u.cacheFile("admin")), "current-user")); string(cur) != "admin\n" {
		t.Fatalf("current-user: %q", cur)
	}

	// A password is always checked by the server, as st2 login does, even
	// while a good token is cached: from -p, and from stdin.
	u.fails(`login failed: Invalid or missing credentials`, "", "login", "admin", "-p", "wrong-password")
	u.fails(`login failed: Invalid or missing credentials`, "wrong-password\n", "login", "admin")
	u.fails(`empty password`, "\n", "login", "admin")
	if u.cached("admin").Token != first.Token {
		t.Fatal("a failed login changed the cache")
	}
	// Only a login with no password at all (stdin empty) reuses it.
	out := u.ok("", "login", "admin")
	if !strings.HasPrefix(out, "Logged in as admin; the cached token expires at ") || u.cached("admin").Token != first.Token {
		t.Fatalf("second login did not reuse the cache: %q", out)
	}
	if tok := u.ok("", "login", "admin", "--only-token"); tok != first.Token+"\n" {
		t.Fatalf("--only-token: %q", tok)
	}
	// --force asks the server, which refuses the wrong password...
	u.fails(`login failed: Invalid or missing credentials`, "", "login", "admin", "--force", "-p", "wrong-password")
	// ...and gets a new token for the right one.
	u.ok("", "login", "admin", "--force", "-p", password)
	second := u.cached("admin")
	if second.Token == first.Token {
		t.Fatal("--force reused the cached token")
	}

	// A revoked cached token is not reused: login asks for the password.
	if code, _ := callDelete(t, p.URL+"/auth/v1/tokens/current", second.Token); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	u.fails(`the server refused your token for admin \(Unauthorized\); run: gatehouse login admin`, "", "apikey", "list")
	u.fails(`login failed: Invalid or missing credentials`, "", "login", "admin", "-p", "wrong-password")
	u.fails(`no password: pass --password, give it as one line on stdin, or run on a terminal`, "", "login", "admin")
	u.ok(password+"\n", "login", "admin")
	third := u.cached("admin")

	out = u.ok("", "logout")
	if out != "Logged out admin.\n" {
		t.Fatalf("logout: %q", out)
	}
	if _, err := os.Stat(u.cacheFile("admin")); err == nil {
		t.Fatal("logout left the cache file")
	}
	if code, msg := whoami(t, p.URL, "X-Auth-Token", third.Token); code != 401 || msg != "Unauthorized" {
		t.Fatalf("token after logout: %d %s", code, msg)
	}
	u.fails(`not logged in; run: gatehouse login USER .*`, "", "apikey", "list")
	u.fails(`not logged in to `+regexp.QuoteMeta(p.URL), "", "logout")
}

func callDelete(t *testing.T, url, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "DELETE", url, nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCLIExpiredToken(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)
	u.ok(password+"\n", "login", "admin", "--ttl", "1")
	time.Sleep(2 * time.Second)
	line := u.fails(`your token for admin expired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+; run: gatehouse login admin`, "", "apikey", "list")
	if strings.Contains(line, u.cached("admin").Token) {
		t.Fatal("the token was printed")
	}
	// An expired token is never reused: login asks for the password.
	u.fails(`login failed: Invalid or missing credentials`, "", "login", "admin", "-p", "wrong-password")
	if out := u.ok(password+"\n", "login", "admin"); !strings.HasPrefix(out, "Logged in as admin; the token expires") {
		t.Fatalf("login after expiry: %q", out)
	}
	u.ok("", "apikey", "list")

	// The same for a cache file whose expiry was edited into the past.
	c := u.cached("admin")
	c.Expiry, c.ExpireTimestamp = "2020-01-02T03:04:05.000000Z", 1577934245
	data, _ := json.Marshal(c)
	writeFile(t, u.cacheFile("admin"), string(data))
	u.fails(`your token for admin expired at 2020-01-0\d \d\d:04:05 \S+; run: gatehouse login admin`, "", "apikey", "get", "x")
}

func TestCLIServerDown(t *testing.T) {
	t.Parallel()
	url := "http://127.0.0.1:" + closedPort(t)
	u := newCLIUser(t, url)
	want := `cannot reach Gatehouse at ` + regexp.QuoteMeta(url) + `: connection refused`
	u.fails(want, "", "login", "admin", "-p", "secret")
	u.fails(want, "secret\n", "login", "admin")
	u.fails(want, "", "apikey", "list", "--token", "0123456789abcdef0123456789abcdef")
	u.fails(want, "", "apikey", "create", "--api-key", "some-key")
	keys := writeTemp(t, "keys.json", `[{"user": "stanley", "key_hash": "`+st2KeyHash+`"}]`)
	u.fails(want, "", "apikey", "import", keys, "--token", "0123456789abcdef0123456789abcdef")
	u.fails(`invalid server URL "ftp://x": .*`, "", "login", "admin", "-p", "x", "--url", "ftp://x")
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

var keyRe = regexp.MustCompile(`^[0-9A-Za-z]{86}\n$`)

func TestCLIAPIKeys(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)
	u.ok("", "login", "admin", "-p", password)

	key := u.ok("", "apikey", "create", "-k")
	if !keyRe.MatchString(key) {
		t.Fatalf("create -k: %q", key)
	}
	key = strings.TrimSpace(key)
	var created struct {
		ID       string         `json:"id"`
		User     string         `json:"user"`
		Key      string         `json:"key"`
		Metadata map[string]any `json:"metadata"`
		Enabled  bool           `json:"enabled"`
	}
	if err := json.Unmarshal([]byte(u.ok("", "apikey", "create", "-j", "-m", `{"used_by": "ci"}`, "-u", "bob")), &created); err != nil ||
		created.User != "bob" || created.Metadata["used_by"] != "ci" || len(created.Key) != 86 || !created.Enabled {
		t.Fatalf("create -j: %v %+v", err, created)
	}
	out := u.ok("", "apikey", "create", "-m", `{"n": 1}`)
	if !regexp.MustCompile(`(?m)^key +[0-9A-Za-z]{86}$`).MatchString(out) || !strings.Contains(out, `{"n":1}`) {
		t.Fatalf("create: %q", out)
	}
	u.fails(`--metadata must be a JSON object, .*`, "", "apikey", "create", "-m", "[1]")

	if code, who := whoami(t, p.URL, "St2-Api-Key", key); code != 200 || who != "admin" {
		t.Fatalf("new key: %d %s", code, who)
	}
	id := strings.Fields(u.ok("", "apikey", "get", key))[1]
	if len(id) != 24 {
		t.Fatalf("get: id %q", id)
	}

	list := u.ok("", "apikey", "list")
	if !strings.HasPrefix(list, "ID ") || !strings.Contains(list, id) || !strings.Contains(list, created.ID) || strings.Contains(list, key) {
		t.Fatalf("list:\n%s", list)
	}
	var keys []map[string]any
	if err := json.Unmarshal([]byte(u.ok("", "apikey", "list", "-j", "-u", "bob")), &keys); err != nil ||
		len(keys) != 1 || keys[0]["id"] != created.ID || keys[0]["key_hash"] != "********" {
		t.Fatalf("list -j -u bob: %v %v", err, keys)
	}
	r := u.run("", nil, "apikey", "list", "--limit", "1")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stderr, "showing 1 of 3") {
		t.Fatalf("list --limit 1: %+v", r)
	}

	// disable: GET then PUT; the server then refuses the key.
	if out := u.ok("", "apikey", "disable", key); !regexp.MustCompile(`(?m)^enabled +false$`).MatchString(out) || strings.Contains(out, key) {
		t.Fatalf("disable: %q", out)
	}
	if code, msg := whoami(t, p.URL, "St2-Api-Key", key); code != 401 || msg != "Unauthorized - API key is disabled." {
		t.Fatalf("disabled key: %d %s", code, msg)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(u.ok("", "apikey", "get", id, "-j")), &got); err != nil || got["enabled"] != false {
		t.Fatalf("get -j: %v %v", err, got)
	}
	u.fails(`Unauthorized - API key is disabled.`, "", "apikey", "list", "--api-key", key)
	u.ok("", "apikey", "enable", id)
	if code, who := whoami(t, p.URL, "St2-Api-Key", key); code != 200 || who != "admin" {
		t.Fatalf("enabled key: %d %s", code, who)
	}

	// Other credentials: a key, and a token in the environment.
	u.ok("", "apikey", "list", "--api-key", key)
	if r := u.run("", []string{"GATEHOUSE_TOKEN=" + u.cached("admin").Token}, "apikey", "get", id, "--as", "nobody"); r.code != 1 ||
		!strings.Contains(r.stderr, "not logged in as nobody to "+p.URL+"; run: gatehouse login nobody") {
		t.Fatalf("--as must win over GATEHOUSE_TOKEN: %+v", r)
	}
	if r := u.run("", []string{"GATEHOUSE_TOKEN=0123456789abcdef0123456789abcdef"}, "apikey", "list"); r.code != 1 || r.stderr != "gatehouse: Unauthorized\n" {
		t.Fatalf("GATEHOUSE_TOKEN: %+v", r)
	}

	if out := u.ok("", "apikey", "delete", key); out != "Deleted API key "+id+" of admin.\n" {
		t.Fatalf("delete: %q", out)
	}
	if code, msg := whoami(t, p.URL, "St2-Api-Key", key); code != 401 || msg != "Unauthorized" {
		t.Fatalf("deleted key: %d %s", code, msg)
	}
	u.fails(`ApiKey matching `+id+` for reference and id not found.`, "", "apikey", "get", id)
	u.fails(`ApiKey matching `+id+` for reference and id not found.`, "", "apikey", "delete", id)
}

// TestCLIImportST2Export imports keys in the shape `st2 apikey list -j
// --show-secrets` prints, then uses them by their original values.
func TestCLIImportST2Export(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)
	u.ok("", "login", "admin", "-p", password)

	sum := sha512.Sum512([]byte("saltnpepper" + "5678"))
	hash5678 := hex.EncodeToString(sum[:])
	if h := sha512.Sum512([]byte("saltnpepper" + st2Key)); hex.EncodeToString(h[:]) != st2KeyHash {
		t.Fatal("test vector")
	}
	export := fmt.Sprintf(`[
    {
        "created_at": "2020-03-26T05:28:13.123456Z",
        "enabled": true,
        "id": "5e7c3e0d4f0a9b3c2d1e0f11",
        "key_hash": %q,
        "metadata": {"used_by": "jenkins"},
        "uid": "api_key:%s",
        "user": "stanley"
    },
    {
        "created_at": "2021-01-01T00:00:00.000000Z",
        "enabled": false,
        "id": "not-an-object-id",
        "key_hash": %q,
        "metadata": {},
        "uid": "api_key:%s",
        "user": "admin"
    }
]
`, st2KeyHash, st2KeyHash, hash5678, hash5678)
	file := filepath.Join(t.TempDir(), "keys.json")
	writeFile(t, file, export)

	out := u.ok("", "apikey", "import", file)
	if !strings.Contains(out, "imported  5e7c3e0d4f0a9b3c2d1e0f11 (stanley)") || !strings.HasSuffix(out, "2 imported, 0 already present, 0 failed.\n") {
		t.Fatalf("import:\n%s", out)
	}
	if code, who := whoami(t, p.URL, "St2-Api-Key", st2Key); code != 200 || who != "stanley" {
		t.Fatalf("st2 key 1234 after import: %d %s", code, who)
	}
	if code, msg := whoami(t, p.URL, "St2-Api-Key", "5678"); code != 401 || msg != "Unauthorized - API key is disabled." {
		t.Fatalf("disabled st2 key: %d %s", code, msg)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(u.ok("", "apikey", "get", "5e7c3e0d4f0a9b3c2d1e0f11", "-j")), &got); err != nil ||
		got["created_at"] != "2020-03-26T05:28:13.123456Z" || got["user"] != "stanley" || fmt.Sprint(got["metadata"]) != "map[used_by:jenkins]" {
		t.Fatalf("imported key: %v %v", err, got)
	}

	// Again: nothing new, and not an error.
	out = u.ok("", "apikey", "import", file)
	if !strings.HasSuffix(out, "0 imported, 2 already present, 0 failed.\n") || !strings.Contains(out, "present   5e7c3e0d4f0a9b3c2d1e0f11") {
		t.Fatalf("second import:\n%s", out)
	}

	// Gatehouse's own export is an st2 export: it carries the hash.
	var exported []map[string]any
	if err := json.Unmarshal([]byte(u.ok("", "apikey", "list", "-j", "--show-secrets", "-u", "stanley")), &exported); err != nil ||
		len(exported) != 1 || exported[0]["key_hash"] != st2KeyHash || exported[0]["uid"] != "api_key:"+st2KeyHash {
		t.Fatalf("list --show-secrets: %v %v", err, exported)
	}

	// A single object from stdin, and an export made without --show-secrets.
	masked := `{"id": "5e7c3e0d4f0a9b3c2d1e0f99", "uid": "********", "user": "x", "key_hash": "********", "metadata": {}, "enabled": true}`
	r := u.run(masked, nil, "apikey", "import", "-")
	if r.code != 1 || !strings.Contains(r.stdout, "failed    5e7c3e0d4f0a9b3c2d1e0f99 (x): key_hash is masked or missing; export with `st2 apikey list -j --show-secrets`") ||
		r.stderr != "gatehouse: 1 of 1 API keys could not be imported\n" {
		t.Fatalf("masked import: %+v", r)
	}
	u.fails(`.*keys.txt: not JSON: .*`, "", "apikey", "import", writeTemp(t, "keys.txt", "id,key_hash\n"))
}

func writeTemp(t *testing.T, name, content string) string {
	path := filepath.Join(t.TempDir(), name)
	writeFile(t, path, content)
	return path
}

// TestCLITLSErrors points the CLI at an HTTPS server whose CA it does not
// know, with and without --cacert, and mixes up http and https.
func TestCLITLSErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"faultstring": "User \"x\" may not list API keys of user \"y\"."}`)
	}))
	t.Cleanup(srv.Close)
	u := newCLIUser(t, srv.URL)
	tok := []string{"apikey", "list", "--token", "0123456789abcdef0123456789abcdef"}
	u.fails(`TLS error talking to Gatehouse at `+regexp.QuoteMeta(srv.URL)+`: certificate signed by unknown authority; trust its CA with --cacert FILE \(or GATEHOUSE_CACERT\)`, "", tok...)

	ca := writeTemp(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	u.fails(`User "x" may not list API keys of user "y".`, "", append(tok, "--cacert", ca)...)
	if r := u.run("", []string{"GATEHOUSE_CACERT=" + ca}, tok...); r.stderr != "gatehouse: User \"x\" may not list API keys of user \"y\".\n" {
		t.Fatalf("GATEHOUSE_CACERT: %+v", r)
	}
	u.fails(`CA certificates: no PEM certificate in .*`, "", append(tok, "--cacert", writeTemp(t, "empty.pem", "nothing"))...)

	plain := "http://" + strings.TrimPrefix(srv.URL, "https://")
	u.fails(regexp.QuoteMeta(plain)+` speaks HTTPS; use an https:// URL`, "", append(tok, "--url", plain)...)

	p, _ := cliServer(t)
	https := "https://" + strings.TrimPrefix(p.URL, "http://")
	u.fails(`TLS error talking to Gatehouse at `+regexp.QuoteMeta(https)+`: the server does not speak TLS; use an http:// URL`, "", "login", "admin", "-p", "x", "--url", https)
}
