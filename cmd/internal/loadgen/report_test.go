package loadgen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// TestReportFormat pins the tables docs/RELIABILITY.md quotes.
func TestReportFormat(t *testing.T) {
	r := &loadgen.Report{Title: "pg-stop: PostgreSQL stopped under load"}
	r.Fig("fault applied in", "%s", loadgen.Ms(154600*time.Microsecond))
	r.Fig("logins", "%s", loadgen.StatusCounts([]loadgen.Sample{{Status: 503}, {Status: 201}, {Status: 201}, {}}))
	r.Bar("every 503 within 2.00 s", true, "max 1505.7 ms", "< 2.00 s")
	r.Bar("no 500", false, "3", "0")
	r.Pending("LDAP scenario", "pending: no slapd")
	var b strings.Builder
	r.Print(&b)
	want := `
### pg-stop: PostgreSQL stopped under load

| figure | measured |
| --- | --- |
| fault applied in | 154.6 ms |
| logins | no answer: 1 · 201: 2 · 503: 1 |

| bar | measured | limit | result |
| --- | --- | --- | --- |
| every 503 within 2.00 s | max 1505.7 ms | < 2.00 s | met |
| no 500 | 3 | 0 | **MISSED** |
| LDAP scenario | pending: no slapd | - | PENDING |
`
	if b.String() != want {
		t.Errorf("Print:\n%s\nwant:\n%s", b.String(), want)
	}
	if r.Missed() != 1 || len(r.Bars()) != 3 {
		t.Errorf("Missed %d, bars %d; want 1, 3", r.Missed(), len(r.Bars()))
	}
}

func TestSummary(t *testing.T) {
	ok := &loadgen.Report{Title: "kill9"}
	ok.Bar("0 lost", true, "0", "0")
	bad := &loadgen.Report{Title: "ldap"}
	bad.Bar("503 within 2.5 s", false, "max 4550.0 ms", "< 2.50 s")
	bad.Pending("other", "why")
	var b strings.Builder
	if n := loadgen.Summary(&b, []*loadgen.Report{ok, bad}); n != 1 {
		t.Errorf("Summary = %d, want 1", n)
	}
	want := `
### Summary

| scenario | bars met | missed | pending |
| --- | --- | --- | --- |
| kill9 | 1 | 0 | 0 |
| ldap | 0 | 1 | 1 |

Missed:
- ldap: 503 within 2.5 s — measured max 4550.0 ms, limit < 2.50 s
`
	if b.String() != want {
		t.Errorf("Summary:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormats(t *testing.T) {
	ref := time.Unix(1000, 0)
	for _, tt := range []struct{ got, want string }{
		{loadgen.Ms(1500 * time.Microsecond), "1.5 ms"},
		{loadgen.Secs(2160 * time.Millisecond), "2.16 s"},
		{loadgen.MsOrNever(-1), "never seen"},
		{loadgen.MsOrNever(13500 * time.Microsecond), "13.5 ms"},
		{loadgen.RelTo(ref.Add(13500*time.Microsecond), ref), "+13.5 ms"},
		{loadgen.RelTo(ref.Add(-2*time.Millisecond), ref), "-2.0 ms"},
		{loadgen.RelTo(time.Time{}, ref), "never"},
		{loadgen.StatusCounts(nil), "none"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestMix(t *testing.T) {
	m := loadgen.Mix[string]{{"a", 35}, {"b", 5}, {"c", 60}}
	if m.Total() != 100 {
		t.Fatalf("Total = %d", m.Total())
	}
	for _, tt := range []struct {
		r    int
		want string
	}{{0, "a"}, {34, "a"}, {35, "b"}, {39, "b"}, {40, "c"}, {99, "c"}, {100, ""}} {
		if got := m.Pick(tt.r); got != tt.want {
			t.Errorf("Pick(%d) = %q, want %q", tt.r, got, tt.want)
		}
	}
	n := map[string]int{}
	for range 10000 {
		n[m.Random()]++
	}
	if n["a"] < 3000 || n["a"] > 4000 || n["b"] < 300 || n["b"] > 700 {
		t.Errorf("10,000 picks: %v, want about 3500 / 500 / 6000", n)
	}
}
