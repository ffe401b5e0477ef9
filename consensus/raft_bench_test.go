package consensus

import (
	"context"
	"fmt"
	"github.com/shoal-dev/shoal/api"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRaftApply measures a write the way the API server makes one:
// Apply on the leader of 3 real servers on loopback (TCP transport,
// raft-wal on disk with fsync), returning once the entry is committed and
// applied to the leader's state machine. Each op is a CreatePod or the
// DeletePod of the pod created just before, so the state stays small.
// "serial" is one writer (commit latency, p50/p99); "writers=32" is 32
// writers at once (exactly 32 goroutines, reported as the writers metric),
// which Raft batches into fewer, larger appends (throughput).
func BenchmarkRaftApply(b *testing.B) {
	servers := startCluster(b, 3)
	leader := waitLeader(b, servers)
	ctx := context.Background()
	var seq atomic.Int64
	// op applies one command and returns how long it took.
	op := func(b *testing.B, i int64) time.Duration {
		name := fmt.Sprintf("bench-%d", i/2)
		var cmd Command = create(name, "64Mi")
		if i%2 == 1 {
			cmd = DeletePod{Namespace: "default", Name: name, UID: api.UID("uid-" + name)}
		}
		start := time.Now()
		if _, err := leader.raft.Apply(ctx, cmd); err != nil {
			b.Errorf("apply %s %s: %v", cmd.Type(), name, err)
		}
		return time.Since(start)
	}
	// A few writes first so the followers' connections are up.
	for range 20 {
		op(b, seq.Add(1)-1)
	}

	b.Run("serial", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			lat = append(lat, op(b, seq.Add(2)-2))
			lat = append(lat, op(b, seq.Add(0)-1))
		}
		report(b, lat)
	})
	// The writers are goroutines of their own, not b.SetParallelism, which
	// starts that many per GOMAXPROCS (64 on two cores): the name is the
	// number that ran, so the figure stands beside etcd's at the same
	// concurrency.
	const writers = 32
	b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
		var (
			mu  sync.Mutex
			lat []time.Duration
		)
		peak := runWriters(writers, b.N, func() {
			i := seq.Add(2) - 2
			a, d := op(b, i), op(b, i+1)
			mu.Lock()
			lat = append(lat, a, d)
			mu.Unlock()
		})
		report(b, lat)
		b.ReportMetric(float64(peak), "writers")
	})
}

// report adds applies/s and the p50/p99 of each apply's latency.
func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "applies/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // an op is two applies; the metrics above are per apply
}
