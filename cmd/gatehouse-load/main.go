// Command gatehouse-load is the loopback load generator behind `make bench`
// (`make soak` and `make faults` use cmd/gatehouse-faults, which checks
// every answer): it drives one HTTP request shape at a server, either as
// fast as a fixed number of workers can (closed loop, for throughput) or at
// a fixed rate (open loop, for latency at a given load), and prints one JSON
// line of figures. `gatehouse-load bare` serves the baseline: a bare chi
// handler answering a fixed JSON body.
//
// The loops, the pacing and the latency histogram are cmd/internal/loadgen's,
// shared with cmd/gatehouse-faults; percentiles are exact to 2% (never
// below the true value), the maximum exact. It only ever connects to
// loopback addresses (loadgen's client refuses any other), and every run
// is bounded by -duration.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// subcommands are the servers and probes besides the load loop.
var subcommands = map[string]func([]string) error{
	"bare":           serveBare,
	"pgref":          servePGRef,
	"revoke-latency": revokeLatency,
}

func main() {
	if len(os.Args) > 1 {
		if sub, ok := subcommands[os.Args[1]]; ok {
			if err := sub(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "gatehouse-load %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	if err := load(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-load:", err)
		os.Exit(1)
	}
}

// serveBare serves the baseline handler and prints its address.
func serveBare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	_ = fs.Parse(args)
	r := chi.NewRouter()
	body := []byte(`{"active":true,"username":"joe","sub":"joe","token_type":"access_token","exp":1795535468,"iat":1795449068,"groups":[],"metadata":{}}`)
	r.Post("/auth/v1/introspect", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return (&http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
}

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

type config struct {
	url, method, body string
	header            headers
	workers           int
	rate              float64
	duration          time.Duration
	expect            int
	tokens            *picker // nil: the body as given
}

func load(args []string) error {
	var c config
	fs := flag.NewFlagSet("gatehouse-load", flag.ExitOnError)
	fs.StringVar(&c.url, "url", "", "target URL (loopback)")
	fs.StringVar(&c.method, "method", "POST", "method")
	fs.StringVar(&c.body, "body", "", "request body")
	fs.Var(&c.header, "H", "header 'Name: value' (repeatable)")
	fs.IntVar(&c.workers, "c", 32, "concurrent workers")
	fs.Float64Var(&c.rate, "rate", 0, "requests per second (open loop); 0 = as fast as the workers go")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long")
	fs.IntVar(&c.expect, "expect", 200, "expected status; any other counts as an error")
	n := fs.Int("tokens", 0, "replace {token} in -body with PREFIX1 … PREFIXn, drawn per -dist (0: send the body as given)")
	dist := fs.String("dist", "uniform", "uniform or zipf")
	zipfS := fs.Float64("zipf-s", 1.1, "Zipf exponent s (> 1)")
	prefix := fs.String("prefix", "seed", "token prefix")
	seed := fs.Int64("seed", 1, "random seed")
	_ = fs.Parse(args)
	if c.url == "" {
		return fmt.Errorf("-url is required")
	}
	var err error
	if c.tokens, err = newPicker(*dist, *prefix, *n, *zipfS, *seed); err != nil {
		return err
	}
	res := run(c)
	return json.NewEncoder(os.Stdout).Encode(res)
}

type result struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	Rate     float64 `json:"target_rate,omitempty"`
	Workers  int     `json:"workers"`
	Seconds  float64 `json:"seconds"`
}

// run drives the server for c.duration: c.workers back to back (closed
// loop) or, with c.rate, requests at that rate with at most c.workers in
// flight (open loop; a tick that finds them all busy is dropped).
func run(c config) result {
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	return runUntil(ctx, c)
}

// runUntil is run, until ctx is done.
func runUntil(ctx context.Context, c config) result {
	hc := loadgen.NewClient(c.workers, true, 5*time.Second)
	hc.Transport.(*http.Transport).MaxConnsPerHost = c.workers
	h := loadgen.NewHistogram()
	var errs atomic.Int64
	rec := loadgen.RecorderFunc(func(s loadgen.Sample) {
		h.Add(s.Latency)
		if s.Status != c.expect {
			errs.Add(1)
		}
	})
	fire := func() loadgen.Sample { return loadgen.Timed(hc, c.request()) }
	start := time.Now()
	if c.rate > 0 {
		loadgen.Open(ctx, []loadgen.Stream{{Rate: c.rate, Fire: fire}}, int64(c.workers), rec)
	} else {
		loadgen.Closed(ctx, c.workers, fire, rec)
	}
	return summarize(h, int(errs.Load()), time.Since(start), c)
}

// request is the one request shape this run sends.
func (c config) request() *http.Request {
	body := c.body
	if c.tokens != nil {
		body = c.tokens.body(body)
	}
	req, _ := http.NewRequest(c.method, c.url, strings.NewReader(body))
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return req
}

func summarize(h *loadgen.Histogram, errs int, elapsed time.Duration, c config) result {
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := int(h.Count())
	return result{Requests: n, Errors: errs, RPS: float64(n) / elapsed.Seconds(),
		P50ms: msOf(h.Pct(0.50)), P99ms: msOf(h.Pct(0.99)), MaxMs: msOf(h.Max()), Rate: c.rate,
		Workers: c.workers, Seconds: elapsed.Seconds()}
}
