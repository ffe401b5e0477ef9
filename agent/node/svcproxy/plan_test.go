package svcproxy

import (
	"context"
	"net/netip"
	"testing"
)

// One endpoint change plans one Service: the same Services rebuilt, the
// same transaction, at 10 Services as at 1,000.
func TestOneEndpointChangePlansTheSameWorkAtAnyFleetSize(t *testing.T) {
	var firstOps int
	var firstTx string
	for _, n := range []int{10, 100, 1000} {
		p, _ := fakeProxy()
		if err := p.Sync(context.Background(), fleet(n, 10, -1, 0, 3)); err != nil {
			t.Fatal(err)
		}
		// Service 5 has no affinity (every third has), so its change is
		// one rule per port.
		after := fleet(n, 10, 5, 5000, 3)
		pl := planSync(p.pieces, after)
		if pl.rebuilt != 1 || len(pl.set) != 1 || len(pl.removed) != 0 {
			t.Fatalf("%d services: one endpoint change rebuilt %d services (set %d, removed %d), want 1", n, pl.rebuilt, len(pl.set), len(pl.removed))
		}
		if got := len(pl.want.chains); got != 2 {
			t.Fatalf("%d services: the plan writes %d chains, want the changed service's 2", n, got)
		}
		tx := p.nft.NewTransaction()
		writeDiff(tx, pl.have, pl.want)
		switch {
		case n == 10:
			firstOps, firstTx = tx.NumOperations(), tx.String()
		case tx.NumOperations() != firstOps || tx.String() != firstTx:
			t.Fatalf("%d services: the change is %d operations, %d at 10 services:\n%s\n--- at 10:\n%s", n, tx.NumOperations(), firstOps, tx, firstTx)
		}
		if firstOps == 0 {
			t.Fatal("the change planned no operation")
		}
	}
}

func TestPlanSeesAddedRemovedAndUnchangedServices(t *testing.T) {
	p, _ := fakeProxy()
	ctx := context.Background()
	if err := p.Sync(ctx, fleet(6, 2, -1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if pl := planSync(p.pieces, fleet(6, 2, -1, 0, 0)); !pl.empty() || pl.rebuilt != 0 {
		t.Fatalf("an unchanged fleet planned %d rebuilt, %d set, %d removed", pl.rebuilt, len(pl.set), len(pl.removed))
	}
	next := fleet(6, 2, -1, 0, 0)[1:] // svc0 goes
	next[2].ClusterIP = netip.MustParseAddr("10.96.9.9")
	next = append(next, Service{Namespace: "ns9", Name: "new", ClusterIP: netip.MustParseAddr("10.96.9.10"),
		Ports: []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}}})
	pl := planSync(p.pieces, next)
	if len(pl.removed) != 1 || pl.removed[0] != "ns0/svc0" {
		t.Fatalf("removed %v, want [ns0/svc0]", pl.removed)
	}
	if pl.rebuilt != 2 || pl.set["ns3/svc3"] == nil || pl.set["ns9/new"] == nil {
		t.Fatalf("rebuilt %d: %v, want svc3 (new ClusterIP) and new", pl.rebuilt, keysOf(pl.set))
	}
	if len(pl.oldSvcs) != 2 || len(pl.newSvcs) != 2 {
		t.Fatalf("conntrack compares %d old and %d new services, want 2 and 2", len(pl.oldSvcs), len(pl.newSvcs))
	}
	// A caller changing its slice after Sync does not change what was applied.
	svcs := fleet(2, 2, -1, 0, 0)
	if err := p.Sync(ctx, svcs); err != nil {
		t.Fatal(err)
	}
	svcs[0].Endpoints[0].IP = netip.MustParseAddr("10.244.200.1")
	svcs[0].Endpoints[0].Ports["http"] = 1
	if pl := planSync(p.pieces, svcs); pl.rebuilt != 1 {
		t.Fatalf("a change made in the caller's slice after Sync planned %d rebuilds, want 1", pl.rebuilt)
	}
}

func keysOf[V any](m map[string]V) []string { return sortedKeys(m) }
