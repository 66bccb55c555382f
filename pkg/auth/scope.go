package auth

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// scopeOrWrite is a stored scope as a Principal carries it: "" (every
// credential made before scopes) is "write".
func scopeOrWrite(stored string) string {
	if stored == "" {
		return authn.ScopeWrite
	}
	return stored
}

// ParsedScope is p's scope, parsed. A scope the store holds was checked
// when it was made; one that does not parse any more is read-only with a
// path no request has, so it allows nothing.
func (p Principal) ParsedScope() authn.Scope {
	if p.Scope == authn.ScopeWrite || p.Scope == "" {
		return authn.Scope{}
	}
	sc, err := authn.ParseScope(p.Scope)
	if err != nil {
		return authn.Scope{Read: true, Paths: []string{"/\x00"}}
	}
	return sc
}

// msgReadOnly is the refusal of a change asked with a read credential.
const msgReadOnly = "This credential's scope is read: it may revoke itself, nothing else."

// mayChange refuses (EFORBIDDEN) a read-only caller: a read credential
// changes no key, user or token, except that it may revoke itself.
func mayChange(caller Principal) error {
	if caller.ParsedScope().Read {
		return Errorf(EFORBIDDEN, msgReadOnly)
	}
	return nil
}

// newScope is the scope of a credential caller makes: asked, or the
// caller's own when nothing is asked (so a client that sends no scope
// gets what it always got). A scope that does not parse is EINVALID; one
// wider than the caller's is EFORBIDDEN.
func newScope(caller Principal, asked string) (string, error) {
	own := caller.ParsedScope()
	if asked == "" {
		return own.String(), nil
	}
	sc, err := authn.ParseScope(asked)
	if err != nil {
		return "", Errorf(EINVALID, "%s", err.Error())
	}
	if !sc.Within(own) {
		return "", Errorf(EFORBIDDEN, "A credential with scope %q cannot create one with the wider scope %q.",
			own.String(), sc.String())
	}
	return sc.String(), nil
}

// ParseScope checks a scope asked for in a request and returns it in its
// canonical form ("" stays ""): EINVALID with the reason otherwise.
func ParseScope(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	sc, err := authn.ParseScope(s)
	if err != nil {
		return "", Errorf(EINVALID, "%s", err.Error())
	}
	return sc.String(), nil
}

// Authorize refuses (EFORBIDDEN) a request with that method and request
// target that p's scope does not allow. It is forward auth's check: the
// request is the one the proxy is asking about.
func (p Principal) Authorize(method, requestURI string) error {
	if p.Scope == authn.ScopeWrite {
		return nil
	}
	if !p.ParsedScope().Allows(method, requestURI) {
		return Errorf(EFORBIDDEN, "The credential's scope (%s) does not allow this request.", p.Scope)
	}
	return nil
}

// lastUseInterval is how often, at most, a key's last_used_at is written.
const lastUseInterval = time.Minute

// keyUsed records that the key with that id authenticated a request now.
// It writes last_used_at at most once per lastUseInterval per key from
// this process (and the store refuses a write within a minute of another
// replica's), in the background: the check itself costs an atomic load.
func (s *Service) keyUsed(id string, now time.Time) {
	v, ok := s.keyUses.Load(id)
	if !ok {
		v, _ = s.keyUses.LoadOrStore(id, new(atomic.Int64))
	}
	last := v.(*atomic.Int64)
	prev, n := last.Load(), now.UnixNano()
	if prev != 0 && n-prev < int64(lastUseInterval) {
		return
	}
	if !last.CompareAndSwap(prev, n) {
		return // another request of this key is writing
	}
	s.bg.Go(func() { s.touchKey(id, now) })
}

// touchKey writes a key's last use. A failure is only logged: the next
// use a minute later tries again.
func (s *Service) touchKey(id string, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StoreTimeout)
	defer cancel()
	if _, err := s.cfg.Store.TouchAPIKey(ctx, id, at); err != nil {
		s.log.Warn("recording an API key's last use", slog.String("key_id", id), slog.String("error", err.Error()))
	}
}
