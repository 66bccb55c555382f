package backend

import (
	"fmt"
	"log/slog"
	"sort"
)

// Factory builds a Backend from its backend_kwargs. It must reject unknown
// kwargs and missing required ones with an error naming the option.
type Factory func(kwargs map[string]any, log *slog.Logger) (Backend, error)

// Registry maps backend names to factories. It is filled once at start-up
// (see cmd/gatehouse/backends.go) and read-only afterwards.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[string]Factory{}}
}

// Register adds a factory. Like sql.Register, it panics if f is nil or the
// name is already taken: both are programming errors.
func (r *Registry) Register(name string, f Factory) {
	if f == nil {
		panic("backend: Register factory is nil for " + name)
	}
	if _, dup := r.factories[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	r.factories[name] = f
}

// Lookup returns the factory registered under name.
func (r *Registry) Lookup(name string) (Factory, bool) {
	f, ok := r.factories[name]
	return f, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.factories))
	for n := range r.factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open builds the backend registered under name.
func (r *Registry) Open(name string, kwargs map[string]any, log *slog.Logger) (Backend, error) {
	f, ok := r.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown backend %q (known: %v)", name, r.Names())
	}
	b, err := f(kwargs, log)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", name, err)
	}
	return b, nil
}
