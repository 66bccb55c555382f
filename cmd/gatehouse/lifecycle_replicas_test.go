package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLifecycleOnEveryReplica runs two gatehouse processes on one
// PostgreSQL: a token revoked by id on one is inactive on the other within
// a second, and a rotated key's old secret works on both during its grace
// period and on neither after it, although both had it cached.
func TestLifecycleOnEveryReplica(t *testing.T) {
	a, b := twoReplicas(t, "  admin_users: [joe]\n")

	_, body := postToken(t, a.URL, "joe", "joe-password")
	caller := body["token"].(string)
	_, body = postToken(t, a.URL, "joe", "joe-password")
	victim, victimID := body["token"].(string), body["id"].(string)

	list := call(t, "GET", b.URL+"/auth/v1/tokens", map[string]string{"X-Auth-Token": caller})
	if list.code != 200 || !strings.Contains(list.body, victimID) || strings.Contains(list.body, victim) {
		t.Fatalf("token list on the other replica: %d %s", list.code, list.body)
	}
	for _, p := range []*process{a, b} {
		if !introspectActive(t, p.URL, caller, victim) {
			t.Fatalf("token inactive on %s before revocation", p.URL)
		}
	}
	if code := call(t, "DELETE", a.URL+"/auth/v1/tokens/"+victimID, map[string]string{"X-Auth-Token": caller}).code; code != 204 {
		t.Fatalf("revoke by id: %d", code)
	}
	start := time.Now()
	for introspectActive(t, b.URL, caller, victim) {
		if time.Since(start) > time.Second {
			t.Fatalf("revoked token still active on the other replica after %s", time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("token revoked by id inactive on the other replica after %s", time.Since(start))

	old := createKey(t, a.URL, caller)
	me := func(p *process, key string) int {
		return call(t, "GET", p.URL+"/auth/v1/me", map[string]string{"St2-Api-Key": key}).code
	}
	for _, p := range []*process{a, b} { // both cache the old secret
		if code := me(p, old); code != 200 {
			t.Fatalf("key before rotation on %s: %d", p.URL, code)
		}
	}
	const grace = 2 * time.Second
	fresh := rotate(t, a.URL, caller, old, int(grace/time.Second))
	rotated := time.Now()
	for _, p := range []*process{a, b} {
		if c1, c2 := me(p, old), me(p, fresh); c1 != 200 || c2 != 200 {
			t.Fatalf("during the grace period on %s: old %d, new %d", p.URL, c1, c2)
		}
	}
	time.Sleep(time.Until(rotated.Add(grace + 100*time.Millisecond)))
	for _, p := range []*process{a, b} {
		if c1, c2 := me(p, old), me(p, fresh); c1 != 401 || c2 != 200 {
			t.Fatalf("after the grace period on %s: old %d (want 401), new %d", p.URL, c1, c2)
		}
	}
}

// introspectActive asks base whether tok is active, as the holder of caller.
func introspectActive(t *testing.T, base, caller, tok string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/auth/v1/introspect",
		strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Auth-Token", caller)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return m["active"] == true
}

// rotate rotates the key with secret old and returns the new secret.
func rotate(t *testing.T, base, caller, old string, grace int) string {
	t.Helper()
	req, _ := newJSONRequest(t, "POST", base+"/api/v1/apikeys/"+old+"/rotate", fmt.Sprintf(`{"grace": %d}`, grace))
	req.Header.Set("X-Auth-Token", caller)
	return jsonField(t, req, 200, "key")
}
