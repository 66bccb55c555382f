package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// probe is one revocation-latency measurement's settings.
type probe struct {
	a, b           string // replica A (revokes), replica B (is asked)
	user, password string // Basic credentials that get the tokens revoked
	caller         string // "Header: value" of the service account asking B and revoking on A
	hc             *http.Client
}

// revokeLatency measures how long a token revoked on replica A is still
// accepted by replica B: n times, it issues a token on A, has B cache it
// (introspection until active), revokes it on A, then asks B as fast as
// it can until B answers {"active":false}. Meanwhile -load-workers drive
// introspection at B (cache misses over -tokens seeded tokens), so B
// answers the probe under load. It prints one JSON line: p50, p99 and max
// from sending the revocation.
func revokeLatency(args []string) error {
	fs := flag.NewFlagSet("revoke-latency", flag.ExitOnError)
	var p probe
	fs.StringVar(&p.a, "a", "", "replica A's URL (loopback)")
	fs.StringVar(&p.b, "b", "", "replica B's URL (loopback)")
	fs.StringVar(&p.user, "user", "", "user whose tokens are issued and revoked")
	fs.StringVar(&p.password, "password", "", "that user's password")
	fs.StringVar(&p.caller, "caller", "", "'Header: value' of a service account (introspects on B, revokes on A)")
	n := fs.Int("n", 1000, "how many revocations")
	workers := fs.Int("load-workers", 8, "background introspection workers on B (0: none)")
	tokens := fs.Int("tokens", 0, "background load asks about seed1 … seedN (0: about the caller's own token)")
	_ = fs.Parse(args)
	if p.a == "" || p.b == "" || p.caller == "" {
		return fmt.Errorf("-a, -b and -caller are required")
	}
	p.hc = loadgen.NewClient(4, true, 5*time.Second)
	stop := p.backgroundLoad(*workers, *tokens)
	lat, err := p.measure(*n)
	stop()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(latencySummary(lat))
}

// backgroundLoad starts introspection load at B and returns a function
// that stops it and waits.
func (p probe) backgroundLoad(workers, tokens int) func() {
	if workers <= 0 {
		return func() {}
	}
	k, v, _ := strings.Cut(p.caller, ":")
	c := config{url: p.b + "/auth/v1/introspect", method: "POST", body: "token={token}", workers: workers,
		duration: time.Hour, expect: 200, header: headers{"Content-Type: application/x-www-form-urlencoded", k + ":" + v}}
	c.tokens, _ = newPicker("uniform", "seed", max(tokens, 1), 0, 7)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runUntil(ctx, c) }()
	return func() { cancel(); <-done }
}

// measure runs n revocations and returns each latency.
func (p probe) measure(n int) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, n)
	for range n {
		d, err := p.once()
		if err != nil {
			return nil, err
		}
		lat = append(lat, d)
	}
	return lat, nil
}

// once issues, caches, revokes and waits for one token.
func (p probe) once() (time.Duration, error) {
	tok, err := p.issue()
	if err != nil {
		return 0, err
	}
	if active, err := p.introspect(tok); err != nil || !active {
		return 0, fmt.Errorf("a fresh token is not active on B: %v", err)
	}
	start := time.Now()
	if err := p.call(p.a+"/auth/v1/revoke", tok, nil); err != nil {
		return 0, err
	}
	for time.Since(start) < 5*time.Second {
		active, err := p.introspect(tok)
		if err != nil {
			return 0, err
		}
		if !active {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("B still accepted a revoked token after 5 s")
}

func (p probe) issue() (string, error) {
	req, _ := http.NewRequest("POST", p.a+"/auth/v1/tokens", nil)
	req.SetBasicAuth(p.user, p.password)
	var out struct{ Token string }
	if err := p.do(req, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("issuing a token: %v", err)
	}
	return out.Token, nil
}

func (p probe) introspect(tok string) (bool, error) {
	var out struct{ Active bool }
	err := p.call(p.b+"/auth/v1/introspect", tok, &out)
	return out.Active, err
}

// call posts token=tok as the caller and decodes the answer into out.
func (p probe) call(u, tok string, out any) error {
	req, _ := http.NewRequest("POST", u, strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	k, v, _ := strings.Cut(p.caller, ":")
	req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	return p.do(req, out)
}

func (p probe) do(req *http.Request, out any) error {
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

type latencies struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

func latencySummary(lat []time.Duration) latencies {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return latencies{N: len(lat), P50ms: ms(at(0.50)), P99ms: ms(at(0.99)), MaxMs: ms(lat[len(lat)-1])}
}
