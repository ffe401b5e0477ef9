package liveness

import "time"

// ProfileLarge is LargeGossip: a fleet of hundreds to thousands of agents
// (docs/scale.md).
const ProfileLarge = "large"

// LargeNodeGrace is the large profile's node grace when none is given. At
// 8 s the node's fence loop looks once a second (an eighth of the grace),
// so a client pings a server once a second rather than four times: 1,000
// pings a second across the servers of a 1,000-node fleet instead of
// 4,000.
const LargeNodeGrace = 8 * time.Second

// LargeGossip is for a fleet of hundreds of agents, or for a sim of them
// sharing a machine's cores: it probes a quarter as often as the LAN
// profile and waits longer for an answer, so the fleet's probe traffic is
// a quarter of the LAN's and a member that a burst of load (a join storm,
// a leader election, a sim's CPU starvation) keeps from answering for
// half a second is not suspected. The suspicion is the LAN's multiplier
// over the longer interval: memberlist scales it by log10 of the fleet,
// so a dead member is declared dead about 3 x 2.5 x 1 s = 7.4 s after its
// first missed probe in a 300-node fleet and 9 s in a 1,000-node one
// (with a confirmation from another member; up to 4 times that without).
//
// What it costs: failover. The leader replaces a failed node's replicas
// at gossip's verdict plus what is left of the grace after the credit
// (VerdictCredit: the suspicion, at most the grace), about 8 to 10 s after
// a crash where the LAN profile takes about 2 s. The fencing rule holds
// for any grace from MinGrace(LargeGossip()) on (about 1.33 s, as the
// check must wait for the 500 ms probe timeout: 3/8 of the grace less the
// probe timeout must stay positive, budget.go); LargeNodeGrace leaves the
// fence loop a second per tick.
func LargeGossip() Gossip {
	return Gossip{
		ProbeInterval:           time.Second,
		ProbeTimeout:            500 * time.Millisecond,
		GossipInterval:          200 * time.Millisecond,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 4,
	}
}

// largeProfile is ForProfile's answer for ProfileLarge.
func largeProfile(grace time.Duration) Config {
	if grace <= 0 {
		grace = LargeNodeGrace
	}
	return Config{Gossip: LargeGossip(), NodeGrace: grace}
}
