package loadgen_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

func TestDoRecordsTheRequest(t *testing.T) {
	srv := newServer(t)
	hc := loadgen.NewClient(1, true, 5*time.Second)
	var ss []loadgen.Sample
	for range 2 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		ss = append(ss, loadgen.Do(hc, "get", req))
	}
	for i, s := range ss {
		if !s.OK() || string(s.Body) != "ok" || !s.Wrote || s.Latency <= 0 || s.End.Before(s.Start) {
			t.Errorf("sample %d: %+v", i, s)
		}
		if !strings.HasPrefix(s.ID, "get-") || s.Header.Get("X-Got-ID") != s.ID {
			t.Errorf("sample %d: ID %q, server saw %q", i, s.ID, s.Header.Get("X-Got-ID"))
		}
	}
	if ss[0].Reused || !ss[1].Reused {
		t.Errorf("kept-alive: first %v, second %v; want false, true", ss[0].Reused, ss[1].Reused)
	}
	if ss[0].ID == ss[1].ID {
		t.Errorf("two requests with ID %q", ss[0].ID)
	}
}

// TestClientLoopbackOnly: any address but a loopback one is refused before
// a packet leaves, and proxy settings are ignored.
func TestClientLoopbackOnly(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://192.0.2.1:3128")
	srv := newServer(t)
	hc := loadgen.NewClient(1, false, 2*time.Second)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if s := loadgen.Do(hc, "loopback", req); !s.OK() {
		t.Errorf("loopback: status %d %s", s.Status, s.Err)
	}
	for _, url := range []string{"http://192.0.2.1/", "http://[2001:db8::1]/"} {
		start := time.Now()
		req, _ := http.NewRequest("GET", url, nil)
		s := loadgen.Do(hc, "remote", req)
		if s.Status != 0 || !strings.Contains(s.Err, "not a loopback address") {
			t.Errorf("%s: status %d err %q, want refused as not loopback", url, s.Status, s.Err)
		}
		if time.Since(start) > time.Second {
			t.Errorf("%s: took %v to refuse", url, time.Since(start))
		}
	}
}
