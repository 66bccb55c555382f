package httpapi

import (
	"net/http"
)

// proxyUser is the user an authenticating front proxy vouches for, in proxy
// mode: Remote-User, else X-Forwarded-User, else the user part of a Basic
// header (st2's CLI talks to st2auth directly; the password is the proxy's
// business). Unlike st2, these are believed only from a peer inside
// auth.proxy_trusted_cidrs; from anywhere else they are ignored and the
// name is "", which auth.Service.LoginProxy refuses, as it refuses a name
// no backend could hold.
func (s *Server) proxyUser(r *http.Request) string {
	if !s.trusted(peerAddr(r)) {
		return ""
	}
	user := r.Header.Get("Remote-User")
	if user == "" {
		user = r.Header.Get("X-Forwarded-User")
	}
	if user == "" {
		user, _, _ = parseBasic(r.Header.Get("Authorization"))
	}
	return user
}
