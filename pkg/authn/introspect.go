package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Errors of Introspect. They never contain the credential.
var (
	// ErrNoCredential: the request or the Credential holds no token or key.
	ErrNoCredential = errors.New("authn: no token or API key")
	// ErrInvalid: Gatehouse says the credential is not active (unknown,
	// expired, revoked or disabled).
	ErrInvalid = errors.New("authn: credential is not active")
	// ErrExpired: Gatehouse said the token is active, but its expiry has
	// passed by this host's clock. errors.Is(ErrExpired, ErrInvalid) holds.
	ErrExpired = fmt.Errorf("%w: token has expired", ErrInvalid)
	// ErrUnavailable: no usable answer from Gatehouse: unreachable, timed
	// out, 5xx, a refusal of the service's own credential (401, 403), or
	// an answer that is not introspection's. The wrapped error says which.
	ErrUnavailable = errors.New("authn: authentication service unavailable")
)

// maxAnswerBytes bounds the introspection answer read.
const maxAnswerBytes = 1 << 20

// maxDetail bounds how much of an error answer goes into an error.
const maxDetail = 200

// Middleware checks requests' credentials with Gatehouse. It is safe for
// concurrent use; make one per process and share it, so the cache is shared.
type Middleware struct {
	cfg      Config
	endpoint string
	log      *slog.Logger
	cache    *cache
	now      func() time.Time
}

// New checks cfg, fills in its defaults and returns the middleware. It does
// not contact Gatehouse.
func New(cfg Config) (*Middleware, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Middleware{
		cfg:      cfg,
		endpoint: cfg.introspectURL(),
		log:      cfg.Logger,
		cache:    newCache(cfg.CacheSize, cfg.CacheTTL),
		now:      time.Now,
	}, nil
}

// Introspect asks Gatehouse who c belongs to, or answers from the cache.
// It returns ErrNoCredential for an empty c.Value, ErrInvalid (or
// ErrExpired, which is also ErrInvalid) for a credential that is not good,
// and an error wrapping ErrUnavailable when Gatehouse gave no usable
// answer. The Identity's Credential holds c's Kind and Location, not its
// Value.
func (m *Middleware) Introspect(ctx context.Context, c Credential) (Identity, error) {
	if c.Value == "" {
		return Identity{}, ErrNoCredential
	}
	key := keyOf(c)
	id, ok := m.cache.get(key, m.now())
	if !ok {
		var err error
		if id, err = m.ask(ctx, c); err != nil {
			return Identity{}, err
		}
		if !id.ExpiresAt.IsZero() && !m.now().Before(id.ExpiresAt) {
			return Identity{}, ErrExpired
		}
		m.cache.put(key, id, m.now())
	}
	id.Credential = Credential{Kind: c.Kind, Location: c.Location}
	if c.Kind == KindBearer { // now Gatehouse has said which it is
		switch id.TokenType {
		case TokenTypeAccess:
			id.Credential.Kind = KindToken
		case TokenTypeAPIKey:
			id.Credential.Kind = KindAPIKey
		}
	}
	return id, nil
}

// ask sends one introspection request.
func (m *Middleware) ask(ctx context.Context, c Credential) (Identity, error) {
	form := url.Values{"token": {c.Value}}
	if hint := hintOf(c.Kind); hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	m.cfg.authorize(req)
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		// The URL in err is the endpoint's; the token is in the body.
		return Identity{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: reading the answer: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Identity{}, statusError(resp.StatusCode, body)
	}
	return parseAnswer(body)
}

// hintOf is the token_type_hint for a kind; empty (no hint) for others.
func hintOf(k Kind) string {
	switch k {
	case KindToken:
		return TokenTypeAccess
	case KindAPIKey:
		return TokenTypeAPIKey
	}
	return ""
}

// statusError explains a non-200 answer. Gatehouse's error bodies never
// echo the token, but only the known error fields are kept anyway.
func statusError(code int, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Fault       string `json:"faultstring"`
	}
	_ = json.Unmarshal(body, &e)
	detail := strings.TrimSpace(strings.Join([]string{e.Error, e.Description, e.Fault}, " "))
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "…"
	}
	switch code {
	case http.StatusTooManyRequests:
		// Gatehouse answers every active credential, even to a caller
		// over its scanning allowance: a 429 is only ever for one that
		// would be "not active" (junk sent through this service).
		return fmt.Errorf("%w: Gatehouse refused to look it up (429 %s)", ErrInvalid, detail)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: Gatehouse refused this service's own credential (%d %s); "+
			"check Config and auth.service_users", ErrUnavailable, code, detail)
	}
	if detail != "" {
		return fmt.Errorf("%w: Gatehouse answered %d: %s", ErrUnavailable, code, detail)
	}
	return fmt.Errorf("%w: Gatehouse answered %d", ErrUnavailable, code)
}

// answer is the RFC 7662 response body.
type answer struct {
	Active    *bool          `json:"active"`
	Username  string         `json:"username"`
	Sub       string         `json:"sub"`
	TokenType string         `json:"token_type"`
	Exp       json.Number    `json:"exp"`
	Iat       json.Number    `json:"iat"`
	Groups    []string       `json:"groups"`
	Metadata  map[string]any `json:"metadata"`
	Scope     string         `json:"scope"`
}

// parseAnswer turns a 200 body into an Identity or ErrInvalid. Anything
// that is not a clear answer is ErrUnavailable, never a pass.
func parseAnswer(body []byte) (Identity, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return Identity{}, fmt.Errorf("%w: answer is not introspection JSON: %v", ErrUnavailable, err)
	}
	if a.Active == nil {
		return Identity{}, fmt.Errorf("%w: answer has no \"active\"", ErrUnavailable)
	}
	if !*a.Active {
		return Identity{}, ErrInvalid
	}
	id := Identity{Username: a.Username, Groups: a.Groups, TokenType: a.TokenType, Metadata: a.Metadata}
	sc, err := ParseScope(a.Scope)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	id.Scope = sc.String()
	if id.Username == "" {
		id.Username = a.Sub
	}
	if id.Username == "" {
		return Identity{}, fmt.Errorf("%w: active answer names no user", ErrUnavailable)
	}
	if id.ExpiresAt, err = unixTime(a.Exp); err != nil {
		return Identity{}, fmt.Errorf("%w: exp: %v", ErrUnavailable, err)
	}
	if id.IssuedAt, err = unixTime(a.Iat); err != nil {
		return Identity{}, fmt.Errorf("%w: iat: %v", ErrUnavailable, err)
	}
	return id, nil
}

// unixTime reads a NumericDate (seconds, possibly fractional); "" is zero.
func unixTime(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0), nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("not a number of seconds: %q", n)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
