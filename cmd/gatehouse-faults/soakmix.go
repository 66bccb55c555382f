package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// soakOp is one kind of request of the soak's mix: it sends the request
// and checks the answer.
type soakOp struct {
	name string
	send func(st *soakState) loadgen.Sample
}

// soakMix is the soak's mix, with shares out of 100.
var soakMix = loadgen.Mix[soakOp]{
	{Item: soakOp{"introspect valid token", func(st *soakState) loadgen.Sample {
		tok, u := st.valid.pick()
		s := introspect(st.hc, st.base, st.svc, tok, "access_token")
		expectStatus(&s, http.StatusOK)
		expectActive(&s, u, "access_token")
		return s
	}}, Weight: 35},
	{Item: soakOp{"introspect valid API key", func(st *soakState) loadgen.Sample {
		k, u := st.keys.pick()
		s := introspect(st.hc, st.base, st.svc, k, "api_key")
		expectStatus(&s, http.StatusOK)
		expectActive(&s, u, "api_key")
		return s
	}}, Weight: 5},
	{Item: soakOp{"introspect unknown token", func(st *soakState) loadgen.Sample {
		s := introspect(st.hc, st.base, st.svc, token.NewToken(), "")
		expectStatus(&s, http.StatusOK)
		expectInactive(&s)
		return s
	}}, Weight: 15},
	{Item: soakOp{"introspect expired token", func(st *soakState) loadgen.Sample {
		tok, _ := st.expired.pick()
		s := introspect(st.hc, st.base, st.svc, tok, "access_token")
		expectStatus(&s, http.StatusOK)
		expectInactive(&s)
		return s
	}}, Weight: 15},
	{Item: soakOp{"verify ?x-auth-token=valid", func(st *soakState) loadgen.Sample {
		tok, u := st.valid.pick()
		return verifyUser(verify(st.hc, st.base, "/hook?x-auth-token="+url.QueryEscape(tok)), u)
	}}, Weight: 10},
	{Item: soakOp{"verify ?x-auth-token=unknown", func(st *soakState) loadgen.Sample {
		return verifyRefused(verify(st.hc, st.base, "/hook?x-auth-token="+token.NewToken()))
	}}, Weight: 5},
	{Item: soakOp{"verify ?x-auth-token=expired", func(st *soakState) loadgen.Sample {
		tok, _ := st.expired.pick()
		return verifyRefused(verify(st.hc, st.base, "/hook?x-auth-token="+tok))
	}}, Weight: 5},
	{Item: soakOp{"verify ?st2-api-key=valid", func(st *soakState) loadgen.Sample {
		k, u := st.keys.pick()
		return verifyUser(verify(st.hc, st.base, "/webhooks/x?a=1&st2-api-key="+url.QueryEscape(k)), u)
	}}, Weight: 5},
	{Item: soakOp{"verify ?st2-api-key=unknown", func(st *soakState) loadgen.Sample {
		return verifyRefused(verify(st.hc, st.base, "/webhooks/x?st2-api-key="+token.NewAPIKey()))
	}}, Weight: 5},
}

// The logins' rows of the soak's table (they are not part of the mix).
const (
	opLogin      = "login"
	opWrongLogin = "login, wrong password"
)

// expectStatus marks an answer (not a 5xx: that is an error) other than
// want as wrong.
func expectStatus(s *loadgen.Sample, want int) {
	if s.Status != 0 && s.Status < 500 && s.Status != want && s.Wrong == "" {
		s.Wrong = fmt.Sprintf("status %d, want %d: %.200s", s.Status, want, s.Body)
	}
}

// verifyUser checks forward auth let the request through as user.
func verifyUser(s loadgen.Sample, user string) loadgen.Sample {
	expectStatus(&s, http.StatusOK)
	if s.Status == http.StatusOK && s.Header.Get("X-Auth-User") != user {
		s.Wrong = fmt.Sprintf("X-Auth-User %q, want %q", s.Header.Get("X-Auth-User"), user)
	}
	return s
}

// verifyRefused checks forward auth refused the request, naming no one.
func verifyRefused(s loadgen.Sample) loadgen.Sample {
	expectStatus(&s, http.StatusUnauthorized)
	if s.Status == http.StatusUnauthorized && s.Header.Get("X-Auth-User") != "" {
		s.Wrong = "401 with X-Auth-User"
	}
	return s
}

// soakState is what the soak's workers share: the server, the credentials
// to use, and the counts per request kind.
type soakState struct {
	base, svc      string
	valid, expired *tokenPool
	keys           *tokenPool // API key → user
	hc             *http.Client

	measuring atomic.Bool           // false during warm-up
	hists     [2]*loadgen.Histogram // warm-up, measured
	mu        sync.Mutex
	counts    map[string]*opCount
	examples  []string
	logins    int // logins sent, for the right/wrong password turns
}

type opCount struct{ n, errors, wrong int }

func (c *opCount) safeN() int {
	if c == nil {
		return 0
	}
	return c.n
}

// one sends one request of the mix, chosen at random, and checks its
// answer; the sample's Kind is the mix's name for it.
func (st *soakState) one() loadgen.Sample {
	op := soakMix.Random()
	s := op.send(st)
	s.Kind = op.name
	return s
}

// login sends one login: four in five with the right password (201 naming
// the user; the token joins the valid pool), one in five with a wrong one
// (401).
func (st *soakState) login() loadgen.Sample {
	i := st.logins
	st.logins++
	user := []string{"joe", "ann"}[i%2]
	if i%5 == 4 {
		s := login(st.hc, st.base, user, "not-the-password", 0)
		if s.Status != 0 && s.Status < 500 && s.Status != http.StatusUnauthorized {
			s.Wrong = fmt.Sprintf("wrong password: status %d, want 401", s.Status)
		}
		s.Kind = opWrongLogin
		return s
	}
	s := login(st.hc, st.base, user, passwords[user], 0)
	if s.Status != 0 && s.Status < 500 && s.Status != http.StatusCreated && s.Wrong == "" {
		s.Wrong = fmt.Sprintf("login: status %d, want 201: %.200s", s.Status, s.Body)
	}
	if s.Token != "" {
		st.valid.add(s.Token, user)
	}
	s.Kind = opLogin
	return s
}

// Record counts s under its Kind: an error (no answer, 5xx), a wrong
// answer, or neither; and adds its latency to the warm-up's or the
// measured period's histogram.
func (st *soakState) Record(s loadgen.Sample) {
	h := st.hists[0]
	if st.measuring.Load() {
		h = st.hists[1]
	}
	h.Add(s.Latency)
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.counts[s.Kind]
	if c == nil {
		c = &opCount{}
		st.counts[s.Kind] = c
	}
	c.n++
	switch {
	case s.Status == 0 || s.Status >= 500:
		c.errors++
	case s.Wrong != "":
		c.wrong++
	default:
		return
	}
	if len(st.examples) < 10 {
		what := s.Wrong
		if what == "" {
			what = fmt.Sprintf("status %d %s", s.Status, s.Err)
		}
		st.examples = append(st.examples, s.Kind+": "+what)
	}
}

func (st *soakState) totals() (n, errs, wrong int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range st.counts {
		n, errs, wrong = n+c.n, errs+c.errors, wrong+c.wrong
	}
	return
}
