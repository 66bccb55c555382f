package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// A service behind Gatehouse: it answers "hello <user>" with the caller's
// groups, and only to callers with a token or API key that Gatehouse calls
// active. Here an httptest server stands in for Gatehouse's introspection
// endpoint; against a real Gatehouse, URL is its address and APIKey the
// service's own key, whose user must be in auth.service_users (or
// auth.admin_users).
func Example() {
	gatehouse := httptest.NewServer(standInGatehouse("service-key"))
	defer gatehouse.Close()

	// 1. One middleware per process, with the service's own credential.
	mw, err := authn.New(authn.Config{URL: gatehouse.URL, APIKey: "service-key"})
	if err != nil {
		log.Fatal(err)
	}
	// 2. Put the application behind it.
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// 3. Who is asking: always there behind the middleware.
		id, _ := authn.FromContext(r.Context())
		groups := "none"
		if len(id.Groups) > 0 {
			groups = strings.Join(id.Groups, ", ")
		}
		fmt.Fprintf(w, "hello %s (%s), groups: %s\n", id.Username, id.TokenType, groups)
	})
	app := httptest.NewServer(mw.Handler(hello))
	defer app.Close()

	// Callers present a token or an API key, in a header or (webhooks) in
	// the query string, as they would to StackStorm.
	get := func(path, header, value string) {
		req, _ := http.NewRequest("GET", app.URL+path, nil)
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	get("/", authn.HeaderToken, "joe-token")
	get("/hook?st2-api-key=ci-key", "", "")
	get("/", authn.HeaderToken, "revoked-token")
	get("/", "", "")
	// When Gatehouse cannot be asked, nobody gets through.
	gatehouse.Close()
	get("/", authn.HeaderToken, "ann-token")
	// Output:
	// 200 hello joe (access_token), groups: ops, dev
	// 200 hello ci (api_key), groups: none
	// 401 {"faultstring":"Unauthorized"}
	// 401 {"faultstring":"Unauthorized - One of Token or API key required."}
	// 503 {"faultstring":"Authentication service unavailable."}
}

// standInGatehouse answers POST /auth/v1/introspect as Gatehouse would
// (RFC 7662) for a service presenting serviceKey: joe's and ann's tokens
// and the ci user's API key are active, anything else is not.
func standInGatehouse(serviceKey string) http.Handler {
	now := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Path != authn.IntrospectPath {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if r.Header.Get(authn.HeaderAPIKey) != serviceKey {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		answer := map[string]any{"active": false}
		switch r.PostFormValue("token") {
		case "joe-token", "ann-token":
			user := strings.TrimSuffix(r.PostFormValue("token"), "-token")
			answer = map[string]any{"active": true, "username": user, "token_type": authn.TokenTypeAccess,
				"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "groups": []string{"ops", "dev"}}
		case "ci-key":
			answer = map[string]any{"active": true, "username": "ci", "token_type": authn.TokenTypeAPIKey,
				"iat": now.Unix(), "groups": []string{}}
		}
		_ = json.NewEncoder(w).Encode(answer)
	})
}

// A service's main: the middleware with the service's API key from the
// environment, a server with timeouts, and a graceful stop on SIGTERM. It
// needs a running Gatehouse, so it is only compiled here.
func ExampleNew() {
	mw, err := authn.New(authn.Config{
		URL:    "http://127.0.0.1:9100",
		APIKey: os.Getenv("GATEHOUSE_API_KEY"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", id.Username)
	})))
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// Extract finds a request's credential in StackStorm's order; the first
// one present is the only one that counts.
func ExampleExtract() {
	r := httptest.NewRequest("GET", "/hook?st2-api-key=key-1", nil)
	c, ok := authn.Extract(r)
	fmt.Println(ok, c.Kind, "in", c.Location)

	r.Header.Set(authn.HeaderToken, "token-1")
	c, _ = authn.Extract(r)
	fmt.Println(c.Kind, "in", c.Location, "wins")
	// Output:
	// true API key in query
	// authentication token in header wins
}
