package httpapi

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// login finds out who is asking for a token: the trusted proxy's user in
// proxy mode, else a Kerberos ticket (Authorization: Negotiate, when the
// kerberos backend is configured), else the password in the Basic
// credentials (auth.Service.Login, which is handed an empty user when
// they cannot be read). With Kerberos on, a 401 offers Negotiate.
func (s *Server) login(w http.ResponseWriter, r *http.Request) (backend.Identity, error) {
	if s.cfg.Mode == auth.ModeProxy {
		return s.auth.LoginProxy(r.Context(), s.proxyUser(r))
	}
	if token, ok := negotiateToken(r); ok && s.auth.Negotiates() {
		id, err := s.loginNegotiate(w, r, token)
		s.offerNegotiate(w, err)
		return id, err
	}
	user, password, _ := parseBasic(r.Header.Get("Authorization"))
	id, err := s.auth.Login(r.Context(), user, password)
	s.offerNegotiate(w, err)
	return id, err
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
