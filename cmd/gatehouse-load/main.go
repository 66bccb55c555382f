// Command gatehouse-load is the loopback load generator behind `make bench`
// (`make soak` and `make faults` use cmd/gatehouse-faults, which checks
// every answer): it drives one HTTP request shape at a server, either as
// fast as a fixed number of workers can (closed loop, for throughput) or at
// a fixed rate (open loop, for latency at a given load), and prints one JSON
// line of figures. `gatehouse-load bare` serves the baseline: a bare chi
// handler answering a fixed JSON body.
//
// It only ever targets the URL it is given; the scripts give it loopback
// addresses. Every run is bounded by -duration.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := serveBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-load bare:", err)
			os.Exit(1)
		}
		return
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
	_ = fs.Parse(args)
	if c.url == "" {
		return fmt.Errorf("-url is required")
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

func run(c config) result {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: c.workers, MaxConnsPerHost: c.workers}}
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	ticks := make(chan struct{}, c.workers)
	go pace(ctx, c.rate, ticks)
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for range ticks {
				d, ok := once(client, c)
				mine = append(mine, d)
				if !ok {
					bad++
				}
			}
			mu.Lock()
			lat, errs = append(lat, mine...), errs+bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	return summarize(lat, errs, time.Since(start), c)
}

// pace feeds ticks: as fast as they are taken, or at rate per second.
func pace(ctx context.Context, rate float64, ticks chan<- struct{}) {
	defer close(ticks)
	if rate <= 0 {
		for {
			select {
			case <-ctx.Done():
				return
			case ticks <- struct{}{}:
			}
		}
	}
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for ctx.Err() == nil {
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		select {
		case ticks <- struct{}{}:
		default: // workers saturated: the tick is dropped, not queued
		}
	}
}

func once(client *http.Client, c config) (time.Duration, bool) {
	req, _ := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode == c.expect
}

func summarize(lat []time.Duration, errs int, elapsed time.Duration, c config) result {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	return result{Requests: len(lat), Errors: errs, RPS: float64(len(lat)) / elapsed.Seconds(),
		P50ms: pct(0.50), P99ms: pct(0.99), MaxMs: pct(1), Rate: c.rate, Workers: c.workers,
		Seconds: elapsed.Seconds()}
}
