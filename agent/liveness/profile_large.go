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
// sharing a machine's cores: it probes an eighth as often as the LAN
// profile and waits a second for an answer, so the fleet's probe traffic
// is an eighth of the LAN's and a member that a burst of load (a join
// storm, a leader election, a sim's CPU starvation) keeps from answering
// for a second is not suspected.
//
// Why a second: an ack is three goroutine wake-ups (the target's packet
// reader, the prober's reader, the prober), and in a 300-node sim on two
// shared cores a goroutine waited up to 0.54 s to run (p99 100-170 ms);
// at 1,000 nodes longer. With the earlier 500 ms timeout the acks of live
// members came late, they were suspected and refuted in waves, and each
// suspicion and refutation is a message every member hears several
// times over (docs/scale.md, sessions 20 and 21). The probe interval is
// twice the timeout so that a missed ack still leaves a second for the
// indirect probes and the TCP ping before the interval ends: memberlist
// gives them only what is left of the interval.
//
// The suspicion is the LAN's multiplier over the longer interval:
// memberlist scales it by log10 of the fleet, so a dead member is declared
// dead about 3 x 2.5 x 2 s = 15 s after its first missed probe in a
// 300-node fleet and 18 s in a 1,000-node one (with a confirmation from
// another member; up to 4 times that without).
//
// What it costs: failover. The leader replaces a failed node's replicas
// at gossip's verdict plus what is left of the grace after the credit
// (VerdictCredit: the suspicion, at most the grace), about 15 to 20 s
// after a crash where the LAN profile takes about 2 s. The fencing rule
// holds for any grace from MinGrace(LargeGossip()) on (about 2.67 s, as
// the check must wait for the 1 s probe timeout: 3/8 of the grace less the
// probe timeout must stay positive, budget.go); LargeNodeGrace leaves the
// fence loop a second per tick.
func LargeGossip() Gossip {
	return Gossip{
		ProbeInterval:           2 * time.Second,
		ProbeTimeout:            time.Second,
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
