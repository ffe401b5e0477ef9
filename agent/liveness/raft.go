package liveness

import "time"

// RaftHeartbeatTimeout is every seat's Raft HeartbeatTimeout
// (consensus.Config's default): a follower that has heard nothing from
// its leader for this long stands for election, so it bounds how fast
// the fleet recovers from a lost leader.
const RaftHeartbeatTimeout = time.Second

// heartbeatMargin is how many times the longest gap between two of the
// leader's heartbeats must fit in its lease and in the contact window:
// on a loaded machine a heartbeat now and then comes late, and a leader
// whose lease runs out steps down with its quorum alive, a follower seat
// whose window runs out stops acting on its view.
const heartbeatMargin = 5 // halves: 2.5 gaps

// RaftTimings are the Raft timings of the seats that the liveness budget
// decides (consensus.Config's fields of the same names).
type RaftTimings struct {
	// LeaderLeaseTimeout: a leader that has not heard from a quorum for
	// this long steps down. Never shorter than the 500 ms it was, never
	// longer than RaftHeartbeatTimeout (hashicorp/raft requires it).
	LeaderLeaseTimeout time.Duration
	// LeaderHeartbeatTimeout is the HeartbeatTimeout a seat runs with
	// while it leads: hashicorp/raft sends each follower a heartbeat every
	// tenth of it, drawn from 1-2x, so the longest gap is a fifth of it.
	// The followers keep RaftHeartbeatTimeout for their election timer:
	// a lost leader is noticed as fast as before. consensus never lets
	// a leader heartbeat more often than RaftHeartbeatTimeout implies.
	LeaderHeartbeatTimeout time.Duration
}

// Raft derives the seats' lease and the leader's heartbeat from the
// budget: the longest heartbeat gap fits heartbeatMargin/2 times in the
// lease and in the contact window.
//
//	LeaderLeaseTimeout     = min(max(ContactWindow, 500 ms), RaftHeartbeatTimeout)
//	LeaderHeartbeatTimeout = 5 x min(LeaderLeaseTimeout, ContactWindow) / 2.5
//
// At the default grace (window 750 ms): a lease of 750 ms and heartbeats
// every 150-300 ms (1.5 s), a third fewer than at the 1 s every seat ran
// before. At a grace of 1 s (window 375 ms) the formula asks for more
// heartbeats than before, which consensus does not send (its floor is
// HeartbeatTimeout): the window holds 1.9 gaps there, docs/liveness.md.
func (b Budget) Raft() RaftTimings {
	lease := min(max(b.ContactWindow, 500*time.Millisecond), RaftHeartbeatTimeout)
	gap := min(lease, b.ContactWindow) * 2 / heartbeatMargin
	return RaftTimings{LeaderLeaseTimeout: lease, LeaderHeartbeatTimeout: 5 * gap}
}
