package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// stores runs f on the embedded default and on PostgreSQL.
func stores(t *testing.T, f func(t *testing.T, opts ...option)) {
	t.Run("sqlite", func(t *testing.T) { f(t) })
	t.Run("postgres", func(t *testing.T) { f(t, onPostgres) })
}

func TestTokensAndKeysSurviveRestart(t *testing.T) {
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		tok := h.tokenFor("joe")
		key := h.createKey(tok, `{}`)["key"].(string)
		h.restart()
		if r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: asToken(tok)}); r.status != 200 {
			t.Errorf("token after restart: %d %s", r.status, r.body)
		}
		if r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: map[string]string{"St2-Api-Key": key}}); r.status != 200 {
			t.Errorf("key after restart: %d %s", r.status, r.body)
		}
	})
}

func TestDatabaseHoldsNoSecrets(t *testing.T) {
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		var secrets []string
		for range 3 {
			tok := h.tokenFor("joe")
			secrets = append(secrets, tok, h.createKey(tok, `{}`)["key"].(string))
		}
		storetest.AssertStoreHasNoSecrets(t, h.store, secrets...)
	})
}

func TestHtpasswdFormatsAndLiveEdits(t *testing.T) {
	h := newHarness(t)
	// Fixture lines from st2's flat_file backend tests: password testpassword.
	lines := []string{
		"# comment line",
		"",
		"apr:$apr1$gJ0z2JpS$jgDGBf1i66t1ehVCUttdl/",
		"sha:{SHA}i7YRj4/Wk1rQh2o740pxfTJwj/0=",
		"des:8TBeGtbfjQ.R2",
		"plain:testpassword",
	}
	f, err := os.OpenFile(h.htpasswd, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	login := func(user, pw string) int {
		r := h.do(req{method: "POST", path: "/tokens", header: map[string]string{"Authorization": basic(user, pw)}})
		return r.status
	}
	deadline := time.Now().Add(5 * time.Second)
	for login("sha", "testpassword") != 201 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for _, tt := range []struct {
		user, pw string
		want     int
	}{
		{"sha", "testpassword", 201}, {"sha", "wrong", 401},
		{"apr", "testpassword", 201}, {"apr", "wrong", 401},
		{"des", "testpassword", 201}, {"des", "wrongpassword", 401},
		{"plain", "testpassword", 401},
		{"joe", testUsers["joe"], 201},
	} {
		if got := login(tt.user, tt.pw); got != tt.want {
			t.Errorf("%s/%s: %d, want %d", tt.user, tt.pw, got, tt.want)
		}
	}
}

// TestPostgresDownIs503 cuts the connection between Gatehouse and PostgreSQL
// with a proxy, checks that requests get a quick 503 and never a token, then
// restores it and checks that the service recovers without a restart.
func TestPostgresDownIs503(t *testing.T) {
	h := newHarness(t, onPostgres)
	u, err := url.Parse(h.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := newTCPProxy(t, u.Host)
	h.dbURL = p.rewrite(t, h.dbURL)
	h.restart()
	tok := h.tokenFor("joe")

	p.cut()
	start := time.Now()
	r := h.do(req{method: "POST", path: "/tokens", header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}})
	if r.status != 503 || time.Since(start) > 3*time.Second {
		t.Fatalf("login with database down: %d %s after %s", r.status, r.body, time.Since(start))
	}
	if r := h.do(req{method: "GET", path: "/readyz"}); r.status != 503 {
		t.Errorf("readyz with database down: %d", r.status)
	}
	if r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: asToken(tok)}); r.status != 503 {
		t.Errorf("authenticated call with database down: %d %s", r.status, r.body)
	}

	p.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: asToken(tok)})
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 10 s after the database returned: %d %s", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tcpProxy forwards connections to a target until cut.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.accept()
	return p
}

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.serve(c)
	}
}

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// cut refuses new connections and drops the open ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// rewrite points a postgres URL at the proxy.
func (p *tcpProxy) rewrite(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// slowStore makes every token lookup take delay, or fail when ctx ends first.
type slowStore struct {
	store.Store
	delay atomic.Int64
}

func (s *slowStore) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	select {
	case <-time.After(time.Duration(s.delay.Load())):
	case <-ctx.Done():
		return store.Token{}, store.Unavailable(ctx.Err())
	}
	return s.Store.TokenByHash(ctx, hash)
}

// StoreTimeout bounds the store calls of a request together, so that a
// request making several calls to a slow database is a 503 within about
// StoreTimeout, not a multiple of it.
func TestStoreTimeoutBoundsTheWholeRequest(t *testing.T) {
	const delay = 300 * time.Millisecond
	var st *slowStore
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.StoreTimeout = delay * 3 / 2 }), func(h *harness) {
		h.wrapStore = func(s store.Store) store.Store { st = &slowStore{Store: s}; return st }
	})
	svc := map[string]string{"X-Auth-Token": h.tokenFor("svc")}
	joe := h.tokenFor("joe")
	h.restart() // an empty validation cache: every lookup reaches the store
	st.delay.Store(int64(delay))

	// One lookup fits in StoreTimeout…
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(joe)}); r.status != 200 {
		t.Fatalf("one slow lookup: %d %s", r.status, r.body)
	}
	// …the caller's and the token's together do not (both miss the cache:
	// svc's token was never looked up since the restart).
	if r := h.introspect(svc, form(h.tokenFor("joe"), "")); r.status != 503 {
		t.Fatalf("two slow lookups in one request: %d %s, want 503", r.status, r.body)
	}
}
