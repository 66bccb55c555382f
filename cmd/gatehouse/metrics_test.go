package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsAllowedCIDRs runs the binary with auth.metrics_allowed_cidrs
// set through the environment: /metrics answers the address inside the
// list and refuses, with a faultstring, one outside it (127.0.0.2).
func TestMetricsAllowedCIDRs(t *testing.T) {
	dir := t.TempDir()
	users, cfg := filepath.Join(dir, "users"), filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, users, "")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  backend_kwargs: {file_path: %s}\ndatabase:\n  url: sqlite:%s/db\n", users, dir))
	p := startGatehouse(t, dir, []string{"GATEHOUSE_AUTH_METRICS_ALLOWED_CIDRS=127.0.0.1/32"}, "serve", "--config", cfg)
	from := func(local string) (int, string) {
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
			return d.DialContext(ctx, network, addr)
		}}}
		req, _ := http.NewRequestWithContext(t.Context(), "GET", p.URL+"/metrics", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := from("127.0.0.1"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("from 127.0.0.1: %d %.200s", code, body)
	}
	code, body := from("127.0.0.2")
	if code != http.StatusForbidden || !strings.HasPrefix(body, `{"faultstring":`) || strings.Contains(body, "go_goroutines") {
		t.Errorf("from 127.0.0.2: %d %.200s, want 403 with a faultstring", code, body)
	}
}
