package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"

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
	plain, t, err := s.storeNewToken(ctx, id, metadata, s.IsService(id.Username), true, s.cfg.TokenTTL)
	if err != nil {
		return Issued{}, err
	}
	s.metrics.issued.Inc()
	s.auditIssued(ctx, t, id.Username)
	return Issued{Token: t, Secret: plain}, nil
}

// csrfLabel is what a session's CSRF token is the MAC of.
const csrfLabel = "gatehouse-csrf"

// CSRFToken is the anti-CSRF token of the session with that secret (the
// cookie's value): base64url(HMAC-SHA256(key = secret, "gatehouse-csrf")).
// It needs no state, so every replica computes the same one, and only who
// holds the HttpOnly cookie (the page, through /auth/v1/me or a form the
// server rendered) can know it. It reveals nothing of the secret.
func CSRFToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether got is the CSRF token of
// the session with that secret.
func CheckCSRF(sessionSecret, got string) bool {
	want := CSRFToken(sessionSecret)
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// logSession is the audit attribute of a session token.
func logSession(session bool) slog.Attr { return slog.Bool("session", session) }
