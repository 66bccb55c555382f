package auth

import (
	"context"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// IssueSession makes and stores a browser session for an identity that has
// just logged in: a password checked by Login, or a single sign-on login
// (OIDC) that brings an Identity and no password. A session is a token
// like any other (store.Token.Session set): the user's token TTL, the same
// revocation on every replica, the same audit line (with session=true).
// Nothing here is throttled: the login before it was.
func (s *Service) IssueSession(ctx context.Context, id backend.Identity) (Issued, error) {
	if !ValidUsername(id.Username) {
		return Issued{}, ErrInvalidCredentials
	}
	metadata := map[string]any{}
	if id.Backend != "" && id.Backend != s.cfg.BackendName {
		metadata[MetaBackend] = id.Backend
	}
	// A session is for a person at a browser: always the user TTL, even
	// for a service account, whose tokens may live much longer.
	nt := newToken{metadata: metadata, service: s.IsService(id.Username), scope: authn.ScopeWrite, session: true}
	plain, t, err := s.storeNewToken(ctx, id, nt, s.cfg.TokenTTL)
	if err != nil {
		return Issued{}, err
	}
	s.metrics.issued.Inc()
	s.auditIssued(ctx, t, id.Username)
	return Issued{Token: t, Secret: plain}, nil
}

// CSRFToken is authn.CSRFToken: the anti-CSRF token of the session with
// that secret (the cookie's value).
func CSRFToken(sessionSecret string) string { return authn.CSRFToken(sessionSecret) }

// CheckCSRF is authn.CheckCSRF.
func CheckCSRF(sessionSecret, got string) bool { return authn.CheckCSRF(sessionSecret, got) }

// logSession is the audit attribute of a session token.
func logSession(session bool) slog.Attr { return slog.Bool("session", session) }
