package loadgen

import "math/rand/v2"

// Weighted is one choice of a Mix and its weight.
type Weighted[T any] struct {
	Item   T
	Weight int
}

// Mix is a weighted choice, e.g. the request kinds of a soak and their
// shares out of 100.
type Mix[T any] []Weighted[T]

// Total is the sum of the weights.
func (m Mix[T]) Total() int {
	n := 0
	for _, w := range m {
		n += w.Weight
	}
	return n
}

// Pick returns the item that r, in [0, Total()), falls on: the first
// Weight values go to the first item, and so on.
func (m Mix[T]) Pick(r int) T {
	for _, w := range m {
		if r < w.Weight {
			return w.Item
		}
		r -= w.Weight
	}
	var zero T
	return zero
}

// Random picks an item at random, each with probability Weight/Total.
func (m Mix[T]) Random() T { return m.Pick(rand.IntN(m.Total())) }
