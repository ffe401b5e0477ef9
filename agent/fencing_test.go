package agent

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestClientContactFollowsAssignmentReads(t *testing.T) {
	a := &Agent{cfg: Config{Name: "n4", NodeGrace: 3 * time.Second}}
	if _, ok := a.lastContact(time.Now()); ok {
		t.Fatal("a client that never read its assignments must not trust its view")
	}
	yes := true
	owned := api.Pod{ObjectMeta: api.ObjectMeta{UID: "owned", OwnerReferences: []api.OwnerReference{{Kind: "ReplicationController", UID: "rc", Controller: &yes}}}}
	bare := api.Pod{ObjectMeta: api.ObjectMeta{UID: "bare"}}
	a.fence.fetched(&assignmentsView{Pods: []api.Pod{owned, bare}})
	now := time.Now()
	if _, ok := a.lastContact(now); !ok {
		t.Fatal("a fresh read is contact")
	}
	if _, ok := a.lastContact(now.Add(4 * time.Second)); ok {
		t.Fatal("no read for longer than the grace period is no contact")
	}
	if !a.fence.managed["owned"] || a.fence.managed["bare"] {
		t.Fatalf("only controller-managed pods are fenced: %v", a.fence.managed)
	}
}

// followerSeat is a Raft follower in touch with its leader.
type followerSeat struct{ raftLog }

func (followerSeat) IsLeader() bool           { return false }
func (followerSeat) Leader() (string, string) { return "n1", "10.0.0.1:7081" }
func (followerSeat) Stats() map[string]string { return map[string]string{"last_contact": "10ms"} }
func (followerSeat) LeaderCh() <-chan bool    { return nil }
func (followerSeat) Shutdown() error          { return nil }

// stateAt is a state that has applied up to idx.
type stateAt struct {
	stateStore
	idx uint64
}

func (s stateAt) Index() uint64 { return s.idx }

// A server restarted after the fleet declared it lost catches up with the
// leader within a moment, but the view its reconciler read before that may
// still bind its old pods here: that view must not be acted on.
func TestServerActsOnlyOnAViewAsNewAsTheLeaders(t *testing.T) {
	a := &Agent{cfg: Config{Name: "n2", NodeGrace: 2 * time.Second}}
	a.role.Store(&serverRole{fsm: stateAt{idx: 12}, raft: followerSeat{}})
	a.fence.needIndex = 10 // the leader's index when contact returned
	if a.reconcileAllowed(8) {
		t.Fatal("a view read at index 8, older than the leader's 10, was acted on")
	}
	if !a.reconcileAllowed(10) {
		t.Fatal("a view at the leader's index was refused")
	}
	a.role.Store(&serverRole{fsm: stateAt{idx: 9}, raft: followerSeat{}})
	if a.reconcileAllowed(12) {
		t.Fatal("a server whose state is behind the leader's index must not act")
	}
}
