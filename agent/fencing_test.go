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
	owned := api.Pod{Metadata: api.ObjectMeta{UID: "owned", OwnerReferences: []api.OwnerReference{{Kind: "ReplicationController", UID: "rc", Controller: &yes}}}}
	bare := api.Pod{Metadata: api.ObjectMeta{UID: "bare"}}
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
