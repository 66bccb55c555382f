package httpapi_test

import (
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
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

