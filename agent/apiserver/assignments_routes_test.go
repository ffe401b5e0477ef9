package apiserver

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// The nodes' part of the views is rebuilt only when a route changes: a
// later index with only a label or a condition changed reuses the part it
// had, a new address gives a new part that carries it.
func TestRoutesAreReusedUntilARouteChanges(t *testing.T) {
	s := consensus.NewTestCluster(t, 1).Leader()
	apply := func(cmd consensus.Command) uint64 {
		t.Helper()
		res, err := s.Raft.Apply(context.Background(), cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Type(), err)
		}
		return res.Index
	}
	for _, n := range []string{"n1", "n2"} {
		apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, Time: time.Now()})
	}
	srv := testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil)
	first := srv.routesAt(s.FSM.Index())
	if len(first.nodes) != 2 || first.nodes[0].Spec.PodCIDR == "" {
		t.Fatalf("routes %+v", first.nodes)
	}
	labelled := apply(consensus.UpdateNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n2", Labels: map[string]string{"disk": "ssd"}}}, Time: time.Now()})
	ready := apply(consensus.SetNodeCondition{Name: "n1", Ready: true, Reason: "AgentReady", Time: time.Now()})
	second := srv.routesAt(max(labelled, ready))
	if second.index < ready {
		t.Fatalf("routes at index %d, asked for %d", second.index, ready)
	}
	if &second.nodes[0] != &first.nodes[0] || second.sum != first.sum {
		t.Error("a label and a condition change rebuilt the routes")
	}
	moved := apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n2"},
		Status: api.NodeStatus{Addresses: []api.NodeAddress{{Type: "InternalIP", Address: "10.250.0.2"}}}}, Time: time.Now()})
	third := srv.routesAt(moved)
	if third.sum == first.sum || len(third.nodes[1].Status.Addresses) != 1 || third.nodes[1].Status.Addresses[0].Address != "10.250.0.2" {
		t.Fatalf("after n2's address changed: %+v", third.nodes[1])
	}
	joined := apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n3"}}, Time: time.Now()})
	if r := srv.routesAt(joined); len(r.nodes) != 3 {
		t.Fatalf("after n3 joined: %d routes", len(r.nodes))
	}
}
