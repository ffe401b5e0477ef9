package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

func TestNodeLeasesRenewWhileGossipHearsTheAgent(t *testing.T) {
	a := Member{Name: "a", Addr: "192.168.50.2", Memory: "4Gi", CPU: "2", Alive: true}
	b := Member{Name: "b", Addr: "192.168.50.3", Memory: "4Gi", CPU: "2", Alive: true}
	fleet := &fakeFleet{members: []Member{a, b}}
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Minute)}, Deps{Members: fleet})
	registerReady(t, s, a)
	registerReady(t, s, b)
	t0 := time.Now().UTC().Truncate(time.Second)
	l.renewNodeLeases(context.Background(), t0)
	fleet.mu.Lock()
	fleet.members[1].Alive = false
	fleet.mu.Unlock()
	l.renewNodeLeases(context.Background(), t0.Add(nodeLeaseRenewal))
	for name, want := range map[string]time.Time{"a": t0.Add(nodeLeaseRenewal), "b": t0} {
		lease, err := s.FSM.Lease(api.NodeLeaseNS, name)
		if err != nil {
			t.Fatalf("lease of %s: %v", name, err)
		}
		if !lease.Spec.RenewTime.Time.Equal(want) || *lease.Spec.HolderIdentity != name {
			t.Errorf("lease of %s: holder %s renewed %v, want %v", name, *lease.Spec.HolderIdentity, lease.Spec.RenewTime, want)
		}
	}
}
