package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// shippedST2Conf is the typical st2.conf the repository ships.
const shippedST2Conf = "../../configs/st2.conf"

// TestServeFromST2Conf serves from an existing st2.conf: the shipped file
// unchanged, and copies with the changes an operator might make. The
// environment overrides only what a test machine must: the port, the
// htpasswd path (/etc/st2/htpasswd does not exist here) and, where the file
// does not name one, the database.
func TestServeFromST2Conf(t *testing.T) {
	shipped, err := filepath.Abs(shippedST2Conf)
	if err != nil {
		t.Fatal(err)
	}
	original, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := strconv.Atoi(st2ConfValue(t, shipped, "auth", "token_ttl"))
	if err != nil {
		t.Fatalf("token_ttl in %s: %v", shipped, err)
	}
	apiURL := strings.TrimRight(st2ConfValue(t, shipped, "auth", "api_url"), "/")
	if apiURL == "" {
		apiURL = "http://127.0.0.1:9101" // st2's default: st2api on the same host
	}

	for _, tc := range []struct {
		name string
		// edit returns the configuration file to serve from, given the
		// shipped one and a scratch directory; dbPath is the SQLite file
		// the configuration names, "" when GATEHOUSE_DATABASE_URL must.
		edit func(t *testing.T, dir string) (conf, dbPath string)
		tls  bool
	}{
		{
			name: "shipped file as is, database from GATEHOUSE_DATABASE_URL",
			edit: func(*testing.T, string) (string, string) { return shipped, "" },
		},
		{
			name: "database_url in an appended [gatehouse] section",
			edit: func(t *testing.T, dir string) (string, string) {
				db := filepath.Join(dir, "section.db")
				return editST2Conf(t, dir, original, "", "", "\n[gatehouse]\ndatabase_url = sqlite:"+db+"\n"), db
			},
		},
		{
			name: "use_ssl False with cert and key that do not exist",
			edit: func(t *testing.T, dir string) (string, string) {
				return editST2Conf(t, dir, original, "use_ssl = False\n",
					"use_ssl = False\ncert = /etc/apache2/ssl/mycert.crt\nkey = /etc/apache2/ssl/mycert.key\n", ""), ""
			},
		},
		{
			name: "debug True, enable False",
			edit: func(t *testing.T, dir string) (string, string) {
				c := editST2Conf(t, dir, original, "debug = False\n", "debug = True\n", "")
				return editST2Conf(t, dir, mustRead(t, c), "enable = True\n", "enable = False\n", ""), ""
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf, db := tc.edit(t, dir)
			users := filepath.Join(dir, "htpasswd")
			set := exec.Command(binary, "htpasswd", "set", "st2admin", "--file", users, "--cost", "4")
			set.Stdin = strings.NewReader("Ch@ngeMe\n")
			if out, err := set.CombinedOutput(); err != nil {
				t.Fatalf("htpasswd set: %v %s", err, out)
			}
			env := []string{
				"GATEHOUSE_AUTH_PORT=0",
				fmt.Sprintf(`GATEHOUSE_AUTH_BACKEND_KWARGS={"file_path": %q}`, users),
				"GATEHOUSE_DATABASE_URL=", // empty: ignored, whatever the test's environment holds
			}
			if db == "" {
				db = filepath.Join(dir, "env.db")
				env = append(env, "GATEHOUSE_DATABASE_URL=sqlite:"+db)
			}
			p := startGatehouse(t, dir, env, "serve", "--config", conf)

			if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
				t.Errorf("listening on %s, want [auth] host 127.0.0.1", p.URL)
			}
			if !strings.Contains(p.Stderr(), `"tls":false`) {
				t.Errorf("use_ssl = False but serving TLS:\n%s", p.Stderr())
			}
			if _, err := os.Stat(db); err != nil {
				t.Errorf("database not where configured: %v", err)
			}
			checkST2Login(t, p.URL, ttl, apiURL)
			if got := mustRead(t, shipped); string(got) != string(original) {
				t.Fatal("the shipped st2.conf was changed")
			}
		})
	}
}

// checkST2Login logs in as st2admin and checks the token's lifetime and
// X-API-URL against st2.conf, and that token_ttl is also the maximum.
func checkST2Login(t *testing.T, url string, ttl int, apiURL string) {
	t.Helper()
	before := time.Now()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/auth/v1/tokens", nil)
	req.SetBasicAuth("st2admin", "Ch@ngeMe")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	after := time.Now()
	var tok struct {
		User   string `json:"user"`
		Expiry string `json:"expiry"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusCreated || tok.User != "st2admin" {
		t.Fatalf("login: %d %+v %v", resp.StatusCode, tok, err)
	}
	expiry, err := time.Parse("2006-01-02T15:04:05.000000Z", tok.Expiry)
	if err != nil {
		t.Fatal(err)
	}
	issued := expiry.Add(-time.Duration(ttl) * time.Second)
	if issued.Before(before.Add(-time.Second)) || issued.After(after.Add(time.Second)) {
		t.Errorf("expiry %s is not token_ttl (%d s) after the login at %s", tok.Expiry, ttl, before.UTC())
	}
	if got := resp.Header.Get("X-API-URL"); got != apiURL {
		t.Errorf("X-API-URL = %q, want %q", got, apiURL)
	}

	over := fmt.Sprintf(`{"ttl": %d}`, ttl+1)
	req, _ = newJSONRequest(t, "POST", url+"/auth/v1/tokens", over)
	req.SetBasicAuth("st2admin", "Ch@ngeMe")
	resp2, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var fault struct{ Faultstring string }
	_ = json.NewDecoder(resp2.Body).Decode(&fault)
	want := fmt.Sprintf("TTL specified %d is greater than max allowed %d.", ttl+1, ttl)
	if resp2.StatusCode != http.StatusBadRequest || fault.Faultstring != want {
		t.Errorf("ttl above token_ttl: %d %q, want 400 %q", resp2.StatusCode, fault.Faultstring, want)
	}
}

// editST2Conf writes a copy of conf into dir with old replaced by repl
// (old must occur exactly once; "" replaces nothing) and tail appended.
func editST2Conf(t *testing.T, dir string, conf []byte, old, repl, tail string) string {
	t.Helper()
	s := string(conf)
	if old != "" {
		if n := strings.Count(s, old); n != 1 {
			t.Fatalf("%q occurs %d times in st2.conf", old, n)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	path := filepath.Join(dir, "st2.conf")
	writeFile(t, path, s+tail)
	return path
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// st2ConfValue returns key's value in [section] of an INI file, so the
// checks follow the shipped file if it changes. It reads only the plain
// "key = value" lines st2.conf uses.
func st2ConfValue(t *testing.T, path, section, key string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = line[1 : len(line)-1]
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && cur == section && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
