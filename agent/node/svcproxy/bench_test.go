package svcproxy

import (
	"context"
	"testing"
)

// BenchmarkSyncFullRebuild1000x3 is one transaction that rebuilds the whole
// table for 1,000 Services (two ports each) of 3 endpoints (no affinity, the default), in a real
// namespace: what a restarted agent pays once.
func BenchmarkSyncFullRebuild1000x3(b *testing.B) {
	n := newNode(b)
	p := n.proxy(b)
	svcs := fleet(1000, 3, -1, 0, 0)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		p.mu.Lock()
		p.applied = nil // forces the full rebuild
		p.mu.Unlock()
		if err := p.Sync(ctx, svcs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncOneChangeAmong1000x3 is one transaction that moves the
// endpoints of one Service while 999 others stay: the steady-state cost of
// an endpoint change.
func BenchmarkSyncOneChangeAmong1000x3(b *testing.B) {
	n := newNode(b)
	p := n.proxy(b)
	states := [][]Service{fleet(1000, 3, -1, 0, 0), fleet(1000, 3, 500, 5000, 0)}
	ctx := context.Background()
	if err := p.Sync(ctx, states[0]); err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		if err := p.Sync(ctx, states[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
