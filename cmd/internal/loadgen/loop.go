package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder receives the samples of a load. Record is called from many
// goroutines at once.
type Recorder interface {
	Record(Sample)
}

// RecorderFunc makes a function a Recorder.
type RecorderFunc func(Sample)

// Record calls f(s).
func (f RecorderFunc) Record(s Sample) { f(s) }

// Samples is a Recorder that keeps every sample, without its body (bodies
// are checked before they are recorded; dropping them keeps memory flat).
type Samples struct {
	mu      sync.Mutex
	samples []Sample
}

// Record keeps s.
func (r *Samples) Record(s Sample) {
	s.Body = nil
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// Snapshot returns a copy of the samples kept so far.
func (r *Samples) Snapshot() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.samples...)
}

// Stream is one kind of request sent at a fixed rate.
type Stream struct {
	Rate float64 // per second
	Fire func() Sample
}

// Open sends each stream's requests at its rate until ctx is done, each in
// its own goroutine, whatever the answers' latency (an outage must not slow
// the arrivals down), with at most maxInflight out at once; a tick that
// finds maxInflight requests out is dropped and counted. Open returns the
// number dropped, once every request sent has been answered or has failed.
func Open(ctx context.Context, streams []Stream, maxInflight int64, rec Recorder) (dropped int64) {
	var inflight, drops atomic.Int64
	var wg, senders sync.WaitGroup
	for _, st := range streams {
		senders.Add(1)
		go func() {
			defer senders.Done()
			Pace(ctx, st.Rate, func() {
				if inflight.Add(1) > maxInflight {
					inflight.Add(-1)
					drops.Add(1)
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer inflight.Add(-1)
					rec.Record(st.Fire())
				}()
			})
		}()
	}
	senders.Wait()
	wg.Wait()
	return drops.Load()
}

// Pace calls tick on a fixed schedule, rate times a second (the i-th call
// is due at start + i/rate), until ctx is done. A late tick does not move
// the ones after it: when tick or the scheduler falls behind, the calls
// that are due come back to back until the schedule is caught up. Pace
// returns the number of calls.
func Pace(ctx context.Context, rate float64, tick func()) int {
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 0; ; n++ {
		next = next.Add(interval)
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return n
		case <-timer.C:
		}
		if ctx.Err() != nil { // both were ready, and select chose the timer
			return n
		}
		tick()
	}
}

// Closed runs workers that each call fire back to back until ctx is done
// and pass every sample to rec. A worker whose request got no answer
// (Status 0) waits 10 ms before the next one: a refused connection comes
// back at once, and would otherwise spin.
func Closed(ctx context.Context, workers int, fire func() Sample, rec Recorder) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := fire()
				rec.Record(s)
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

// Each calls fire(i) for every i in [0, n) on workers goroutines and
// passes every sample to rec: a load bounded by a count. Every i is
// called; a time bound is fire's own (a deadline on its requests).
func Each(workers, n int, fire func(i int) Sample, rec Recorder) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rec.Record(fire(i))
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// Probe calls fire every interval, starting at once, until ctx is done,
// and passes every sample to rec.
func Probe(ctx context.Context, interval time.Duration, fire func() Sample, rec Recorder) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rec.Record(fire())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
