package agent

import (
	"strconv"
	"testing"
	"time"
)

// A leader that stops on purpose hands leadership on before its Raft
// shuts down: it steps down for a newer term another seat started at its
// request, instead of leaving the seats to find it silent and elect one
// after Raft's heartbeat timeout (longer than a node's FenceAfter). A
// crashed leader cannot, and keeps its term.
func TestStoppingLeaderHandsLeadershipOn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five agents")
	}
	s, _ := startSim(t, 5, "127.79.0.1")
	leader := func() (*SimNode, uint64) {
		for _, n := range s.Nodes() {
			a := n.a.Load()
			if a == nil {
				continue
			}
			if r := a.role.Load(); r != nil && r.raft.IsLeader() {
				return n, raftTerm(t, a)
			}
		}
		return nil, 0
	}
	var (
		old  *SimNode
		term uint64
	)
	eventuallyWithin(t, time.Minute, "a leader", func() bool {
		old, term = leader()
		return old != nil
	})
	a := old.a.Load()
	if err := old.Stop(); err != nil {
		t.Fatalf("stop the leader: %v", err)
	}
	if got := raftTerm(t, a); got <= term {
		t.Fatalf("the stopped leader is still in term %d, where it led: it did not hand leadership on", got)
	}
	var next *SimNode
	eventuallyWithin(t, time.Minute, "a new leader", func() bool {
		next, _ = leader()
		return next != nil
	})
	if next == old {
		t.Fatalf("%s still leads after it stopped", old.Name)
	}
}

// raftTerm is the current term of the agent's Raft seat, as Raft reports it.
func raftTerm(t *testing.T, a *Agent) uint64 {
	t.Helper()
	st, ok := a.role.Load().raft.(interface{ Stats() map[string]string })
	if !ok {
		t.Fatal("the seat reports no stats")
	}
	term, err := strconv.ParseUint(st.Stats()["term"], 10, 64)
	if err != nil {
		t.Fatalf("raft term: %v", err)
	}
	return term
}
