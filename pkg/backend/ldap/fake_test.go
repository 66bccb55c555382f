package ldap

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// fakeDir is a tiny in-memory directory behind fake connections, for the
// unit tests of the login logic. The real behaviour is tested against
// slapd in ldap_test.go.
type fakeDir struct {
	mu       sync.Mutex
	users    map[string]fakeUser // by DN
	groups   map[string][]string // group DN -> member DNs
	dials    int
	binds    []string // DNs, in order
	searches []string // filters, in order
	// hook, if set, runs before each operation; an error is returned as
	// the operation's result.
	hook func(op string, c *fakeConn) error
	// down makes dialing fail.
	down bool
}

type fakeUser struct {
	uid      string
	password string
}

func newFakeDir() *fakeDir {
	return &fakeDir{
		users: map[string]fakeUser{
			"uid=alice,ou=people,dc=example,dc=org": {"alice", "alice-pw"},
			"uid=bob,ou=people,dc=example,dc=org":   {"bob", "bob-pw"},
			"uid=twin,ou=a,dc=example,dc=org":       {"twin", "twin-pw"},
			"uid=twin,ou=b,dc=example,dc=org":       {"twin", "twin-pw"},
			"cn=svc,dc=example,dc=org":              {"", "svc-pw"},
		},
		groups: map[string][]string{
			"cn=ops,ou=groups,dc=example,dc=org": {"uid=alice,ou=people,dc=example,dc=org"},
			"cn=dev,ou=groups,dc=example,dc=org": {"uid=alice,ou=people,dc=example,dc=org", "uid=bob,ou=people,dc=example,dc=org"},
		},
	}
}

func (d *fakeDir) dial(ctx context.Context, ep endpoint) (conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return nil, errors.New("connection refused")
	}
	d.dials++
	return &fakeConn{dir: d, healthy: true, aborted: make(chan struct{})}, nil
}

func (d *fakeDir) counts() (dials, binds, searches int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials, len(d.binds), len(d.searches)
}

func (d *fakeDir) bindsOf(dn string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, b := range d.binds {
		if b == dn {
			n++
		}
	}
	return n
}

type fakeConn struct {
	dir       *fakeDir
	mu        sync.Mutex
	healthy   bool
	closed    bool
	aborted   chan struct{}
	abortOnce sync.Once
}

func (c *fakeConn) run(op string) error {
	c.mu.Lock()
	ok := c.healthy
	c.mu.Unlock()
	if !ok {
		return goldap.NewError(goldap.ErrorNetwork, errors.New("ldap: connection closed"))
	}
	if h := c.dir.hook; h != nil {
		return h(op, c)
	}
	return nil
}

// kill makes the connection fail from now on, like a server restart.
func (c *fakeConn) kill() {
	c.mu.Lock()
	c.healthy = false
	c.mu.Unlock()
}

func (c *fakeConn) Bind(dn, password string) error {
	c.dir.mu.Lock()
	c.dir.binds = append(c.dir.binds, dn)
	c.dir.mu.Unlock()
	if err := c.run("bind"); err != nil {
		return err
	}
	u, ok := c.dir.users[strings.ToLower(dn)]
	if !ok || u.password != password {
		return goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("invalid credentials"))
	}
	return nil
}

func (c *fakeConn) Search(req *goldap.SearchRequest) (*goldap.SearchResult, error) {
	c.dir.mu.Lock()
	c.dir.searches = append(c.dir.searches, req.Filter)
	c.dir.mu.Unlock()
	if err := c.run("search"); err != nil {
		return nil, err
	}
	res := &goldap.SearchResult{}
	if strings.HasPrefix(req.Filter, "(uid=") {
		// (uid=NAME): compare escaped forms, as a server would unescape.
		want := strings.TrimSuffix(strings.TrimPrefix(req.Filter, "(uid="), ")")
		for dn, u := range c.dir.users {
			if u.uid != "" && strings.EqualFold(goldap.EscapeFilter(u.uid), want) {
				res.Entries = append(res.Entries, goldap.NewEntry(dn, map[string][]string{"uid": {u.uid}}))
			}
		}
		if req.SizeLimit > 0 && len(res.Entries) > req.SizeLimit {
			return res, goldap.NewError(goldap.LDAPResultSizeLimitExceeded, errors.New("size limit"))
		}
		return res, nil
	}
	for g, members := range c.dir.groups {
		for _, m := range members {
			if strings.Contains(req.Filter, "(member="+goldap.EscapeFilter(m)+")") {
				res.Entries = append(res.Entries, goldap.NewEntry(g, nil))
			}
		}
	}
	return res, nil
}

func (c *fakeConn) SetTimeout(time.Duration) {}

func (c *fakeConn) Healthy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.healthy && !c.closed
}

func (c *fakeConn) Abort() {
	c.kill()
	c.abortOnce.Do(func() { close(c.aborted) })
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

// newFakeBackend returns a backend over dir, with kwargs on top of a
// minimal valid configuration.
func newFakeBackend(t *testing.T, dir *fakeDir, kwargs map[string]any) *Backend {
	t.Helper()
	kw := map[string]any{
		"bind_dn":         "cn=svc,dc=example,dc=org",
		"bind_password":   "svc-pw",
		"base_ou":         "dc=example,dc=org",
		"host":            "ldap.example.org",
		"group_dns":       []any{"cn=ops,ou=groups,dc=example,dc=org"},
		"network_timeout": 1,
	}
	for k, v := range kwargs {
		if v == nil {
			delete(kw, k)
		} else {
			kw[k] = v
		}
	}
	cfg, err := decodeConfig(kw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.dialer = dir
	t.Cleanup(func() { _ = b.Close() })
	return b
}
