package chain

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Spec is one entry of auth.backends: a registered backend name and its
// backend_kwargs.
type Spec struct {
	Name   string
	Kwargs map[string]any
}

// Open builds each spec's backend through reg, in order, and chains them
// with New. If a backend cannot be built, or New refuses the chain, the
// backends already built are closed and the error names the failing entry.
func Open(reg *backend.Registry, specs []Spec, breakGlass []string, log *slog.Logger) (*Chain, error) {
	links := make([]Link, 0, len(specs))
	for i, s := range specs {
		b, err := reg.Open(s.Name, s.Kwargs, log)
		if err != nil {
			return nil, backend.OneLine(errors.Join(fmt.Errorf("chain: backend %d of %d: %w", i+1, len(specs), err), closeAll(links)))
		}
		links = append(links, Link{Name: s.Name, Backend: b})
	}
	c, err := New(links, breakGlass, log)
	if err != nil {
		return nil, backend.OneLine(errors.Join(err, closeAll(links)))
	}
	return c, nil
}

// closeAll closes the links that are io.Closers.
func closeAll(links []Link) error {
	var errs []error
	for _, l := range links {
		if c, ok := l.Backend.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return backend.OneLine(errors.Join(errs...))
}
