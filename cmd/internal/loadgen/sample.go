package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Sample is one request and its outcome.
type Sample struct {
	Kind    string
	ID      string // X-Request-ID sent
	Start   time.Time
	End     time.Time
	Status  int    // 0: no answer (Err says why)
	Err     string // transport error
	Dial    bool   // the error happened while connecting (nothing was sent)
	Reused  bool   // went over a kept-alive connection
	Wrote   bool   // the request was written completely
	Wrong   string // the answer came but was not the right one
	Token   string // a token the answer carried, when the caller looks for one
	User    string // the user the answer should name
	Body    []byte
	Header  http.Header
	Latency time.Duration
}

// OK reports whether the answer came, was a 2xx, and was the right one.
func (s Sample) OK() bool { return s.Status >= 200 && s.Status < 300 && s.Wrong == "" }

var reqSeq atomic.Uint64

// Do sends req with an X-Request-ID of kind-N and records everything about
// it: status, headers, the whole body, latency (from sending to the end of
// the body), whether it went over a kept-alive connection, whether it was
// written, and whether a failure happened while connecting.
func Do(hc *http.Client, kind string, req *http.Request) Sample {
	s := Sample{Kind: kind, ID: fmt.Sprintf("%s-%d", kind, reqSeq.Add(1))}
	req.Header.Set("X-Request-ID", s.ID)
	trace := &httptrace.ClientTrace{
		GotConn:      func(i httptrace.GotConnInfo) { s.Reused = i.Reused },
		WroteRequest: func(i httptrace.WroteRequestInfo) { s.Wrote = i.Err == nil },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	s.Start = time.Now()
	resp, err := hc.Do(req)
	if err == nil {
		s.Body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		s.Status, s.Header = resp.StatusCode, resp.Header
		if err != nil {
			s.Status = 0 // an answer cut short is no answer
		}
	}
	s.End = time.Now()
	s.Latency = s.End.Sub(s.Start)
	if err != nil {
		s.Err = err.Error()
		var op *net.OpError
		s.Dial = errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED)
	}
	return s
}

// Timed sends req, reads and discards the body, and returns a Sample with
// only the timing and the status filled in: the lean request of a
// throughput run, where a trace and a kept body would cost more than the
// server's answer.
func Timed(hc *http.Client, req *http.Request) Sample {
	s := Sample{Start: time.Now()}
	resp, err := hc.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s.Status = resp.StatusCode
	}
	s.End = time.Now()
	s.Latency = s.End.Sub(s.Start)
	if err != nil {
		s.Status, s.Err = 0, err.Error()
	}
	return s
}

// Filter returns the samples keep accepts.
func Filter(ss []Sample, keep func(Sample) bool) []Sample {
	var out []Sample
	for _, s := range ss {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// OfKind returns the samples of kind k.
func OfKind(ss []Sample, k string) []Sample {
	return Filter(ss, func(s Sample) bool { return s.Kind == k })
}

// Lats returns the samples' latencies.
func Lats(ss []Sample) Latencies {
	out := make(Latencies, len(ss))
	for i, s := range ss {
		out[i] = s.Latency
	}
	return out
}

// FirstExamples describes up to n samples as "kind status err wrong".
func FirstExamples(ss []Sample, n int) string {
	var parts []string
	for _, s := range First(ss, n) {
		parts = append(parts, fmt.Sprintf("%s %d %s%s", s.Kind, s.Status, s.Err, s.Wrong))
	}
	return strings.Join(parts, "; ")
}

// First returns up to the first n elements of s.
func First[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
