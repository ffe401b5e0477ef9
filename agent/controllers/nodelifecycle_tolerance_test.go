package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// Issue 25: a replica tolerating node.kubernetes.io/unreachable stays
// bound to its lost node until the toleration has run out, counted from
// the node's last contact (as the leader's clock estimates it); one
// tolerating it without tolerationSeconds stays for good; one without a
// toleration goes at the grace, as before.
func TestLostNodeKeepsTolerantReplicasUntilTheirTolerationRunsOut(t *testing.T) {
	grace := time.Hour // the clock is driven by hand, never by the loop
	n1 := Member{Name: "n1", Addr: "10.0.0.1", Alive: true}
	n2 := Member{Name: "n2", Addr: "10.0.0.2", Alive: true}
	fleet := &fakeFleet{members: []Member{n1, n2}}
	l, s := testLeader(t, Config{Name: "n1", Liveness: liveness.WithGrace(grace), GossipPort: 7946}, Deps{Members: fleet})
	registerReady(t, s, n1)
	registerReady(t, s, n2)
	secs := func(s int64) *int64 { return &s }
	unreach := func(s *int64) []api.Toleration {
		return []api.Toleration{{Key: api.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: api.TaintNoExecute, TolerationSeconds: s}}
	}
	boundPod(t, s, "plain", "web", "n2")
	boundPodTolerating(t, s, "twohours", "web", "n2", unreach(secs(2*3600)))
	boundPodTolerating(t, s, "short", "web", "n2", unreach(secs(1)))
	boundPodTolerating(t, s, "forever", "web", "n2", unreach(nil))

	now := time.Now()
	l.downFor(n2, now) // seen alive this term
	n2.Alive = false
	fleet.mu.Lock()
	fleet.members = []Member{n1, n2}
	fleet.mu.Unlock()
	l.downFor(n2, now) // the clock starts: no verdict credit from a fakeFleet

	ctx := context.Background()
	exists := func(name string) bool {
		_, err := s.FSM.Pod("default", name)
		return err == nil
	}
	lost := now.Add(grace)
	if err := l.markLost(ctx, n2, l.downFor(n2, lost)); err != nil {
		t.Fatal(err)
	}
	l.evictLostReplicas(ctx, lost)
	if exists("plain") || exists("short") {
		t.Error("a replica without a toleration longer than the grace is still bound to the node lost a grace ago")
	}
	if !exists("twohours") || !exists("forever") {
		t.Fatal("a tolerant replica was deleted at the grace")
	}
	l.evictLostReplicas(ctx, now.Add(2*time.Hour-time.Millisecond))
	if !exists("twohours") {
		t.Fatal("a replica tolerating 2h deleted before its toleration ran out")
	}
	l.evictLostReplicas(ctx, now.Add(2*time.Hour))
	if exists("twohours") {
		t.Error("a replica tolerating 2h still bound once its toleration ran out")
	}
	l.evictLostReplicas(ctx, now.Add(1000*time.Hour))
	if !exists("forever") {
		t.Error("a replica tolerating its node's loss for good was deleted")
	}
}

// A tolerant replica of a node that gossip holds alive again stays: its
// clock stopped, even though the node is still marked lost.
func TestLostNodeBackInContactKeepsTolerantReplicas(t *testing.T) {
	grace := time.Hour
	n2 := Member{Name: "n2", Addr: "10.0.0.2", Alive: true}
	fleet := &fakeFleet{members: []Member{n2}}
	l, s := testLeader(t, Config{Name: "n1", Liveness: liveness.WithGrace(grace), GossipPort: 7946}, Deps{Members: fleet})
	registerReady(t, s, n2)
	secs := int64(2 * 3600)
	boundPodTolerating(t, s, "twohours", "web", "n2", []api.Toleration{{Key: api.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: api.TaintNoExecute, TolerationSeconds: &secs}})
	now := time.Now()
	down := n2
	down.Alive = false
	l.downFor(down, now)
	if err := l.markLost(context.Background(), down, l.downFor(down, now.Add(grace))); err != nil {
		t.Fatal(err)
	}
	// n2 answers gossip again (fleet.members still holds it alive).
	l.evictLostReplicas(context.Background(), now.Add(3*time.Hour))
	if _, err := s.FSM.Pod("default", "twohours"); err != nil {
		t.Errorf("tolerant replica of a node back in contact: %v", err)
	}
}

// A tolerant replica on a lost node is still a replica: its controller
// makes no second one beside it while it runs there (zero doubles).
func TestTolerantReplicaOnALostNodeCountsLive(t *testing.T) {
	yes := true
	p := &api.Pod{}
	p.OwnerReferences = []api.OwnerReference{{Kind: api.KindReplicaSet, Name: "web", Controller: &yes}}
	p.Spec.NodeName = "n2"
	p.Status.Phase = api.PodUnknown
	lost := map[string]bool{"n2": true}
	if countsLive(p, lost) {
		t.Error("an Unknown replica of a lost node without a toleration counts live")
	}
	p.Spec.Tolerations = []api.Toleration{{Key: api.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: api.TaintNoExecute}}
	if !countsLive(p, lost) {
		t.Error("an Unknown replica tolerating its lost node does not count live: its controller would run a double")
	}
}
