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
// failures are returned as they are (503).
func (s *Server) authenticate(r *http.Request) (auth.Principal, error) {
	if cred, ok := authn.Extract(r); ok {
		p, err := s.auth.Check(r.Context(), cred)
		if err != nil {
			return p, err
		}
		return p, pathLimited(p, r)
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !asciiEqualFold(scheme, "basic") {
		return auth.Principal{}, auth.ErrNoCredential
	}
	user, password, _ := parseBasic(r.Header.Get("Authorization"))
	return s.auth.LoginCaller(r.Context(), user, password)
}

// pathLimited refuses (403) a credential limited to some paths (a webhook
// key, path:/hooks/a) on a Gatehouse route outside them: such a key was
// made for one place and manages nothing here. Its read or write level is
// the domain's to check, since introspection and revocation are POSTs
// that change nothing of the caller's.
func pathLimited(p auth.Principal, r *http.Request) error {
	sc := p.ParsedScope()
	if len(sc.Paths) == 0 {
		return nil
	}
	if (authn.Scope{Paths: sc.Paths}).Allows(http.MethodGet, r.URL.EscapedPath()) {
		return nil
	}
	return forbidden("The credential's scope %q does not allow this route.", p.Scope)
}
