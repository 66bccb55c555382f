package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/testlog"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// panicStore panics when asked for a token, as a bug would.
type panicStore struct{ store.Store }

func (panicStore) TokenByHash(context.Context, string) (store.Token, error) {
	panic("a bug")
}

// TestPanicIsLoggedAndCounted: a request that panics is answered with the
// fixed 500, and still has its access log line and its request metrics.
func TestPanicIsLoggedAndCounted(t *testing.T) {
	buf := &testlog.Buffer{}
	h := newHarness(t, withLog(buf), func(h *harness) {
		h.wrapStore = func(st store.Store) store.Store { return panicStore{st} }
	})
	status, body := h.send("GET", "/auth/v1/me", map[string]string{"X-Auth-Token": "some-token"})
	if status != http.StatusInternalServerError || string(body) != `{"faultstring":"Internal Server Error"}` {
		t.Fatalf("%d %s", status, body)
	}
	var logged bool
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" && m["route"] == "/auth/v1/me" && m["status"] == 500.0 && m["request_id"] != "" {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no access log line for the panic in:\n%s", buf.String())
	}
	_, metrics := h.send("GET", "/metrics", nil)
	if series := `gatehouse_http_requests_total{code="500",method="GET",route="/auth/v1/me"} 1`; !strings.Contains(string(metrics), series) {
		t.Errorf("no %s", series)
	}
}
