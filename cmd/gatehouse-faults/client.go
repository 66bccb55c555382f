package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// Gatehouse's requests as the checker sends them, and the checks of their
// answers. Every request goes through loadgen.Do (loopback only, with an
// X-Request-ID the server's access log echoes).

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// tokenBody is the part of a 201 the checks read.
type tokenBody struct {
	User   string `json:"user"`
	Token  string `json:"token"`
	Expiry string `json:"expiry"`
}

// login asks for a token with Basic credentials (ttl 0: the default) and
// checks a 201 names the user.
func login(hc *http.Client, base, user, pw string, ttl int) loadgen.Sample {
	body := ""
	if ttl > 0 {
		body = fmt.Sprintf(`{"ttl": %d}`, ttl)
	}
	req, _ := http.NewRequest("POST", base+"/auth/v1/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", basic(user, pw))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	s := loadgen.Do(hc, "login", req)
	s.User = user
	if s.Status == http.StatusCreated {
		var t tokenBody
		if err := json.Unmarshal(s.Body, &t); err != nil || t.Token == "" {
			s.Wrong = fmt.Sprintf("201 without a token: %.200s", s.Body)
		} else if t.User != user {
			s.Wrong = fmt.Sprintf("201 for user %q, want %q", t.User, user)
		} else {
			s.Token = t.Token
		}
	}
	return s
}

// introspection is the part of RFC 7662's answer the checks read.
type introspection struct {
	Active    bool   `json:"active"`
	Username  string `json:"username"`
	TokenType string `json:"token_type"`
	Exp       *int64 `json:"exp"`
}

// introspect asks about tok as the caller (a token), with a hint.
func introspect(hc *http.Client, base, callerToken, tok, hint string) loadgen.Sample {
	form := url.Values{"token": {tok}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, _ := http.NewRequest("POST", base+"/auth/v1/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Auth-Token", callerToken)
	return loadgen.Do(hc, "introspect", req)
}

// expectActive checks a 200 introspection names user with that type.
func expectActive(s *loadgen.Sample, user, typ string) {
	if s.Status != http.StatusOK {
		return
	}
	var in introspection
	if err := json.Unmarshal(s.Body, &in); err != nil {
		s.Wrong = fmt.Sprintf("not JSON: %.200s", s.Body)
		return
	}
	switch {
	case !in.Active:
		s.Wrong = fmt.Sprintf("inactive, want active for %s: %.200s", user, s.Body)
	case in.Username != user:
		s.Wrong = fmt.Sprintf("username %q, want %q", in.Username, user)
	case in.TokenType != typ:
		s.Wrong = fmt.Sprintf("token_type %q, want %q", in.TokenType, typ)
	case typ == "access_token" && in.Exp == nil:
		s.Wrong = "no exp for an access token"
	}
	s.User = user
}

// expectInactive checks a 200 introspection is exactly {"active":false}.
func expectInactive(s *loadgen.Sample) {
	if s.Status == http.StatusOK && string(s.Body) != `{"active":false}` {
		s.Wrong = fmt.Sprintf("want exactly {\"active\":false}, got %.200s", s.Body)
	}
}

// verify asks forward auth about an original URI carrying a credential in
// its query string.
func verify(hc *http.Client, base, originalURI string) loadgen.Sample {
	req, _ := http.NewRequest("GET", base+"/auth/v1/verify", nil)
	req.Header.Set("X-Original-URI", originalURI)
	return loadgen.Do(hc, "verify", req)
}

// readyz asks /readyz.
func readyz(hc *http.Client, base string) loadgen.Sample {
	req, _ := http.NewRequest("GET", base+"/readyz", nil)
	return loadgen.Do(hc, "readyz", req)
}

// tokenPool is a set of tokens to pick from at random, safe for
// concurrent use.
type tokenPool struct {
	mu   sync.Mutex
	toks []string
	user map[string]string
}

func newTokenPool() *tokenPool { return &tokenPool{user: map[string]string{}} }

func (p *tokenPool) add(tok, user string) {
	p.mu.Lock()
	p.toks = append(p.toks, tok)
	p.user[tok] = user
	p.mu.Unlock()
}

func (p *tokenPool) pick() (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.toks[rand.IntN(len(p.toks))]
	return t, p.user[t]
}

func (p *tokenPool) all() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.user))
	for k, v := range p.user {
		out[k] = v
	}
	return out
}

func (p *tokenPool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.toks)
}

// mustToken logs in and returns the token, or an error with the answer.
func mustToken(base, user string, ttl int) (string, error) {
	hc := loadgen.NewClient(1, false, 10*time.Second)
	s := login(hc, base, user, passwords[user], ttl)
	if s.Token == "" {
		return "", fmt.Errorf("login %s: status %d %s %s %.200s", user, s.Status, s.Err, s.Wrong, s.Body)
	}
	return s.Token, nil
}

// mustTokens logs user in n times and adds the tokens to every pool.
func mustTokens(base, user string, n int, pools ...*tokenPool) error {
	for range n {
		t, err := mustToken(base, user, 0)
		if err != nil {
			return err
		}
		for _, p := range pools {
			p.add(t, user)
		}
	}
	return nil
}

// validateAll introspects every token (token → user) with 8 workers and
// returns those that are not active for their user. A 503 or an error is
// retried (up to 5 times, 1 s apart, while ctx lasts) before the token
// counts as lost.
func validateAll(ctx context.Context, base, caller string, toks map[string]string) (lost []string, retried int) {
	hc := loadgen.NewClient(8, true, 10*time.Second)
	type job struct{ tok, user string }
	jobs := make([]job, 0, len(toks))
	for t, u := range toks {
		jobs = append(jobs, job{t, u})
	}
	var retries atomic.Int64
	var mu sync.Mutex
	loadgen.Each(8, len(jobs), func(i int) loadgen.Sample {
		s, n := introspectRetrying(ctx, hc, base, caller, jobs[i].tok, jobs[i].user)
		retries.Add(int64(n))
		return s
	}, loadgen.RecorderFunc(func(s loadgen.Sample) {
		if !s.OK() {
			mu.Lock()
			lost = append(lost, fmt.Sprintf("%s…(%s): status %d %s%s", s.Token[:8], s.User, s.Status, s.Err, s.Wrong))
			mu.Unlock()
		}
	}))
	return lost, int(retries.Load())
}

// introspectRetrying checks tok is active for user, asking again (up to 5
// times, 1 s apart, while ctx lasts) after a 503 or no answer. The sample
// carries tok and user.
func introspectRetrying(ctx context.Context, hc *http.Client, base, caller, tok, user string) (loadgen.Sample, int) {
	var s loadgen.Sample
	retried := 0
	for attempt := range 6 {
		s = introspect(hc, base, caller, tok, "access_token")
		expectActive(&s, user, "access_token")
		if s.Status != 0 && s.Status != http.StatusServiceUnavailable || attempt == 5 || ctx.Err() != nil {
			break
		}
		retried++
		time.Sleep(time.Second)
	}
	s.Token, s.User = tok, user
	return s, retried
}

// createAPIKey makes an API key for the owner of tok.
func createAPIKey(base, tok string) (string, error) {
	req, _ := http.NewRequest("POST", base+"/api/v1/apikeys", strings.NewReader(`{}`))
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := loadgen.NewClient(1, false, 10*time.Second).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var k struct {
		Key string `json:"key"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &k) != nil || k.Key == "" {
		return "", fmt.Errorf("create API key: %d %.200s", resp.StatusCode, b)
	}
	return k.Key, nil
}
