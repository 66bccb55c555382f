package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// resources of the server process.
type resources struct {
	RSS, Heap, Goroutines, FDs float64
}

func (r resources) String() string {
	return fmt.Sprintf("RSS %.1f MiB · heap in use %.1f MiB · %0.f goroutines · %0.f fds",
		r.RSS/(1<<20), r.Heap/(1<<20), r.Goroutines, r.FDs)
}

// readResources reads VmRSS and the fd count from /proc, and the Go heap
// and goroutines from /metrics.
func readResources(pid int, base string) (resources, error) {
	var r resources
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return r, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			r.RSS = kb * 1024
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return r, err
	}
	r.FDs = float64(len(fds))
	r.Goroutines, r.Heap, err = readMetrics(base)
	return r, err
}

// readMetrics reads go_goroutines and go_memstats_heap_inuse_bytes from
// the server's /metrics.
func readMetrics(base string) (goroutines, heap float64, err error) {
	hc := loadgen.NewClient(1, false, 5*time.Second)
	resp, err := hc.Get(base + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "go_goroutines":
			goroutines, _ = strconv.ParseFloat(val, 64)
		case "go_memstats_heap_inuse_bytes":
			heap, _ = strconv.ParseFloat(val, 64)
		}
	}
	if heap == 0 || goroutines == 0 {
		return goroutines, heap, fmt.Errorf("/metrics lacks go_goroutines or go_memstats_heap_inuse_bytes")
	}
	return goroutines, heap, sc.Err()
}

// medianResources takes three readings a second apart and keeps the median
// of each figure (one reading may catch a GC cycle's peak).
func medianResources(pid int, base string) (resources, error) {
	var rs []resources
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		r, err := readResources(pid, base)
		if err != nil {
			return r, err
		}
		rs = append(rs, r)
	}
	med := func(f func(resources) float64) float64 {
		a, b, c := f(rs[0]), f(rs[1]), f(rs[2])
		return math.Max(math.Min(a, b), math.Min(math.Max(a, b), c))
	}
	return resources{
		RSS:        med(func(r resources) float64 { return r.RSS }),
		Heap:       med(func(r resources) float64 { return r.Heap }),
		Goroutines: med(func(r resources) float64 { return r.Goroutines }),
		FDs:        med(func(r resources) float64 { return r.FDs }),
	}, nil
}
