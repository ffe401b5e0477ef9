package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// Issue 27: an agent that stopped on purpose recorded its restart grace on
// its node (liveness.AnnRestartGrace) before it left; the leader keeps the
// node Ready and its replicas in place for that grace, not the node grace,
// so a restart longer than the node grace moves nothing. A node that
// recorded nothing (it crashed, lost power, was cut off) is lost after the
// node grace as ever, and so is the restarting one once its restart grace
// has run out.
func TestNodeLifecycleKeepsAPlannedRestartForItsGrace(t *testing.T) {
	restarting := Member{Name: "n1", Addr: "10.0.0.1", Alive: true}
	crashed := Member{Name: "n2", Addr: "10.0.0.2", Alive: true}
	fleet := &fakeFleet{members: []Member{restarting, crashed}}
	grace, restartGrace := time.Minute, 10*time.Minute // the clock is driven by hand
	l, s := testLeader(t, Config{Name: "n0", Liveness: liveness.WithGrace(grace), GossipPort: 7946}, Deps{Members: fleet})
	registerReady(t, s, restarting)
	registerReady(t, s, crashed)
	boundPod(t, s, "web-a", "web", "n1")
	boundPod(t, s, "web-b", "web", "n2")
	n, err := s.FSM.Node("n1")
	if err != nil {
		t.Fatal(err)
	}
	n.ObjectMeta.Annotations[liveness.AnnRestartGrace] = restartGrace.String()
	apply(t, s, consensus.UpdateNode{Node: *n, Time: time.Now().UTC()})

	restarting.Alive, crashed.Alive = false, false
	fleet.mu.Lock()
	fleet.members = []Member{restarting, crashed}
	fleet.mu.Unlock()
	ctx := context.Background()
	now := time.Now()
	ready := func(name string) bool {
		n, err := s.FSM.Node(name)
		return err == nil && placement.NodeReady(n)
	}
	at := func(after time.Duration) {
		t.Helper()
		for _, m := range []Member{restarting, crashed} {
			if err := l.markLost(ctx, m, l.downFor(m, now.Add(after))); err != nil {
				t.Fatal(err)
			}
		}
		l.evictLostReplicas(ctx, now.Add(after))
	}
	at(0)
	if left := l.graceLeft(restarting, grace); left != restartGrace-grace {
		t.Fatalf("grace left to the restarting node after the node grace: %v, want %v", left, restartGrace-grace)
	}
	at(grace + time.Second)
	if ready("n2") {
		t.Fatal("the crashed node is still Ready after the node grace")
	}
	if _, err := s.FSM.Pod("default", "web-b"); err == nil {
		t.Fatal("the crashed node's replica was not deleted after the node grace")
	}
	if !ready("n1") {
		t.Fatalf("the node restarting on purpose was lost after the node grace %v, within its restart grace %v", grace, restartGrace)
	}
	if _, err := s.FSM.Pod("default", "web-a"); err != nil {
		t.Fatalf("the replica of the node restarting on purpose went within its restart grace: %v", err)
	}
	at(restartGrace + time.Second)
	if ready("n1") {
		t.Fatal("a restart that outlasted its grace is still Ready")
	}
	if _, err := s.FSM.Pod("default", "web-a"); err == nil {
		t.Fatal("the replica of a restart that outlasted its grace was not deleted")
	}
}
