package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Link is one backend of a chain, under the name it is configured with
// (e.g. "ldap"), which Identity.Backend reports.
type Link struct {
	Name    string
	Backend backend.Backend
}

// Chain asks its links in order; see the package documentation. It is
// safe for concurrent use if its links are.
type Chain struct {
	links []link
	log   *slog.Logger
}

// link is a Link with what Authenticate needs ready.
type link struct {
	Link
	prober backend.Prober  // nil for a last link that is not a Prober
	glass  map[string]bool // the break-glass names, as this link folds them
}

var (
	_ backend.Backend         = (*Chain)(nil)
	_ backend.NameFolder      = (*Chain)(nil)
	_ backend.RemovalReporter = (*Chain)(nil)
	_ io.Closer               = (*Chain)(nil)
)

// New chains links, asked in order. Every link must have a name and a
// backend, and every link but the last must be a backend.Prober: a
// backend that cannot tell whether it knows a name (pam) would either
// shadow every later link or hand them its users' wrong passwords.
// breakGlass lists the names (auth.break_glass_users) that later links
// may still serve while an earlier one cannot be reached. A nil log
// discards log records.
func New(links []Link, breakGlass []string, log *slog.Logger) (*Chain, error) {
	if err := validate(links, breakGlass); err != nil {
		return nil, fmt.Errorf("chain: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Chain{log: log}
	for _, l := range links {
		p, _ := l.Backend.(backend.Prober)
		glass := map[string]bool{}
		for _, name := range breakGlass {
			glass[backend.FoldName(l.Backend, name)] = true
		}
		c.links = append(c.links, link{Link: l, prober: p, glass: glass})
	}
	return c, nil
}

// validate reports every problem of New's arguments at once.
func validate(links []Link, breakGlass []string) error {
	if len(links) == 0 {
		return errors.New("no backends")
	}
	var errs []error
	for i, l := range links {
		switch {
		case l.Name == "":
			errs = append(errs, fmt.Errorf("backend %d of %d has no name", i+1, len(links)))
		case l.Backend == nil:
			errs = append(errs, fmt.Errorf("backend %q (%d of %d) is nil", l.Name, i+1, len(links)))
		case i < len(links)-1 && !isProber(l.Backend):
			errs = append(errs, fmt.Errorf("backend %q (%d of %d) cannot tell whether it knows a user name, so it must be the last", l.Name, i+1, len(links)))
		}
	}
	for _, name := range breakGlass {
		if !backend.PlainName(name) {
			errs = append(errs, fmt.Errorf("break-glass user %q: not a user name", name))
		}
	}
	return backend.OneLine(errors.Join(errs...))
}

func isProber(b backend.Backend) bool {
	_, ok := b.(backend.Prober)
	return ok
}

// Authenticate asks the links in order until one owns username, and
// returns its answer with Identity.Backend set to that link's name (when
// the link left it empty). See the package documentation for outages,
// break-glass users and timing.
//
// A chain of one link is that backend: its answers, unchanged but for
// Identity.Backend. A longer chain refuses an empty password and a name
// that is not backend.PlainName at once, with ErrInvalidCredentials (no
// backend accepts them), and a done ctx with ErrUnavailable.
func (c *Chain) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	if len(c.links) == 1 {
		l := c.links[0]
		return l.answer(l.Backend.Authenticate(ctx, username, password))
	}
	if err := ctx.Err(); err != nil {
		return backend.Identity{}, fmt.Errorf("chain: %w: %w", backend.ErrUnavailable, err)
	}
	if password == "" || !backend.PlainName(username) {
		return backend.Identity{}, backend.ErrInvalidCredentials
	}
	for i, l := range c.links {
		id, v, err := l.probe(ctx, username, password)
		if err != nil {
			return c.breakGlass(ctx, i, username, password, err)
		}
		if v != backend.Unknown {
			c.spend(ctx, i+1)
			return l.answer(backend.Decide(id, v, nil))
		}
	}
	return backend.Identity{}, backend.ErrInvalidCredentials
}

// breakGlass answers after link i could not be asked (cause): the links
// after it are tried only if username is a break-glass name as each of
// them folds it; any other name, or a break-glass name no later link
// owns, gets cause (ErrUnavailable or ErrBusy).
func (c *Chain) breakGlass(ctx context.Context, i int, username, password string, cause error) (backend.Identity, error) {
	down := c.links[i].Name
	for _, l := range c.links[i+1:] {
		if !l.glass[backend.FoldName(l.Backend, username)] {
			continue
		}
		c.log.Warn("chain: a backend is unavailable; trying a break-glass user on a later one",
			"user", username, "unavailable", down, "backend", l.Name)
		id, v, err := l.probe(ctx, username, password)
		if err == nil && v != backend.Unknown {
			return l.answer(backend.Decide(id, v, nil))
		}
	}
	return backend.Identity{}, fmt.Errorf("chain: backend %q: %w", down, cause)
}

// spend makes the links from index from on do the work of a refusal, so
// that a name owned early costs what one owned late costs.
func (c *Chain) spend(ctx context.Context, from int) {
	for _, l := range c.links[from:] {
		if l.prober != nil {
			l.prober.Spend(ctx)
		}
	}
}

// probe asks l, through Authenticate when l is not a Prober: a refusal is
// then Refused, since such a link is last and nobody else could own the
// name.
func (l link) probe(ctx context.Context, username, password string) (backend.Identity, backend.Verdict, error) {
	if l.prober != nil {
		return l.prober.Probe(ctx, username, password)
	}
	id, err := l.Backend.Authenticate(ctx, username, password)
	switch {
	case err == nil:
		return id, backend.Accepted, nil
	case errors.Is(err, backend.ErrInvalidCredentials):
		return backend.Identity{}, backend.Refused, nil
	}
	return backend.Identity{}, backend.Refused, err
}

// answer names l in a successful identity that names no backend yet.
func (l link) answer(id backend.Identity, err error) (backend.Identity, error) {
	if err == nil && id.Backend == "" {
		id.Backend = l.Name
	}
	return id, err
}

// FoldName folds username as the first link that folds names does (LDAP:
// case and spaces), or returns it unchanged when none does. The throttle
// counts failures under it before any link is asked, so the owner is not
// known yet; folding with the most lenient link only merges counters of
// spellings (a flat file's "Frank" and "frank" share one), which makes the
// throttle stricter, never looser.
func (c *Chain) FoldName(username string) string {
	for _, l := range c.links {
		if f, ok := l.Backend.(backend.NameFolder); ok {
			return f.FoldName(username)
		}
	}
	return username
}

// Removed merges the reports of the links that are RemovalReporters. A
// name that left one link is reported even if another link still has it:
// tokens do not record which link issued them, so the user is cut off and
// logs in again. Names already collected are returned with an error.
func (c *Chain) Removed(ctx context.Context) ([]string, error) {
	var names []string
	var errs []error
	for _, l := range c.links {
		rr, ok := l.Backend.(backend.RemovalReporter)
		if !ok {
			continue
		}
		removed, err := rr.Removed(ctx)
		names = append(names, removed...)
		if err != nil {
			errs = append(errs, fmt.Errorf("chain: backend %q: %w", l.Name, err))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), backend.OneLine(errors.Join(errs...))
}

// PasswordsChanged merges the reports of the links that are
// backend.PasswordChangeReporters.
func (c *Chain) PasswordsChanged(ctx context.Context) ([]string, error) {
	var names []string
	var errs []error
	for _, l := range c.links {
		pc, ok := l.Backend.(backend.PasswordChangeReporter)
		if !ok {
			continue
		}
		changed, err := pc.PasswordsChanged(ctx)
		names = append(names, changed...)
		if err != nil {
			errs = append(errs, fmt.Errorf("chain: backend %q: %w", l.Name, err))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), backend.OneLine(errors.Join(errs...))
}

// Close closes every link that is an io.Closer and returns their errors.
func (c *Chain) Close() error {
	var errs []error
	for _, l := range c.links {
		if cl, ok := l.Backend.(io.Closer); ok {
			if err := cl.Close(); err != nil {
				errs = append(errs, fmt.Errorf("chain: close backend %q: %w", l.Name, err))
			}
		}
	}
	return backend.OneLine(errors.Join(errs...))
}
