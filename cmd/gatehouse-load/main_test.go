package main

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun drives a test server in both modes and checks the figures add
// up: every request counted, the expected status not an error, the open
// loop near its rate.
func TestRun(t *testing.T) {
	var noHeader atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "abc" {
			noHeader.Add(1)
		}
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	defer srv.Close()
	base := config{url: srv.URL, method: "POST", header: headers{"X-Auth-Token: abc"},
		workers: 4, duration: 500 * time.Millisecond, expect: 200}

	closed := run(base)
	if closed.Requests < 50 || closed.Errors != 0 || closed.P50ms > closed.P99ms || closed.P99ms > closed.MaxMs {
		t.Errorf("closed loop: %+v", closed)
	}
	if noHeader.Load() > 0 {
		t.Errorf("%d requests without the -H header", noHeader.Load())
	}

	open := base
	open.rate = 100
	res := run(open)
	if res.Requests < 35 || res.Requests > 51 || res.Errors != 0 || res.Rate != 100 {
		t.Errorf("open loop at 100/s for 0.5 s: %+v, want about 50 requests", res)
	}

	wrong := base
	wrong.method = "GET"
	if res := run(wrong); res.Errors != res.Requests || res.Requests == 0 {
		t.Errorf("every answer 405 with -expect 200: %+v, want all errors", res)
	}
}
