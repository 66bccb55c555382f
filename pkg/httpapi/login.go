package httpapi

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// login finds out who is asking for a token: the trusted proxy's user in
// proxy mode, else the password in the Basic credentials (auth.Service.Login,
// which is handed an empty user when they cannot be read).
func (s *Server) login(r *http.Request) (backend.Identity, error) {
	if s.cfg.Mode == auth.ModeProxy {
		return s.auth.LoginProxy(r.Context(), s.proxyUser(r))
	}
	user, password, _ := parseBasic(r.Header.Get("Authorization"))
	return s.auth.Login(r.Context(), user, password)
}

// authenticate finds the caller of a route: its token or API key in the
// usual places, else HTTP Basic through auth.Service.LoginCaller. Store
// failures are returned as they are (503). A caller with only the session
// cookie must pass the CSRF check for anything but GET, HEAD and OPTIONS.
func (s *Server) authenticate(r *http.Request) (auth.Principal, error) {
	if cred, ok := authn.Extract(r); ok {
		if cred.Location == authn.InCookie {
			if err := s.checkCSRF(r, cred.Value); err != nil {
				return auth.Principal{}, err
			}
		}
		return s.auth.Check(r.Context(), cred)
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !asciiEqualFold(scheme, "basic") {
		return auth.Principal{}, auth.ErrNoCredential
	}
	user, password, _ := parseBasic(r.Header.Get("Authorization"))
	return s.auth.LoginCaller(r.Context(), user, password)
}
