package main

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
)

// picker chooses which of the seeded tokens a request asks about: the
// same one every time (the validation cache's best case), uniformly at
// random (nearly every request misses the cache), or Zipf-distributed (a
// few hot tokens, many cold ones, as real consumers see).
type picker struct {
	mu     sync.Mutex
	rng    *rand.Rand
	zipf   *rand.Zipf
	n      uint64
	prefix string
}

// newPicker returns a picker over the tokens prefix+1 … prefix+n, or nil
// when n is 0 (the body is sent as given).
func newPicker(dist, prefix string, n int, s float64, seed int64) (*picker, error) {
	if n <= 0 {
		return nil, nil
	}
	p := &picker{rng: rand.New(rand.NewSource(seed)), n: uint64(n), prefix: prefix}
	switch dist {
	case "uniform":
	case "zipf":
		if s <= 1 {
			return nil, fmt.Errorf("-zipf-s must be > 1, got %v", s)
		}
		p.zipf = rand.NewZipf(p.rng, s, 1, p.n-1)
	default:
		return nil, fmt.Errorf("-dist %q: want uniform or zipf", dist)
	}
	return p, nil
}

// next is the next token's number, 1 … n.
func (p *picker) next() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.zipf != nil {
		return p.zipf.Uint64() + 1
	}
	return p.rng.Uint64()%p.n + 1
}

// body is the request body with every {token} replaced by the next token.
func (p *picker) body(template string) string {
	return strings.ReplaceAll(template, "{token}", fmt.Sprintf("%s%d", p.prefix, p.next()))
}
