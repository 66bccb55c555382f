package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// TokenRequest is what the caller of Issue asks for.
type TokenRequest struct {
	// TTL is the lifetime asked for, in seconds, as the client wrote it
	// (any number of digits); nil asks for the default.
	TTL *big.Int
	// User, when set, asks for a token on behalf of that user: service
	// accounts only (st2's impersonation).
	User string
}

// Issued is a token just made. Secret is shown once and never stored.
type Issued struct {
	Token  store.Token
	Secret string
}

// Issue makes and stores a token for an identity that has just logged in.
// A token for another user (req.User) is refused unless id is a service
// account (EINVALID, st2's text) and, for an admin user, unless
// Config.ImpersonateAdmins (EFORBIDDEN); it carries
// "impersonated_by" in its metadata. A TTL past the maximum is EINVALID.
func (s *Service) Issue(ctx context.Context, id backend.Identity, req TokenRequest) (Issued, error) {
	issuer := id.Username
	metadata := map[string]any{}
	if req.User != "" && req.User != id.Username {
		if err := s.mayImpersonate(issuer, req.User); err != nil {
			return Issued{}, err
		}
		id = backend.Identity{Username: req.User}
		metadata["impersonated_by"] = issuer
	} else if req.User != "" && !s.IsService(issuer) {
		return Issued{}, errNotService
	}
	// Which link of a chain authenticated the user is kept with the
	// token; with one backend there is nothing to tell, and the token's
	// metadata stays {} as st2 clients know it.
	if id.Backend != "" && id.Backend != s.cfg.BackendName {
		metadata[MetaBackend] = id.Backend
	}
	service := s.IsService(id.Username)
	ttl, err := s.tokenTTL(req.TTL, service)
	if err != nil {
		return Issued{}, err
	}
	plain, t, err := s.storeNewToken(ctx, id, metadata, service, false, ttl)
	if err != nil {
		return Issued{}, err
	}
	s.metrics.issued.Inc()
	s.auditIssued(ctx, t, issuer)
	return Issued{Token: t, Secret: plain}, nil
}

func (s *Service) auditIssued(ctx context.Context, t store.Token, issuer string) {
	attrs := []slog.Attr{slog.String("token_id", t.ID), slog.String("expiry", t.ExpiresAt.Format(TimeLayout)),
		slog.Bool("service", t.Service), slog.String("issued_by", issuer),
		slog.String("backend", metaString(t.Metadata, MetaBackend))}
	if t.Session {
		attrs = append(attrs, logSession(true))
	}
	if by, ok := t.Metadata["impersonated_by"].(string); ok {
		attrs = append(attrs, slog.String("impersonated_by", by))
	}
	s.audit(ctx, auditTokenIssued, outcomeSuccess, t.User, attrs...)
}

// errNotService is st2's refusal of "user" from a non-service account.
var errNotService = Errorf(EINVALID, "Current user is not a service and cannot request impersonated tokens")

// mayImpersonate says whether caller may have a token issued to user: only
// service accounts may, and never to an admin unless
// auth.impersonate_admins allows it (an admin token could mint permanent
// admin keys).
func (s *Service) mayImpersonate(caller, user string) error {
	if !s.IsService(caller) {
		return errNotService
	}
	if s.IsAdmin(user) && !s.cfg.ImpersonateAdmins {
		return Errorf(EFORBIDDEN, "Service accounts may not impersonate admin users.")
	}
	return nil
}

// storeNewToken mints a token and stores its hash. An id or hash collision
// (2^-64 and 2^-128 odds) is retried once rather than shown to the client.
func (s *Service) storeNewToken(ctx context.Context, id backend.Identity, metadata map[string]any, service, session bool, ttl time.Duration) (string, store.Token, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	var err error
	for range 2 {
		now := s.now().Truncate(time.Microsecond)
		plain := token.NewToken()
		t := store.Token{
			ID: token.NewID(now), Hash: token.HashToken(plain), User: id.Username, Groups: id.Groups,
			Metadata: metadata, Service: service, CreatedAt: now, ExpiresAt: now.Add(ttl), Session: session,
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
func (s *Service) tokenTTL(asked *big.Int, service bool) (time.Duration, error) {
	def, limit := s.cfg.TokenTTL, s.cfg.TokenTTL
	if service {
		def, limit = s.cfg.ServiceTokenTTL, max(s.cfg.TokenTTL, s.cfg.ServiceTokenTTL)
	}
	if asked == nil {
		return def, nil
	}
	maxSec := big.NewInt(int64(limit / time.Second))
	if asked.Cmp(maxSec) > 0 {
		return 0, Errorf(EINVALID, "TTL specified %s is greater than max allowed %s.", asked, maxSec)
	}
	return time.Duration(asked.Int64()) * time.Second, nil
}

// ValidToken reports whether a token with that secret exists and has not
// expired, asking the store (st2's validate, for another token than the
// caller's).
func (s *Service) ValidToken(ctx context.Context, plain string) (bool, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	t, err := s.cfg.Store.TokenByHash(ctx, token.HashToken(plain))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return t.ExpiresAt.After(s.now()), nil
}
