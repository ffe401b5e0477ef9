package liveness

import (
	"testing"
	"time"
)

// TestRaftTimingsFitTheLeaseAndTheWindow: wherever the leader's
// heartbeat is longer than the followers' (so its heartbeats are fewer
// than before), the longest gap between two of them fits 2.5 times in the
// lease and in the contact window, the lease is one hashicorp/raft takes
// (at most the followers' HeartbeatTimeout) and the contact window stays
// shorter than FenceAfter.
func TestRaftTimingsFitTheLeaseAndTheWindow(t *testing.T) {
	var cfgs []Config
	for _, g := range []time.Duration{time.Second, 1500 * time.Millisecond, 2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second} {
		cfgs = append(cfgs, WithGrace(g))
	}
	for _, p := range []string{ProfileWAN, ProfileLarge} {
		c, err := ForProfile(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, c)
	}
	for _, c := range cfgs {
		b := c.Budget()
		rt := b.Raft()
		if rt.LeaderLeaseTimeout > RaftHeartbeatTimeout || rt.LeaderLeaseTimeout < 500*time.Millisecond {
			t.Errorf("grace %v: lease %v, want 500 ms to %v", c.NodeGrace, rt.LeaderLeaseTimeout, RaftHeartbeatTimeout)
		}
		if b.ContactWindow >= b.FenceAfter {
			t.Errorf("grace %v: contact window %v not shorter than FenceAfter %v", c.NodeGrace, b.ContactWindow, b.FenceAfter)
		}
		if rt.LeaderHeartbeatTimeout <= RaftHeartbeatTimeout {
			continue // consensus keeps the followers' (docs/liveness.md)
		}
		gap := rt.LeaderHeartbeatTimeout / 5
		if 5*gap/2 > rt.LeaderLeaseTimeout || 5*gap/2 > b.ContactWindow {
			t.Errorf("grace %v: heartbeat gaps up to %v, not 2.5 times within the lease %v and the contact window %v", c.NodeGrace, gap, rt.LeaderLeaseTimeout, b.ContactWindow)
		}
	}
	if got := Default().Budget().Raft(); got != (RaftTimings{LeaderLeaseTimeout: 750 * time.Millisecond, LeaderHeartbeatTimeout: 1500 * time.Millisecond}) {
		t.Errorf("default grace: %+v, want a 750 ms lease and a 1.5 s leader heartbeat timeout", got)
	}
}
