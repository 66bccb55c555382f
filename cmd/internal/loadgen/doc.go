// Package loadgen is the loopback load generator, latency histogram and
// report tables shared by the checkers under cmd/: cmd/gatehouse-faults
// (make faults, make soak) and cmd/gatehouse-load (make bench).
//
// The pieces:
//
//   - NewClient: an HTTP client that only ever connects to loopback
//     addresses and ignores proxy settings.
//   - Sample and Do: one request and everything about its outcome.
//   - Closed, Open, Each and Probe: workers sending back to back, streams
//     at fixed rates, a fixed number of jobs, a poll; each bounded by a
//     context (time) or a count, each passing every Sample to a Recorder.
//   - Pace: the fixed-schedule clock behind Open.
//   - Mix: a weighted choice of request kinds.
//   - Histogram (constant memory, 2% buckets) and Latencies (exact) for
//     percentiles.
//   - Report: figures and bars printed as the Markdown tables that
//     docs/RELIABILITY.md quotes, and Summary over several reports.
//
// It lives under cmd/internal so that only commands can import it.
package loadgen
