package svcproxy

import (
	"context"
	"fmt"
	"testing"

	"sigs.k8s.io/knftables"
)

// The sizes, and a tenth of them to show how the cost scales:
// 1,000 Services (two ports each, no affinity, the
// default) of 3 and of 10 endpoints, in a real namespace.
var benchSizes = []struct{ services, endpoints int }{{10, 3}, {100, 3}, {1000, 3}, {1000, 10}}

// BenchmarkSyncFullRebuild is one transaction that rebuilds the whole
// table: what a restarted agent pays once.
func BenchmarkSyncFullRebuild(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("services=%d/endpoints=%d", size.services, size.endpoints), func(b *testing.B) {
			n := newNode(b)
			p := n.proxy(b)
			svcs := fleet(size.services, size.endpoints, -1, 0, 0)
			ctx := context.Background()
			for b.Loop() {
				p.mu.Lock()
				p.known = false // forces the full rebuild
				p.mu.Unlock()
				if err := p.Sync(ctx, svcs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSyncOneChange is one transaction that moves the endpoints of one
// Service while all the others stay: the steady-state cost of an endpoint
// change.
func BenchmarkSyncOneChange(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("services=%d/endpoints=%d", size.services, size.endpoints), func(b *testing.B) {
			n := newNode(b)
			p := n.proxy(b)
			// The rules alone: the UDP flows a change makes stale are
			// deleted after the rules apply (conntrack.go), a cost of its
			// own that grows with the node's conntrack table.
			p.ct = nil
			states := [][]Service{
				fleet(size.services, size.endpoints, -1, 0, 0),
				fleet(size.services, size.endpoints, size.services/2, 50000, 0),
			}
			ctx := context.Background()
			if err := p.Sync(ctx, states[0]); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if err := p.Sync(ctx, states[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanOneChange is the proxy's own part of a sync (validation,
// comparing each Service with what was applied, building the changed
// Service's rules, the diff into a transaction) without the kernel: what
// BenchmarkSyncOneChange costs beyond the netlink batch.
func BenchmarkPlanOneChange(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("services=%d/endpoints=%d", size.services, size.endpoints), func(b *testing.B) {
			before := fleet(size.services, size.endpoints, -1, 0, 0)
			pieces := planSync(nil, before).applyTo(nil)
			after := fleet(size.services, size.endpoints, size.services/2, 50000, 0)
			nft := knftables.NewFake(knftables.IPv4Family, DefaultTable)
			for b.Loop() {
				if err := validate(after); err != nil {
					b.Fatal(err)
				}
				pl := planSync(pieces, after)
				writeDiff(nft.NewTransaction(), pl.have, pl.want)
			}
		})
	}
}
