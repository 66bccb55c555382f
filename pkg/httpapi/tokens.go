package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// expiryLayout is st2's isotime format: UTC, six fractional digits, Z.
const expiryLayout = "2006-01-02T15:04:05.000000Z"

// tokenResponse is st2's TokenAPI.
type tokenResponse struct {
	ID       string         `json:"id"`
	User     string         `json:"user"`
	Token    string         `json:"token"`
	Expiry   string         `json:"expiry"`
	Metadata map[string]any `json:"metadata"`
	Service  bool           `json:"service"`
}

// tokenRequest is what a token request's body may ask for.
type tokenRequest struct {
	ttl         *big.Int // nil: the default
	impersonate bool     // "user" was given
	user        string   // the user asked for
}

// issueToken is POST /auth/v1/tokens: Basic credentials in, a token out.
// As in st2 the body is validated first, then the credentials, then the TTL
// against the maximum.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	req, err := parseTokenRequest(r)
	if err != nil {
		return err
	}
	id, err := s.login(r)
	if err != nil {
		return err
	}
	return s.issueFor(w, r, id, req)
}

// issueFor makes and stores a token for an authenticated identity.
func (s *Server) issueFor(w http.ResponseWriter, r *http.Request, id backend.Identity, req tokenRequest) error {
	issuer := id.Username
	metadata := map[string]any{}
	if req.impersonate && req.user != id.Username {
		if err := s.mayImpersonate(issuer, req.user); err != nil {
			return err
		}
		id = backend.Identity{Username: req.user}
		metadata["impersonated_by"] = issuer
	} else if req.impersonate && !s.isService(issuer) {
		return errNotService
	}
	service := s.isService(id.Username)
	ttl, err := s.tokenTTL(req.ttl, service)
	if err != nil {
		return err
	}
	plain, t, err := s.storeNewToken(r, id, metadata, service, ttl)
	if err != nil {
		return err
	}
	s.metrics.issued.Inc()
	attrs := []slog.Attr{slog.String("token_id", t.ID), slog.String("expiry", t.ExpiresAt.Format(expiryLayout)),
		slog.Bool("service", t.Service), slog.String("issued_by", issuer)}
	if by, ok := metadata["impersonated_by"].(string); ok {
		attrs = append(attrs, slog.String("impersonated_by", by))
	}
	s.audit(r, auditTokenIssued, outcomeSuccess, t.User, attrs...)
	w.Header().Set("X-API-URL", s.cfg.APIURL)
	writeJSON(w, http.StatusCreated, tokenResponse{
		ID: t.ID, User: t.User, Token: plain, Expiry: t.ExpiresAt.Format(expiryLayout),
		Metadata: t.Metadata, Service: t.Service,
	})
	return nil
}

// errNotService is st2's refusal of "user" from a non-service account.
var errNotService = badRequest("Current user is not a service and cannot request impersonated tokens")

// mayImpersonate says whether caller may have a token issued to user: only
// service accounts may, and never to an admin unless
// auth.impersonate_admins allows it (an admin token could mint permanent
// admin keys).
func (s *Server) mayImpersonate(caller, user string) error {
	if !s.isService(caller) {
		return errNotService
	}
	if s.isAdmin(user) && !s.cfg.ImpersonateAdmins {
		return newError(http.StatusForbidden, "Service accounts may not impersonate admin users.")
	}
	return nil
}

// storeNewToken mints a token and stores its hash. An id or hash collision
// (2^-64 and 2^-128 odds) is retried once rather than shown to the client.
func (s *Server) storeNewToken(r *http.Request, id backend.Identity, metadata map[string]any, service bool, ttl time.Duration) (string, store.Token, error) {
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	var err error
	for range 2 {
		now := s.now().Truncate(time.Microsecond)
		plain := token.NewToken()
		t := store.Token{
			ID: token.NewID(now), Hash: token.HashToken(plain), User: id.Username, Groups: id.Groups,
			Metadata: metadata, Service: service, CreatedAt: now, ExpiresAt: now.Add(ttl),
		}
		if err = s.cfg.Store.CreateToken(ctx, t); !errors.Is(err, store.ErrAlreadyExists) {
			return plain, t, err
		}
	}
	return "", store.Token{}, fmt.Errorf("token collision twice: %w", err)
}

// tokenTTL applies the default and the maximum. A user's token may live at
// most token_ttl; a service account's defaults to service_token_ttl, which
// may exceed token_ttl (st2#3314).
func (s *Server) tokenTTL(asked *big.Int, service bool) (time.Duration, error) {
	def, limit := s.cfg.TokenTTL, s.cfg.TokenTTL
	if service {
		def, limit = s.cfg.ServiceTokenTTL, max(s.cfg.TokenTTL, s.cfg.ServiceTokenTTL)
	}
	if asked == nil {
		return def, nil
	}
	maxSec := big.NewInt(int64(limit / time.Second))
	if asked.Cmp(maxSec) > 0 {
		return 0, badRequest("TTL specified %s is greater than max allowed %s.", asked, maxSec)
	}
	return time.Duration(asked.Int64()) * time.Second, nil
}

// parseTokenRequest validates the body of a token request.
func parseTokenRequest(r *http.Request) (tokenRequest, error) {
	body, err := readObject(r)
	if err != nil {
		return tokenRequest{}, err
	}
	v, present := body["ttl"]
	ttl, _, err := ParseTTL(v, present)
	if err != nil {
		return tokenRequest{}, err
	}
	req := tokenRequest{ttl: ttl}
	if u, present := body["user"]; present && u != nil {
		name, ok := u.(string)
		if !ok {
			return tokenRequest{}, badRequest("%s is not of type 'string'", pyRepr(u))
		}
		if !validUsername(name) {
			return tokenRequest{}, badRequest("Could not locate user %s", name)
		}
		req.user, req.impersonate = name, true
	}
	return req, nil
}

// validateToken is POST /auth/v1/tokens/validate: st2's check of another
// token by an authenticated caller.
func (s *Server) validateToken(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.authenticate(r); err != nil {
		return err
	}
	body, err := readObject(r)
	if err != nil {
		return err
	}
	v := body["token"]
	plain, isString := v.(string)
	if v != nil && !isString {
		return badRequest("%s is not of type 'string', 'null'", pyRepr(v))
	}
	if plain == "" {
		return badRequest("Token is not provided.")
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	t, err := s.cfg.Store.TokenByHash(ctx, token.HashToken(plain))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusOK, map[string]bool{"valid": false})
		return nil
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": t.ExpiresAt.After(s.now())})
	return nil
}
