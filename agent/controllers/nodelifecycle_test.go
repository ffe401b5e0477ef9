package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// A node gossip holds failed for longer than the grace is marked NotReady;
// the replicas on it are deleted (their controller replaces them), a bare
// pod stays Unknown (nothing may re-create it), and the lost node is
// invited back into gossip. The live node and its pods are left alone.
func TestNodeLifecycleMarksLostNodeAndEvictsItsReplicas(t *testing.T) {
	n1 := Member{Name: "n1", Addr: "10.0.0.1", Alive: true}
	n2 := Member{Name: "n2", Addr: "10.0.0.2", Alive: true}
	fleet := &fakeFleet{members: []Member{n1, n2}}
	l, s := testLeader(t, Config{Name: "n1", Liveness: liveness.WithGrace(50 * time.Millisecond), GossipPort: 7946}, Deps{Members: fleet})
	registerReady(t, s, n1)
	registerReady(t, s, n2)
	boundPod(t, s, "web-a", "web", "n1")
	boundPod(t, s, "web-b", "web", "n2")
	boundPod(t, s, "bare", "", "n2")

	n2.Alive = false
	fleet.mu.Lock()
	fleet.members = []Member{n1, n2}
	fleet.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.nodeLifecycleController(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	ready := func(name string) bool {
		n, err := s.FSM.Node(name)
		return err == nil && placement.NodeReady(n)
	}
	eventually(t, "n2 marked NotReady", func() bool { return !ready("n2") })
	eventually(t, "the replica on n2 deleted", func() bool {
		_, err := s.FSM.Pod("default", "web-b")
		return err != nil
	})
	eventually(t, "n2 invited back into gossip at its gossip port", func() bool { return fleet.joined("10.0.0.2:7946") })
	if !ready("n1") {
		t.Error("the live node n1 is no longer Ready")
	}
	if p, err := s.FSM.Pod("default", "bare"); err != nil {
		t.Errorf("bare pod on the lost node: %v; want kept", err)
	} else if p.Status.Phase != api.PodUnknown {
		t.Errorf("bare pod on the lost node is %s, want Unknown", p.Status.Phase)
	}
	if p, err := s.FSM.Pod("default", "web-a"); err != nil {
		t.Errorf("replica on the live node: %v; want kept", err)
	} else if p.Status.Phase == api.PodUnknown {
		t.Error("replica on the live node is Unknown")
	}
}

// A member whose failure is shorter than the grace moves nothing.
func TestNodeLifecycleWaitsForTheGrace(t *testing.T) {
	n1 := Member{Name: "n1", Addr: "10.0.0.1", Alive: true}
	fleet := &fakeFleet{members: []Member{n1}}
	l, s := testLeader(t, Config{Name: "n0", Liveness: liveness.WithGrace(time.Hour), GossipPort: 7946}, Deps{Members: fleet})
	registerReady(t, s, n1)
	n1.Alive = false
	fleet.members = []Member{n1}
	ctx := context.Background()
	now := time.Now()
	for _, after := range []time.Duration{0, 59 * time.Minute} {
		if err := l.markLost(ctx, n1, l.downFor(n1, now.Add(after))); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.FSM.Node("n1"); !placement.NodeReady(n) {
		t.Fatal("n1 marked NotReady within its grace")
	}
	if err := l.markLost(ctx, n1, l.downFor(n1, now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.FSM.Node("n1"); placement.NodeReady(n) {
		t.Fatal("n1 still Ready once its grace ran out")
	}
}
