package consensus

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runWriters runs ops operations on exactly n goroutines and returns the
// most that were ever inside op at once.
func runWriters(n, ops int, op func()) int {
	var (
		next, inFlight, peak atomic.Int64
		wg                   sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(ops) {
				now := inFlight.Add(1)
				for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
				}
				op()
				inFlight.Add(-1)
			}
		})
	}
	wg.Wait()
	return int(peak.Load())
}

// The Raft benchmark's "writers=32" must mean 32 writers at once, whatever
// GOMAXPROCS is: each op here waits until all 32 are inside it, so fewer
// never finishes and more shows as a higher peak.
func TestRunWritersRunsExactlyN(t *testing.T) {
	const n = 32
	var (
		arrived atomic.Int64
		all     = make(chan struct{})
		done    atomic.Int64
	)
	peak := runWriters(n, 3*n, func() {
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Errorf("only %d of %d writers ran at once", arrived.Load(), n)
		}
		done.Add(1)
	})
	if peak != n {
		t.Fatalf("peak %d writers at once, want %d", peak, n)
	}
	if done.Load() != 3*n {
		t.Fatalf("%d ops ran, want %d", done.Load(), 3*n)
	}
}
