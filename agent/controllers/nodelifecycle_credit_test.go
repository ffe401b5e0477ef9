package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/placement"
)

// verdictFleet is a fakeFleet that also tells which members gossip
// declared failed (Verdicts).
type verdictFleet struct {
	fakeFleet
	failed map[string]bool
}

func (f *verdictFleet) Failed(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed[name]
}

// Issue 28: on 20 nodes gossip's verdict comes Suspicion(20) = 0.975 s
// after the node's last answer, against 0.75 s on ten or fewer. The leader
// counts the grace from the node's last contact, crediting the silence the
// verdict proves, so a node is lost NodeGrace after it went silent at any
// fleet size, not NodeGrace after the verdict. A departure on purpose, or
// a member never seen alive this term, gets no credit.
func TestNodeLifecycleCountsTheGraceFromLastContact(t *testing.T) {
	grace := time.Hour // the clock is driven by hand, never by the loop
	var members []Member
	for i := range 20 {
		members = append(members, Member{Name: fmt.Sprintf("n%d", i), Addr: fmt.Sprintf("10.0.0.%d", i+1), Alive: true})
	}
	fleet := &verdictFleet{fakeFleet: fakeFleet{members: members}, failed: map[string]bool{"n5": true}}
	cfg := liveness.WithGrace(grace)
	l, s := testLeader(t, Config{Name: "n0", Liveness: cfg, GossipPort: 7946}, Deps{Members: fleet})
	for _, m := range members {
		registerReady(t, s, m)
	}
	now := time.Now()
	for _, m := range members {
		l.downFor(m, now) // seen alive this term
	}
	failed, left := members[5], members[6]
	failed.Alive, left.Alive = false, false
	fleet.mu.Lock()
	fleet.members[5], fleet.members[6] = failed, left
	fleet.mu.Unlock()

	credit := cfg.Suspicion(18) // 18 alive as the leader sees it
	if credit <= cfg.Suspicion(10) {
		t.Fatalf("credit %v on 18 members, want more than on 10 (%v)", credit, cfg.Suspicion(10))
	}
	ctx := context.Background()
	verdict := now.Add(time.Second)
	if d := l.downFor(failed, verdict); d != credit {
		t.Fatalf("failed member at gossip's verdict: out of contact %v, want the credit %v", d, credit)
	}
	if d := l.downFor(left, verdict); d != 0 {
		t.Fatalf("departed member at its departure: out of contact %v, want 0", d)
	}
	ready := func(name string) bool {
		n, err := s.FSM.Node(name)
		return err == nil && placement.NodeReady(n)
	}
	justBefore := verdict.Add(grace - credit - time.Millisecond)
	for _, m := range []Member{failed, left} {
		if err := l.markLost(ctx, m, l.downFor(m, justBefore)); err != nil {
			t.Fatal(err)
		}
	}
	if !ready("n5") || !ready("n6") {
		t.Fatal("a node marked NotReady before it was out of contact for its grace")
	}
	at := verdict.Add(grace - credit)
	for _, m := range []Member{failed, left} {
		if err := l.markLost(ctx, m, l.downFor(m, at)); err != nil {
			t.Fatal(err)
		}
	}
	if ready("n5") {
		t.Errorf("failed n5 still Ready %v after the verdict: the grace counted from the verdict, not from its last contact", grace-credit)
	}
	if !ready("n6") {
		t.Error("departed n6 NotReady before a whole grace after its departure")
	}
}
