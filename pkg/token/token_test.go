package token_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

func TestHashAPIKeyMatchesST2(t *testing.T) {
	// Vector from st2's fixture st2tests/fixtures/generic/apikeys/apikey1.yaml.
	const want = "ec81d4a56f5987b0ae1cff6e152459986e873d6604637fc70d85c0a0daf131b0a830ccd5b6454cc0c95c0ba6e6655933c993325eb3a28bc43af6c1d801a7c1e8"
	if got := token.HashAPIKey("1234"); got != want {
		t.Fatalf("HashAPIKey(1234) = %s, want %s", got, want)
	}
}

func TestShapes(t *testing.T) {
	tests := []struct {
		name string
		make func() string
		re   string
	}{
		{"token", token.NewToken, `^[0-9a-f]{32}$`},
		{"api key", token.NewAPIKey, `^[0-9A-Za-z]{86}$`},
		{"id", func() string { return token.NewID(time.Now()) }, `^[0-9a-f]{24}$`},
		{"token hash", func() string { return token.HashToken(token.NewToken()) }, `^[0-9a-f]{64}$`},
		{"key hash", func() string { return token.HashAPIKey(token.NewAPIKey()) }, `^[0-9a-f]{128}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.re)
			seen := map[string]bool{}
			for range 1000 {
				v := tt.make()
				if !re.MatchString(v) {
					t.Fatalf("%q does not match %s", v, tt.re)
				}
				if seen[v] {
					t.Fatalf("%q made twice", v)
				}
				seen[v] = true
			}
		})
	}
}

func TestAPIKeyAlphabetIsUniform(t *testing.T) {
	counts := map[rune]int{}
	const keys = 2000
	for range keys {
		for _, c := range token.NewAPIKey() {
			counts[c]++
		}
	}
	if len(counts) != 62 {
		t.Fatalf("saw %d distinct characters, want 62", len(counts))
	}
	mean := float64(keys*token.APIKeyLen) / 62
	for c, n := range counts {
		if float64(n) < mean*0.85 || float64(n) > mean*1.15 {
			t.Errorf("character %q seen %d times, mean %.0f", c, n, mean)
		}
	}
}

func TestIsIDAndKeyHash(t *testing.T) {
	if !token.IsID(token.NewID(time.Now())) || token.IsID("zz") || token.IsID("574840001878C10D0B6E8FBF") {
		t.Fatal("IsID wrong")
	}
	if !token.IsKeyHash(token.HashAPIKey("x")) || token.IsKeyHash("********") {
		t.Fatal("IsKeyHash wrong")
	}
}
