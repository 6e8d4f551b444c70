package registry_test

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oneiric-go/oneiric/registry"
)

// TestNoDeadlockWatchdog runs writers (single and cross-domain), Explains,
// ListActive and Snapshots that name domains in opposite orders for 10 s. A
// watchdog fails the test, after dumping every goroutine's stack, if any
// worker makes no progress for 2 s: a deadlock, or a livelock, would.
// Only a stall of seconds trips it, so a loaded machine does not.
func TestNoDeadlockWatchdog(t *testing.T) {
	const (
		runFor   = 10 * time.Second
		maxStall = 2 * time.Second
	)
	r := registry.New(registry.WithShards(8))
	domains := []string{"adapter", "service", "task", "tenant-a", "tenant-b", "tenant-c"}
	requireSpread(t, domains)

	type worker struct {
		name string
		op   func(i int)
	}
	workers := []worker{
		{"register", func(i int) {
			_, err := r.Register(registry.Candidate{Domain: domains[i%len(domains)], Key: fmt.Sprint("k", i%7), Provider: fmt.Sprint("p", i%3)})
			assert.NoError(t, err)
		}},
		{"register-package", func(i int) {
			a, b := domains[i%len(domains)], domains[(i+3)%len(domains)]
			_, err := r.RegisterPackage("pkg", "/app/adapters/x.py", []registry.Candidate{{Domain: a, Key: "pk"}, {Domain: b, Key: "pk"}}, nil)
			assert.NoError(t, err)
		}},
		{"unregister", func(i int) { r.Unregister(domains[i%len(domains)], fmt.Sprint("k", i%7), fmt.Sprint("p", i%3)) }},
		{"select", func(i int) { assert.NoError(t, r.Select(domains[i%len(domains)], "pk", fmt.Sprint("p", i%2))) }},
		{"explain", func(i int) { r.Explain(domains[i%len(domains)], fmt.Sprint("k", i%7)) }},
		{"list-active", func(i int) { r.ListActive(domains[i%len(domains)]) }},
		{"snapshot-forward", func(i int) { r.Snapshot(domains...) }},
		{"snapshot-backward", func(i int) {
			rev := make([]string, len(domains))
			for j, d := range domains {
				rev[len(domains)-1-j] = d
			}
			r.Snapshot(rev...)
		}},
		{"snapshot-all", func(i int) { r.Snapshot(); r.Domains() }},
	}

	start := time.Now()
	progress := make([]atomic.Int64, len(workers)) // nanoseconds since start of each worker's last completed op
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				workers[w].op(i)
				progress[w].Store(int64(time.Since(start)))
			}
		})
	}

	var worst time.Duration
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Since(start) < runFor {
		<-tick.C
		now := time.Since(start)
		for w := range workers {
			stall := now - time.Duration(progress[w].Load())
			worst = max(worst, stall)
			if stall > maxStall {
				_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
				stop.Store(true)
				t.Fatalf("worker %s made no progress for %v; goroutine stacks dumped above", workers[w].name, stall)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d workers ran %v with no deadlock; worst stall %v", len(workers), runFor, worst.Round(time.Millisecond))
}
