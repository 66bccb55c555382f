package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// newClient is an HTTP client for loopback load: keep-alive connections
// (up to conns of them), a hard timeout far above every bar so that a slow
// answer is measured rather than cut.
func newClient(conns int, keepAlive bool, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:               nil, // loopback only: never a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
	}}
}

// sample is one request and its outcome.
type sample struct {
	Kind    string
	ID      string // X-Request-ID sent
	Start   time.Time
	End     time.Time
	Status  int    // 0: no answer (Err says why)
	Err     string // transport error
	Dial    bool   // the error happened while connecting (nothing was sent)
	Reused  bool   // went over a kept-alive connection
	Wrote   bool   // the request was written completely
	Wrong   string // the answer came but was not the right one
	Token   string // a 201's token
	User    string // the user the answer should name
	Body    []byte
	Header  http.Header
	Latency time.Duration
}

func (s sample) ok() bool { return s.Status >= 200 && s.Status < 300 && s.Wrong == "" }

var reqSeq atomic.Uint64

// do sends req and records everything about it. The body is read fully.
func do(hc *http.Client, kind string, req *http.Request) sample {
	s := sample{Kind: kind, ID: fmt.Sprintf("%s-%d", kind, reqSeq.Add(1))}
	req.Header.Set("X-Request-ID", s.ID)
	trace := &httptrace.ClientTrace{
		GotConn:      func(i httptrace.GotConnInfo) { s.Reused = i.Reused },
		WroteRequest: func(i httptrace.WroteRequestInfo) { s.Wrote = i.Err == nil },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	s.Start = time.Now()
	resp, err := hc.Do(req)
	if err == nil {
		s.Body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		s.Status, s.Header = resp.StatusCode, resp.Header
		if err != nil {
			s.Status = 0 // an answer cut short is no answer
		}
	}
	s.End = time.Now()
	s.Latency = s.End.Sub(s.Start)
	if err != nil {
		s.Err = err.Error()
		var op *net.OpError
		s.Dial = errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED)
	}
	return s
}

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
func login(hc *http.Client, base, user, pw string, ttl int) sample {
	body := ""
	if ttl > 0 {
		body = fmt.Sprintf(`{"ttl": %d}`, ttl)
	}
	req, _ := http.NewRequest("POST", base+"/auth/v1/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", basic(user, pw))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	s := do(hc, "login", req)
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
func introspect(hc *http.Client, base, callerToken, tok, hint string) sample {
	form := url.Values{"token": {tok}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, _ := http.NewRequest("POST", base+"/auth/v1/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Auth-Token", callerToken)
	return do(hc, "introspect", req)
}

// expectActive checks a 200 introspection names user with that type.
func expectActive(s *sample, user, typ string) {
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
func expectInactive(s *sample) {
	if s.Status == http.StatusOK && string(s.Body) != `{"active":false}` {
		s.Wrong = fmt.Sprintf("want exactly {\"active\":false}, got %.200s", s.Body)
	}
}

// verify asks forward auth about an original URI carrying a credential in
// its query string.
func verify(hc *http.Client, base, originalURI string) sample {
	req, _ := http.NewRequest("GET", base+"/auth/v1/verify", nil)
	req.Header.Set("X-Original-URI", originalURI)
	return do(hc, "verify", req)
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
	hc := newClient(1, false, 10*time.Second)
	s := login(hc, base, user, passwords[user], ttl)
	if s.Token == "" {
		return "", fmt.Errorf("login %s: status %d %s %s %.200s", user, s.Status, s.Err, s.Wrong, s.Body)
	}
	return s.Token, nil
}

// validateAll introspects every token (token → user) with 8 workers and
// returns those that are not active for their user. A 503 or an error is
// retried (up to 5 times, 1 s apart) before the token counts as lost.
func validateAll(ctx context.Context, base, caller string, toks map[string]string) (lost []string, retried int) {
	hc := newClient(8, true, 10*time.Second)
	type job struct{ tok, user string }
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var s sample
				for attempt := range 6 {
					s = introspect(hc, base, caller, j.tok, "access_token")
					expectActive(&s, j.user, "access_token")
					if s.Status != 0 && s.Status != http.StatusServiceUnavailable || attempt == 5 || ctx.Err() != nil {
						break
					}
					mu.Lock()
					retried++
					mu.Unlock()
					time.Sleep(time.Second)
				}
				if !s.ok() {
					mu.Lock()
					lost = append(lost, fmt.Sprintf("%s…(%s): status %d %s%s", j.tok[:8], j.user, s.Status, s.Err, s.Wrong))
					mu.Unlock()
				}
			}
		}()
	}
	for t, u := range toks {
		jobs <- job{t, u}
	}
	close(jobs)
	wg.Wait()
	return lost, retried
}
