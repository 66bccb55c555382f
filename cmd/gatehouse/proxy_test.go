package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProxyModeBehindNginx puts a real nginx with auth_basic (the shipped
// configs/nginx/gatehouse-proxy-mode.conf) in front of Gatehouse in proxy
// mode: nginx checks the password, Gatehouse issues the token. A client
// talking to Gatehouse directly from another address (127.0.0.2) is not
// believed, whatever headers it sends.
func TestProxyModeBehindNginx(t *testing.T) {
	nginx := findNginx(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "nginx.htpasswd")
	set := exec.Command(binary, "htpasswd", "set", "alice", "--file", users, "--cost", "5")
	set.Stdin = strings.NewReader("alice-password\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	cfg := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  mode: proxy\n  proxy_trusted_cidrs: [127.0.0.1/32]\n"+
		"  backend_kwargs: {file_path: %s}\ndatabase:\n  url: sqlite:%s/db\n", users, dir))
	gh := startGatehouse(t, dir, nil, "serve", "--config", cfg)
	front := startNginxWith(t, nginx, dir, "gatehouse-proxy-mode.conf", "listen 8100;",
		"127.0.0.1:9100", strings.TrimPrefix(gh.URL, "http://"), "/etc/nginx/gatehouse.htpasswd", users)

	post := func(client *http.Client, url, user, pw string, header map[string]string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/auth/v1/tokens", nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	direct := http.DefaultClient
	if code, body := post(direct, front, "alice", "alice-password", nil); code != 201 || body["user"] != "alice" {
		t.Fatalf("through nginx: %d %v", code, body)
	}
	if code, _ := post(direct, front, "alice", "wrong", nil); code != 401 {
		t.Fatalf("wrong password through nginx: %d", code)
	}
	if code, body := post(direct, front, "alice", "alice-password", map[string]string{"Remote-User": "admin"}); code != 201 || body["user"] != "alice" {
		t.Fatalf("smuggled Remote-User through nginx: %d %v", code, body)
	}

	// From 127.0.0.2, which is not in proxy_trusted_cidrs.
	untrusted := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
		return d.DialContext(ctx, network, addr)
	}}}
	for _, hdr := range []map[string]string{{"Remote-User": "admin"}, {"X-Forwarded-User": "admin"}} {
		if code, body := post(untrusted, gh.URL, "", "", hdr); code != 401 {
			t.Errorf("untrusted peer with %v: %d %v", hdr, code, body)
		}
	}
	if code, _ := post(untrusted, gh.URL, "admin", "anything", nil); code != 401 {
		t.Errorf("untrusted peer with a Basic user: %d", code)
	}
	// The same header from the trusted address is believed: the check is the peer.
	if code, body := post(direct, gh.URL, "", "", map[string]string{"X-Forwarded-User": "bob"}); code != 201 || body["user"] != "bob" {
		t.Errorf("trusted peer: %d %v", code, body)
	}
}
