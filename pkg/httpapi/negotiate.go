package httpapi

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// negotiateToken returns the token of an `Authorization: Negotiate
// <base64>` header (RFC 4559), and whether the header uses that scheme.
// A token that is not base64 is handed on as it is, so that the one
// ticket check refuses it, counts it and audits it like any bad ticket.
func negotiateToken(r *http.Request) ([]byte, bool) {
	scheme, encoded, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !asciiEqualFold(scheme, "negotiate") {
		return nil, false
	}
	encoded = strings.TrimSpace(encoded)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return []byte(encoded), true
	}
	return raw, true
}

// loginNegotiate logs in the holder of a Kerberos ticket through
// auth.Service.LoginNegotiate and sets the mutual-authentication reply.
func (s *Server) loginNegotiate(w http.ResponseWriter, r *http.Request, token []byte) (backend.Identity, error) {
	id, reply, err := s.auth.LoginNegotiate(r.Context(), token)
	if err != nil {
		return backend.Identity{}, err
	}
	w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(reply))
	return id, nil
}

// offerNegotiate adds `WWW-Authenticate: Negotiate` to a 401 of the token
// route when Kerberos is on, so that clients (curl --negotiate, browsers)
// know to send a ticket.
func (s *Server) offerNegotiate(w http.ResponseWriter, err error) {
	if err != nil && s.auth.Negotiates() && toError(err).Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Negotiate")
	}
}
