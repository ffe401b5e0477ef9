package controllers

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/placement"
)

// runLifecycle runs the leader's node lifecycle controller until the test
// ends.
func runLifecycle(t *testing.T, l *Leader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.nodeLifecycleController(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// twoNodesAnHourOfGrace is a leader on n1 with n2 registered, both Ready
// and alive in gossip, and a grace no test waits out.
func twoNodesAnHourOfGrace(t *testing.T) (*Leader, *fakeFleet, Member, Member) {
	t.Helper()
	n1 := Member{Name: "n1", Addr: "10.0.0.1", Alive: true}
	n2 := Member{Name: "n2", Addr: "10.0.0.2", Alive: true}
	fleet := &fakeFleet{members: []Member{n1, n2}}
	l, s := testLeader(t, Config{Name: "n1", Liveness: liveness.WithGrace(time.Hour), GossipPort: 7946}, Deps{Members: fleet})
	registerReady(t, s, n1)
	registerReady(t, s, n2)
	return l, fleet, n1, n2
}

// A leader that takes office with live agents held dead in its gossip
// view (it formed that view while it was itself cut off, chaos seed 19)
// invites them back at once, not one grace later: with an hour's grace,
// the invitation still comes.
func TestNewLeaderInvitesNodesGossipHoldsApartAtOnce(t *testing.T) {
	l, fleet, n1, n2 := twoNodesAnHourOfGrace(t)
	n2.Alive = false
	fleet.set(n1, n2)

	runLifecycle(t, l)
	eventually(t, "n2 invited back into gossip", func() bool { return fleet.joined("10.0.0.2:7946") })
}

// A member gossip declares dead while the leader is in office is invited
// back at gossip's verdict, not at the next of the grace's ticks.
func TestLeaderInvitesANodeBackAtGossipsVerdict(t *testing.T) {
	l, fleet, n1, n2 := twoNodesAnHourOfGrace(t)
	runLifecycle(t, l)
	// The controller waits on gossip's changes once it has read the
	// view; only then does a verdict wake it.
	eventually(t, "the controller waiting for gossip's changes", func() bool {
		fleet.mu.Lock()
		defer fleet.mu.Unlock()
		return fleet.changed != nil
	})
	n2.Alive = false
	fleet.set(n1, n2)
	eventually(t, "n2 invited back into gossip", func() bool { return fleet.joined("10.0.0.2:7946") })
}

// The whole of seed 19's case: of two agents a new leader's stale view
// holds dead, the one that answers the invitation (it was alive all along)
// stays Ready, and the one that is gone is lost once its grace runs out.
func TestNewLeaderLosesOnlyTheNodesThatStayApart(t *testing.T) {
	n1 := Member{Name: "n1", Addr: "10.0.0.1", Alive: true}
	live := Member{Name: "n2", Addr: "10.0.0.2"}
	gone := Member{Name: "n3", Addr: "10.0.0.3"}
	fleet := &fakeFleet{members: []Member{n1, live, gone}}
	l, s := testLeader(t, Config{Name: "n1", Liveness: liveness.WithGrace(300 * time.Millisecond), GossipPort: 7946}, Deps{Members: fleet})
	for _, m := range []Member{n1, live, gone} {
		m.Alive = true
		registerReady(t, s, m)
	}
	fleet.onJoin = func(addr string) error {
		if addr != "10.0.0.2:7946" {
			return errors.New("connection refused")
		}
		// The push-pull brings n2 back alive in the leader's view.
		fleet.mu.Lock()
		defer fleet.mu.Unlock()
		i := slices.IndexFunc(fleet.members, func(m Member) bool { return m.Name == "n2" })
		fleet.members[i].Alive = true
		return nil
	}

	runLifecycle(t, l)
	ready := func(name string) bool {
		n, err := s.FSM.Node(name)
		return err == nil && placement.NodeReady(n)
	}
	eventually(t, "n3 lost once its grace ran out", func() bool { return !ready("n3") })
	if m, _ := fleet.member("n2"); !m.Alive {
		t.Fatal("n2 was never invited back")
	}
	if !ready("n2") {
		t.Fatal("n2, alive and invited back, was declared lost with n3")
	}
}
