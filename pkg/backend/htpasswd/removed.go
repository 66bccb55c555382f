package htpasswd

import (
	"context"
	"fmt"
	"time"
)

// defaultSettle is how long a name must stay missing from the file before
// it counts as removed. Editors and tools that rewrite the file in place
// (Apache's htpasswd copies its temporary file over the original) leave it
// briefly truncated; a name missing for that moment and back at the next
// look must not cost its user every token and key.
const defaultSettle = time.Second

// removals tracks the names that left the file. Backend.reloadMu guards it.
type removals struct {
	last    *table                   // the last table loaded; nil before the first
	missing map[string]time.Duration // name → when it was first seen missing
	removed []string                 // confirmed and not yet reported
	changed []string                 // names whose hash changed, not yet reported
}

// observe compares t, what the file holds now (nil if it cannot be read),
// with the last table it saw, at time now (since Backend.start). A name
// that disappears is "missing"; it becomes "removed" once a look at least
// settle later still does not find it, and is forgotten if it comes back
// before that. An unreadable file teaches nothing: it is neither an empty
// file nor a removal.
func (r *removals) observe(t *table, now, settle time.Duration) {
	if t == nil {
		return
	}
	if r.last != nil && r.last != t {
		for name, old := range r.last.users {
			h, kept := t.users[name]
			switch {
			case !kept:
				r.markMissing(name, now)
			case h.value != old.value:
				r.changed = append(r.changed, name)
			}
		}
	}
	r.last = t
	for name, since := range r.missing {
		_, back := t.users[name]
		switch {
		case back:
			delete(r.missing, name)
		case now-since >= settle:
			delete(r.missing, name)
			r.removed = append(r.removed, name)
		}
	}
}

func (r *removals) markMissing(name string, now time.Duration) {
	if r.missing == nil {
		r.missing = map[string]time.Duration{}
	}
	if _, already := r.missing[name]; !already {
		r.missing[name] = now
	}
}

// Removed implements backend.RemovalReporter: it looks at the file now
// (whatever the check interval) and returns the names that left it and
// stayed out for at least a second, each once, in no particular order. A
// name removed and put back within about a second is not reported; nor is
// anything while the file cannot be read. Removals made while no process
// was watching (before New) are not seen.
func (b *Backend) Removed(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	b.reloadMu.Lock()
	defer b.reloadMu.Unlock()
	b.look()
	out := b.removals.removed
	b.removals.removed = nil
	return out, nil
}

// PasswordsChanged implements backend.PasswordChangeReporter: it looks at
// the file now and returns the names whose hash changed since the last
// call, each once. Changes made while no process was watching are not seen.
func (b *Backend) PasswordsChanged(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	b.reloadMu.Lock()
	defer b.reloadMu.Unlock()
	b.look()
	out := b.removals.changed
	b.removals.changed = nil
	return out, nil
}
