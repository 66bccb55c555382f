package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/ui"
)

// mountUI serves the web page under /ui/ and sends / there.
func (s *Server) mountUI(r chi.Router) {
	page := ui.New(ui.Config{
		Auth: s.auth, SetCookie: s.SetSessionCookie, ClearCookie: s.ClearSessionCookie,
		SameOrigin: s.sameOrigin, BaseURL: s.baseURL, Logger: s.log,
		Status: func(err error) int { return toError(err).Status },
	})
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		r.Method(m, "/ui", page)
		r.Method(m, "/ui/*", page)
	}
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
	})
}

// baseURL is the scheme and host the client used to reach us.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if s.overHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + s.publicHost(r)
}
