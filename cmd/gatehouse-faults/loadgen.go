package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// recorder collects samples from many goroutines.
type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(s sample) {
	s.Body = nil // keep memory flat: bodies were checked already
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sample(nil), r.samples...)
}

// stream is one kind of request sent at a fixed rate.
type stream struct {
	rate float64 // per second
	fire func() sample
}

// openLoop sends each stream's requests at its rate until ctx is done, each
// in its own goroutine, whatever the answers' latency (an outage must not
// slow the arrivals down), with at most maxInflight at once; a tick that
// finds maxInflight requests out is counted in dropped. It returns once
// every request sent has been answered or has failed.
func openLoop(ctx context.Context, streams []stream, maxInflight int64, rec *recorder) (dropped int64) {
	var inflight, drops atomic.Int64
	var wg, senders sync.WaitGroup
	for _, st := range streams {
		senders.Add(1)
		go func() {
			defer senders.Done()
			interval := time.Duration(float64(time.Second) / st.rate)
			next := time.Now()
			for {
				next = next.Add(interval)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				if inflight.Load() >= maxInflight {
					drops.Add(1)
					continue
				}
				inflight.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer inflight.Add(-1)
					rec.add(st.fire())
				}()
			}
		}()
	}
	senders.Wait()
	wg.Wait()
	return drops.Load()
}

// closedLoop runs workers that each send fire() back to back until ctx is
// done; pause, when it returns true for a sample, makes that worker wait a
// little before the next request (a refused connection comes back at once).
func closedLoop(ctx context.Context, workers int, fire func() sample, rec *recorder) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := fire()
				rec.add(s)
				if s.Status == 0 {
					select {
					case <-ctx.Done():
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
}

// probe polls fn every interval until ctx is done and records the samples.
func probe(ctx context.Context, interval time.Duration, fn func() sample, rec *recorder) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rec.add(fn())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
