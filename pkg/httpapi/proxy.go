package httpapi

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Auth modes, as st2 names them.
const (
	ModeStandalone = "standalone"
	ModeProxy      = "proxy"
)

// proxyUser is the user an authenticating front proxy vouches for, in proxy
// mode: Remote-User, else X-Forwarded-User, else the user part of a Basic
// header (st2's CLI talks to st2auth directly; the password is the proxy's
// business). Unlike st2, these are believed only from a peer inside
// auth.proxy_trusted_cidrs; from anywhere else they are ignored.
func (s *Server) proxyUser(r *http.Request) (backend.Identity, bool) {
	if !s.trusted(peerAddr(r)) {
		return backend.Identity{}, false
	}
	user := r.Header.Get("Remote-User")
	if user == "" {
		user = r.Header.Get("X-Forwarded-User")
	}
	if user == "" {
		user, _, _ = ParseBasic(r.Header.Get("Authorization"))
	}
	if !validUsername(user) {
		return backend.Identity{}, false
	}
	return backend.Identity{Username: user}, true
}
