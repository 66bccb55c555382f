package main

import (
	"strings"
	"testing"
)

func TestPicker(t *testing.T) {
	if p, err := newPicker("uniform", "seed", 0, 0, 1); p != nil || err != nil {
		t.Fatalf("no tokens: %v, %v", p, err)
	}
	if _, err := newPicker("zipf", "seed", 10, 1, 1); err == nil {
		t.Error("zipf with s = 1 accepted")
	}
	if _, err := newPicker("gauss", "seed", 10, 0, 1); err == nil {
		t.Error("an unknown distribution accepted")
	}
	for _, dist := range []string{"uniform", "zipf"} {
		p, err := newPicker(dist, "seed", 1000, 1.1, 1)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[uint64]int{}
		for range 100_000 {
			n := p.next()
			if n < 1 || n > 1000 {
				t.Fatalf("%s: token %d outside 1…1000", dist, n)
			}
			counts[n]++
		}
		top := counts[1] + counts[2] + counts[3]
		t.Logf("%s: %d distinct, top three %d of 100000", dist, len(counts), top)
		if dist == "zipf" && top < 20_000 {
			t.Errorf("zipf: the three hottest tokens got %d of 100000 requests", top)
		}
		if dist == "uniform" && top > 1000 {
			t.Errorf("uniform: the first three tokens got %d of 100000 requests", top)
		}
	}
	p, _ := newPicker("uniform", "seed", 5, 0, 1)
	if b := p.body("token={token}&x={token}"); !strings.HasPrefix(b, "token=seed") || strings.Contains(b, "{token}") {
		t.Errorf("body %q", b)
	}
}
