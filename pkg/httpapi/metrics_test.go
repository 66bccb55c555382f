package httpapi_test

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
)

// randomMethod is n random upper-case letters: a valid HTTP token that is
// no standard method.
func randomMethod(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return string(b)
}

// send makes one request with a plain client (no spec check: the methods
// are made up) and returns the status.
func (h *harness) send(method, path string, header map[string]string) (int, []byte) {
	h.t.Helper()
	r, err := http.NewRequestWithContext(h.t.Context(), method, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(r)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestMetricsLabelsAreBounded: a client choosing methods and paths cannot
// grow /metrics. Unknown methods are counted as "other", unmatched paths
// as "unmatched" (issue 10, item 7: 400 requests with 8,000-character
// methods grew /metrics from 11 KB to 61 MB).
func TestMetricsLabelsAreBounded(t *testing.T) {
	h := newHarness(t)
	scrape := func() string {
		st, body := h.send("GET", "/metrics", nil)
		if st != http.StatusOK {
			t.Fatalf("metrics: %d %s", st, body)
		}
		return string(body)
	}
	before := len(scrape())
	for i := range 60 {
		method := randomMethod(2000)
		if i%2 == 1 {
			method = strings.ToLower(method)[:10] // "get"-like spellings are not standard either
		}
		if st, body := h.send(method, "/auth/v1/tokens", nil); st != http.StatusNotFound {
			t.Fatalf("method %.20s…: %d %s", method, st, body)
		}
		if st, _ := h.send("GET", "/no/such/"+randomMethod(500), nil); st != http.StatusNotFound {
			t.Fatalf("unmatched path: %d", st)
		}
	}
	h.send("PROPFIND", "/auth/v1/me", nil)
	h.send("get", "/healthz", nil)
	h.send("DELETE", "/auth/v1/tokens", nil) // a standard method on a path that does not serve it
	after := scrape()
	t.Logf("/metrics: %d bytes before, %d after", before, len(after))
	if grew := len(after) - before; grew > 16<<10 {
		t.Errorf("/metrics grew by %d bytes", grew)
	}
	for _, series := range []string{
		`gatehouse_http_requests_total{code="404",method="other",route="unmatched"}`,
		`gatehouse_http_requests_total{code="404",method="GET",route="unmatched"}`,
		`gatehouse_http_requests_total{code="404",method="DELETE",route="unmatched"}`,
		`gatehouse_http_request_duration_seconds_count{method="other",route="unmatched"}`,
	} {
		if !strings.Contains(after, series+" ") {
			t.Errorf("no series %s", series)
		}
	}
	for _, line := range strings.Split(after, "\n") {
		if strings.HasPrefix(line, "gatehouse_http_") && len(line) > 200 {
			t.Errorf("long series: %.120s…", line)
		}
	}
}

// TestMetricsAllowedCIDRs: with auth.metrics_allowed_cidrs set, /metrics
// answers 403 to every other client address; the address is the one the
// throttle uses (X-Forwarded-For only from a trusted proxy).
func TestMetricsAllowedCIDRs(t *testing.T) {
	prefixes := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name           string
		allowed, proxy []netip.Prefix
		xff            string
		want           int
	}{
		{name: "empty list: anyone", want: http.StatusOK},
		{name: "peer inside", allowed: prefixes("127.0.0.0/8"), want: http.StatusOK},
		{name: "peer outside", allowed: prefixes("10.0.0.0/8", "::1/128"), want: http.StatusForbidden},
		{name: "forged X-Forwarded-For", allowed: prefixes("10.0.0.0/8"), xff: "10.1.2.3", want: http.StatusForbidden},
		{name: "client inside, via a trusted proxy", allowed: prefixes("10.0.0.0/8"), proxy: prefixes("127.0.0.1/32"),
			xff: "10.1.2.3", want: http.StatusOK},
		{name: "client outside, via a trusted proxy", allowed: prefixes("127.0.0.0/8"), proxy: prefixes("127.0.0.1/32"),
			xff: "192.0.2.7", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *httpapi.Config) {
				c.MetricsAllowed, c.TrustedProxies = tt.allowed, tt.proxy
			}))
			hdr := map[string]string{}
			if tt.xff != "" {
				hdr["X-Forwarded-For"] = tt.xff
			}
			r := h.do(req{method: "GET", path: "/metrics", header: hdr})
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %.200s", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusForbidden {
				if f := r.fault(t); f == "" || strings.Contains(string(r.body), "gatehouse_") {
					t.Errorf("403 body %s", r.body)
				}
			}
			// Other routes are not affected.
			if r := h.do(req{method: "GET", path: "/healthz", header: hdr}); r.status != http.StatusOK {
				t.Errorf("/healthz: %d", r.status)
			}
		})
	}
}
