package ldap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Backend checks passwords against an LDAP directory the way st2's LDAP
// backend does (see the package documentation). It is safe for concurrent
// use.
type Backend struct {
	s      settings
	log    *slog.Logger
	dialer dialer
	// service holds connections bound as the service account, for
	// searches; binds holds connections used only for user binds.
	service, binds *pool
	cache          *groupCache // nil when caching is off
	// decoyDN is bound with the given password when the user was not
	// found or is not in the groups, so that every refusal costs the same
	// round trips.
	decoyDN    string
	timeoutErr error
	// spendPassword is what Spend binds the decoy DN with: random, so
	// that it is nobody's password.
	spendPassword string
	// failing is set when an exchange with the directory failed and
	// cleared when one succeeds; Spend skips its work while it is set.
	failing atomic.Bool
}

var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Prober  = (*Backend)(nil)
)

// Factory builds the backend from st2-style backend_kwargs (see Config).
// Unknown options and missing required ones are errors naming the option.
// It does not contact the directory.
func Factory(kwargs map[string]any, log *slog.Logger) (backend.Backend, error) {
	cfg, err := decodeConfig(kwargs)
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	return New(cfg, log)
}

// New validates cfg and returns a backend. The directory is contacted only
// when a user logs in or Ready is called, so Gatehouse starts while it is
// down. A nil log discards log records.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", backend.OneLine(err))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Backend{
		s:             s,
		log:           log.With("backend", Name),
		dialer:        &netDialer{tls: s.tls, timeout: s.timeout},
		decoyDN:       "cn=gatehouse-no-such-user," + s.baseOU,
		timeoutErr:    fmt.Errorf("no answer from the directory within network_timeout (%v)", s.timeout),
		spendPassword: rand.Text(),
	}
	b.service = newPool(s.timeout, b.openService)
	b.binds = newPool(s.timeout, func(ctx context.Context) (conn, error) { return b.openAny(ctx, nil) })
	if s.cacheTTL > 0 {
		b.cache = newGroupCache(s.cacheTTL, s.cacheSize)
	}
	return b, nil
}

var _ backend.ReadyChecker = (*Backend)(nil)

// Ready opens a connection bound as the service account, as the first
// login would (and keeps it for that login), within network_timeout. Its
// error says which servers did not answer or refused the bind.
func (b *Backend) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeoutCause(ctx, b.s.timeout, b.timeoutErr)
	defer cancel()
	if err := b.service.do(ctx, func(conn) error { return nil }); err != nil {
		return fmt.Errorf("no LDAP server could be used: %w", err)
	}
	return nil
}

// Close closes the idle connections. The backend still works afterwards,
// without keeping connections.
func (b *Backend) Close() error {
	b.service.close()
	b.binds.close()
	return nil
}

// user is what the service account found out about a login name.
type user struct {
	found     bool
	ambiguous bool // several entries match: refused, but the name is the directory's
	dn        string
	name      string    // the id_attr value as stored
	groups    []string  // group DNs as the server returned them
	via       *endpoint // set when the entry came through a referral
}

// Authenticate checks username and password:
//
//  1. an empty password or user name is refused before any network call
//     (a simple bind with a DN and no password is an anonymous bind, which
//     servers report as a success);
//  2. on a pooled connection bound as the service account, the user is
//     searched with the escaped name in account_pattern: exactly one entry
//     must match;
//  3. the user's groups are searched (or taken from the cache) and checked
//     against group_dns;
//  4. the user's DN is bound with the password on another connection.
//
// Unknown users, ambiguous names, users outside the groups and wrong
// passwords all get backend.ErrInvalidCredentials, after the same number
// of round trips (a decoy bind stands in for the missing user bind).
// When the directory cannot be reached or does not answer within
// network_timeout (or ctx ends), the error wraps backend.ErrUnavailable.
//
// Identity.Username is the user's id_attr value as the directory stores
// it (so "ALICE" logs in as "alice"); Groups are all the user's group DNs.
func (b *Backend) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	return backend.Decide(b.Probe(ctx, username, password))
}

// Probe is Authenticate telling a name the directory does not have
// (Unknown) from a refused one (Refused). A name the directory knows is
// its own even when the login fails for another reason than the password:
// a user outside group_dns, or a name matching several entries, is
// Refused, so a chain never hands it to a later backend. Both verdicts
// cost the same round trips. An empty password or a name that is not
// backend.PlainName is Refused without a network call.
func (b *Backend) Probe(ctx context.Context, username, password string) (backend.Identity, backend.Verdict, error) {
	if password == "" || !backend.PlainName(username) {
		return backend.Identity{}, backend.Refused, nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, b.s.timeout, b.timeoutErr)
	defer cancel()
	u, err := b.findUser(ctx, username)
	if err != nil {
		return backend.Identity{}, backend.Refused, b.failed(err)
	}
	allowed := u.found && b.s.rules.allow(u.groups)
	if u.found && !allowed {
		b.log.Debug("ldap: user is not in the required groups", "user", u.name, "dn", u.dn, "groups", u.groups)
	}
	dn, via := b.decoyDN, (*endpoint)(nil)
	if allowed {
		dn, via = u.dn, u.via
	}
	refused, err := b.bindUser(ctx, via, dn, password)
	if err != nil {
		return backend.Identity{}, backend.Refused, b.failed(err)
	}
	b.failing.Store(false)
	switch {
	case !u.found && !u.ambiguous:
		return backend.Identity{}, backend.Unknown, nil
	case !allowed || refused:
		return backend.Identity{}, backend.Refused, nil
	}
	return backend.Identity{Username: u.name, Groups: u.groups}, backend.Accepted, nil
}

// spendName is the name Spend looks up: no directory has it, and if one
// did, its password would still not be spendPassword.
const spendName = "gatehouse-no-such-user"

// Spend does what refusing an unknown name costs: the user search, the
// decoy group search and the decoy bind, with a password no entry has.
// While the directory is failing (the last exchange with it failed),
// Spend returns at once: names that reach this backend then get
// ErrUnavailable, so waiting for a dead server would hide nothing and
// slow every login owned by an earlier link of the chain.
func (b *Backend) Spend(ctx context.Context) {
	if b.failing.Load() {
		return
	}
	_, _, _ = b.Probe(ctx, spendName, b.spendPassword)
}

// failed records that the directory could not be asked and wraps err
// with backend.ErrUnavailable.
func (b *Backend) failed(err error) error {
	b.failing.Store(true)
	return unavailable(err)
}

// unavailable wraps err with backend.ErrUnavailable.
func unavailable(err error) error {
	return fmt.Errorf("ldap: %w: %w", backend.ErrUnavailable, err)
}

// findUser searches the user and their groups as the service account.
// Not finding the user is not an error; not being able to ask is.
func (b *Backend) findUser(ctx context.Context, username string) (user, error) {
	var u user
	err := b.service.do(ctx, func(c conn) error {
		var err error
		u, err = b.lookup(ctx, c, username)
		return err
	})
	return u, err
}

// lookup does findUser's searches on c.
func (b *Backend) lookup(ctx context.Context, c conn, username string) (user, error) {
	entries, err := b.searchUser(ctx, c, username)
	if err != nil {
		return user{}, err
	}
	if len(entries) != 1 {
		if len(entries) > 1 {
			b.log.Warn("ldap: more than one entry matches the user name; refusing", "user", username)
		} else {
			b.log.Debug("ldap: no entry matches the user name", "user", username)
		}
		// Spend the group search an existing user would cost.
		_, err := b.searchGroups(ctx, c, b.decoyDN, username)
		return user{ambiguous: len(entries) > 1}, err
	}
	e := entries[0]
	u := user{found: true, dn: e.DN, name: canonicalName(e.Entry, b.s.idAttr, username), via: e.via}
	key := strings.ToLower(u.dn)
	if groups, ok := b.cachedGroups(key); ok {
		u.groups = groups
		return u, nil
	}
	if u.groups, err = b.searchGroups(ctx, c, u.dn, u.name); err != nil {
		return user{}, err
	}
	if b.cache != nil {
		b.cache.put(key, u.groups)
	}
	return u, nil
}

func (b *Backend) cachedGroups(key string) ([]string, bool) {
	if b.cache == nil {
		return nil, false
	}
	return b.cache.get(key)
}

// canonicalName is the user's id_attr value: the one equal to what was
// typed (ignoring case), or the first; typed if the entry has none.
func canonicalName(e *goldap.Entry, attr, typed string) string {
	values := e.GetEqualFoldAttributeValues(attr)
	for _, v := range values {
		if strings.EqualFold(v, typed) {
			return v
		}
	}
	if len(values) > 0 && values[0] != "" {
		return values[0]
	}
	return typed
}

// found is a search result entry and where it came from.
type found struct {
	*goldap.Entry
	via *endpoint // nil: the configured servers
}

// searchUser returns the entries matching username (at most two are
// asked for: more than one is a refusal anyway).
func (b *Backend) searchUser(ctx context.Context, c conn, username string) ([]found, error) {
	f, err := userFilter(b.s.accountPattern, username)
	if err != nil {
		return nil, err
	}
	req := b.searchRequest(b.s.baseOU, f, 2, []string{b.s.idAttr})
	res, err := c.Search(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		return make([]found, 2), nil // more than one
	}
	if err != nil {
		return nil, fmt.Errorf("search %q under %q: %w", f, b.s.baseOU, err)
	}
	return b.collect(ctx, res, req)
}

// searchGroups returns the DNs of the groups of the user with DN dn and
// name name.
func (b *Backend) searchGroups(ctx context.Context, c conn, dn, name string) ([]string, error) {
	f, err := groupFilter(b.s.groupPattern, dn, name)
	if err != nil {
		return nil, err
	}
	req := b.searchRequest(b.s.baseOUGroup, f, 0, []string{"1.1"})
	res, err := c.Search(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) && res != nil {
		b.log.Warn("ldap: the server limited the number of groups returned; using those it sent", "dn", dn, "groups", len(res.Entries))
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("search groups under %q: %w", b.s.baseOUGroup, err)
	}
	entries, err := b.collect(ctx, res, req)
	if err != nil {
		return nil, err
	}
	groups := make([]string, 0, len(entries))
	for _, e := range entries {
		groups = append(groups, e.DN)
	}
	return groups, nil
}

// searchRequest asks for entries under base, in the configured scope,
// bounded on the server side by network_timeout too.
func (b *Backend) searchRequest(base, filter string, sizeLimit int, attrs []string) *goldap.SearchRequest {
	timeLimit := int(math.Ceil(b.s.timeout.Seconds()))
	return goldap.NewSearchRequest(base, b.s.scope, goldap.NeverDerefAliases, sizeLimit, timeLimit,
		false, filter, attrs, nil)
}

// collect returns res's entries, skipping referrals, or following them one
// hop with chase_referrals.
func (b *Backend) collect(ctx context.Context, res *goldap.SearchResult, req *goldap.SearchRequest) ([]found, error) {
	out := make([]found, 0, len(res.Entries))
	for _, e := range res.Entries {
		if e.DN != "" {
			out = append(out, found{Entry: e})
		}
	}
	if len(res.Referrals) == 0 {
		return out, nil
	}
	if !b.s.chaseReferrals {
		b.log.Debug("ldap: skipping search references (chase_referrals is off)", "referrals", res.Referrals)
		return out, nil
	}
	for _, ref := range res.Referrals {
		more, err := b.chase(ctx, ref, req)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// chase runs req anonymously at the server and base a referral names,
// as libldap does for st2 with chase_referrals. Referrals found there are
// not followed.
func (b *Backend) chase(ctx context.Context, ref string, req *goldap.SearchRequest) ([]found, error) {
	ep, base, err := b.referralTarget(ref)
	if err != nil {
		return nil, fmt.Errorf("referral %q: %w", ref, err)
	}
	r := *req
	if base != "" {
		r.BaseDN = base
	}
	c, err := b.openOne(ctx, ep, nil)
	if err != nil {
		return nil, fmt.Errorf("referral %q: %w", ref, err)
	}
	defer c.Close()
	var res *goldap.SearchResult
	_, err = guarded(ctx, c, b.s.timeout, func(c conn) error {
		var err error
		res, err = c.Search(&r)
		if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) && res != nil {
			return nil // partial results are still results
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("referral %q: %w", ref, err)
	}
	out := make([]found, 0, len(res.Entries))
	for _, e := range res.Entries {
		if e.DN != "" {
			out = append(out, found{Entry: e, via: &ep})
		}
	}
	return out, nil
}

// referralTarget parses an LDAP URL from a search reference. With TLS
// configured, a plain ldap:// referral is upgraded with StartTLS, never
// followed in clear.
func (b *Backend) referralTarget(ref string) (endpoint, string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return endpoint{}, "", err
	}
	ep := endpoint{host: u.Hostname(), port: DefaultPort}
	switch strings.ToLower(u.Scheme) {
	case "ldaps":
		ep.ssl, ep.port = true, DefaultSSLPort
	case "ldap":
		ep.startTLS = b.s.secure
	default:
		return endpoint{}, "", fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if ep.host == "" {
		return endpoint{}, "", errors.New("no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return endpoint{}, "", fmt.Errorf("bad port %q", p)
		}
		ep.port = n
	}
	return ep, strings.TrimPrefix(u.Path, "/"), nil
}

// bindUser binds dn with password on a connection of the bind pool (or
// a new one to the referral's server). refused reports a refusal by the
// server; err, that it could not be asked.
func (b *Backend) bindUser(ctx context.Context, via *endpoint, dn, password string) (refused bool, err error) {
	fn := func(c conn) error {
		refused = false
		err := c.Bind(dn, password)
		if err == nil || isNetworkError(err) || isServerDown(err) {
			return err
		}
		refused = true
		b.log.Debug("ldap: bind refused", "dn", dn, "error", err.Error())
		return nil
	}
	if via == nil {
		err = b.binds.do(ctx, fn)
	} else {
		var c conn
		if c, err = b.openOne(ctx, *via, nil); err != nil {
			return false, err
		}
		_, err = guarded(ctx, c, b.s.timeout, fn)
		_ = c.Close()
	}
	if err != nil {
		return false, fmt.Errorf("bind: %w", err)
	}
	return refused, nil
}

// openService opens a connection bound as the service account.
func (b *Backend) openService(ctx context.Context) (conn, error) {
	return b.openAny(ctx, func(c conn) error {
		if err := c.Bind(b.s.bindDN, b.s.bindPassword); err != nil {
			return fmt.Errorf("bind as the service account %q: %w", b.s.bindDN, err)
		}
		return nil
	})
}

// openAny opens a connection to the first endpoint that works, in the
// configured order, and prepares it with prepare (if not nil).
func (b *Backend) openAny(ctx context.Context, prepare func(conn) error) (conn, error) {
	var errs []error
	for _, ep := range b.s.endpoints {
		c, err := b.openOne(ctx, ep, prepare)
		if err == nil {
			return c, nil
		}
		b.log.Debug("ldap: server failed", "server", ep.String(), "error", err.Error())
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, backend.OneLine(errors.Join(errs...))
}

// openOne opens a connection to ep and prepares it.
func (b *Backend) openOne(ctx context.Context, ep endpoint, prepare func(conn) error) (conn, error) {
	c, err := b.dialer.dial(ctx, ep)
	if err != nil {
		return nil, err
	}
	if prepare == nil {
		return c, nil
	}
	reusable, err := guarded(ctx, c, b.s.timeout, prepare)
	if err != nil || !reusable {
		_ = c.Close()
		if err == nil {
			err = net.ErrClosed
		}
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	return c, nil
}

var _ backend.NameFolder = (*Backend)(nil)

// FoldName spells username as the directory matches it: an id attribute
// such as uid or sAMAccountName compares case-insensitively, ignoring
// leading, trailing and repeated inner spaces (RFC 4518's insignificant
// space handling), so every spelling the directory finds one entry for
// folds to one name.
func (b *Backend) FoldName(username string) string {
	return strings.ToLower(strings.Join(strings.Fields(username), " "))
}
