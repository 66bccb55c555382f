package httpapi_test

import (
	"context"
	"fmt"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
	"github.com/jackc/pgx/v5"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// benchServer is the real handler over a real store and htpasswd file at
// bcrypt cost 10 (htpasswd -B's default), called in-process so that the
// figures are the service's own cost, not the loopback's.
func benchServer(b *testing.B, dbURL string) (*httpapi.Server, string) {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "htpasswd")
	if err := htpasswd.SetUser(path, "joe", "bench-password", bcrypt.DefaultCost); err != nil {
		b.Fatal(err)
	}
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(dir, "gatehouse.db")
	}
	st, err := storeopen.Open(b.Context(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	be, err := htpasswd.New(htpasswd.Config{FilePath: path}, log)
	if err != nil {
		b.Fatal(err)
	}
	return httpapi.NewServer(httpapi.Config{Store: st, Backend: be, Logger: log}), path
}

func serve(b *testing.B, h http.Handler, r *http.Request, want int) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
	}
	return w
}

func issueRequest() *http.Request {
	r := httptest.NewRequest("POST", "/auth/v1/tokens", nil)
	r.SetBasicAuth("joe", "bench-password")
	return r
}

// BenchmarkIssueToken is POST /auth/v1/tokens through the flat_file backend
// at bcrypt cost 10, storing into SQLite (synchronous=FULL). Compare with
// BenchmarkRawBcrypt10 from the same run.
func BenchmarkIssueToken(b *testing.B) {
	api, _ := benchServer(b, "")
	for b.Loop() {
		serve(b, api, issueRequest(), http.StatusCreated)
	}
}

// BenchmarkRawBcrypt10 is the baseline: one bcrypt.CompareHashAndPassword
// at cost 10, the floor any password login pays.
func BenchmarkRawBcrypt10(b *testing.B) {
	hash, err := bcrypt.GenerateFromPassword([]byte("bench-password"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := bcrypt.CompareHashAndPassword(hash, []byte("bench-password")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateToken is an authenticated POST /auth/v1/tokens/validate:
// the caller's token and the token in the body are each looked up by hash.
func BenchmarkValidateToken(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			url := ""
			if db == "postgres" {
				url = pgtest.URL(b)
			}
			api, _ := benchServer(b, url)
			tok := tokenFrom(serve(b, api, issueRequest(), http.StatusCreated))
			body := fmt.Sprintf(`{"token": %q}`, tok)
			for b.Loop() {
				r := httptest.NewRequest("POST", "/auth/v1/tokens/validate", strings.NewReader(body))
				r.Header.Set("X-Auth-Token", tok)
				serve(b, api, r, http.StatusOK)
			}
		})
	}
}

// BenchmarkBareHandler is the floor for any request: a chi router answering
// a fixed JSON body, measured the same way.
func BenchmarkBareHandler(b *testing.B) {
	r := chi.NewRouter()
	r.Post("/auth/v1/tokens/validate", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"valid":true}`))
	})
	for b.Loop() {
		serve(b, r, httptest.NewRequest("POST", "/auth/v1/tokens/validate", strings.NewReader(`{}`)), http.StatusOK)
	}
}

func tokenFrom(w *httptest.ResponseRecorder) string {
	s := w.Body.String()
	i := strings.Index(s, `"token":"`) + len(`"token":"`)
	return s[i : i+32]
}

// BenchmarkIntrospect is POST /auth/v1/introspect of a valid token by a
// service account, in-process, with the production middleware (CORS
// defaults, metrics, access log to a discarding logger).
func BenchmarkIntrospect(b *testing.B) {
	api, path := benchServer(b, "")
	if err := htpasswd.SetUser(path, "svc", "svc-password", 4); err != nil {
		b.Fatal(err)
	}
	st := api.Config().Store
	svcAPI := httpapi.NewServer(httpapi.Config{Store: st, Backend: api.Config().Backend,
		Logger: api.Config().Logger, ServiceUsers: []string{"svc"},
		AllowedOrigins: []string{"http://127.0.0.1:3000", "http://localhost:8080"}})
	login := func(user, pw string) string {
		r := httptest.NewRequest("POST", "/auth/v1/tokens", nil)
		r.SetBasicAuth(user, pw)
		return tokenFrom(serve(b, svcAPI, r, http.StatusCreated))
	}
	var svc string
	for deadline := time.Now().Add(5 * time.Second); svc == ""; {
		r := httptest.NewRequest("POST", "/auth/v1/tokens", nil)
		r.SetBasicAuth("svc", "svc-password")
		w := httptest.NewRecorder()
		svcAPI.ServeHTTP(w, r)
		if w.Code == http.StatusCreated {
			svc = tokenFrom(w)
		} else if time.Now().After(deadline) {
			b.Fatal("svc never appeared in the htpasswd file")
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	joe := login("joe", "bench-password")
	body := "token=" + joe
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/auth/v1/introspect", strings.NewReader(body))
		r.Header.Set("X-Auth-Token", svc)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		serve(b, svcAPI, r, http.StatusOK)
	}
}

// BenchmarkIntrospectMiss is introspection of a random one of 200,000
// tokens in PostgreSQL by a service account whose own token is cached: the
// cache-miss path of issue 18 (the validation cache holds about a quarter
// of them). Its baseline is BenchmarkTokenByHash in pkg/store/postgres.
func BenchmarkIntrospectMiss(b *testing.B) {
	url := pgtest.URL(b)
	api, _ := benchServer(b, url)
	const n = 200_000
	conn, err := pgx.Connect(b.Context(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(b.Context(), `INSERT INTO tokens (id, token_hash, username, created_at, expires_at)
		SELECT lpad(to_hex(g), 24, '0'), encode(sha256(('seed' || g)::bytea), 'hex'), 'user' || (g % 1000), now(), now() + interval '1 day'
		FROM generate_series(1, $1::int) g`, n); err != nil {
		b.Fatal(err)
	}
	st := api.Config().Store
	svc := token.NewToken()
	now := time.Now()
	if err := st.CreateToken(b.Context(), store.Token{ID: token.NewID(now), Hash: token.HashToken(svc), User: "svc",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	svcAPI := httpapi.NewServer(httpapi.Config{Store: st, Backend: api.Config().Backend,
		Logger: api.Config().Logger, ServiceUsers: []string{"svc"}})
	// The cache of a shared store is used only while the revocation
	// listener is connected, as in the running service.
	ctx, stop := context.WithCancel(b.Context())
	done := make(chan struct{})
	go func() { defer close(done); svcAPI.Run(ctx) }()
	b.Cleanup(func() { stop(); <-done })
	time.Sleep(time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		body := "token=seed" + strconv.Itoa(1+rng.IntN(n))
		r := httptest.NewRequest("POST", "/auth/v1/introspect", strings.NewReader(body))
		r.Header.Set("X-Auth-Token", svc)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		serve(b, svcAPI, r, http.StatusOK)
	}
}
