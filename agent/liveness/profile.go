package liveness

import (
	"fmt"
	"time"
)

// The gossip profiles an agent is started with (--gossip-profile). A
// profile is the fleet's, like the node grace: every agent is given the
// same one (docs/operations.md, "Edge sites").
const (
	// ProfileLAN is DefaultGossip: a LAN or a lab.
	ProfileLAN = "lan"
	// ProfileWAN is WANGossip: sites joined by slow or lossy uplinks.
	ProfileWAN = "wan"
)

// WANNodeGrace is the node grace of the WAN profile when none is given:
// the shortest whole-second grace whose budget holds with WANGossip's
// probe timeout (a client's contact check is a ping that may take that
// long, so the grace must be more than 8/3 of it; budget.go).
const WANNodeGrace = 10 * time.Second

// WANGossip is memberlist's own WAN profile (DefaultWANConfig): a probe
// may take 3 s to be answered, members are probed every 5 s and a suspect
// has 6 probe intervals (x log10 of the fleet) to refute. A slow uplink,
// a saturated link or a second of packet loss then reads as a slow
// member, not as a dead one. What it costs: gossip's verdict on a member
// that did die comes 35 s or more after it died (docs/liveness.md: about
// wait + ProbeInterval + Suspicion), and the leader replaces nothing
// before the verdict and the grace; an edge workload that should outlive
// a cut uplink says so with tolerations instead (docs/liveness.md).
func WANGossip() Gossip {
	return Gossip{
		ProbeInterval:           5 * time.Second,
		ProbeTimeout:            3 * time.Second,
		GossipInterval:          500 * time.Millisecond,
		SuspicionMult:           6,
		SuspicionMaxTimeoutMult: 6,
	}
}

// ForProfile is the liveness of the named gossip profile ("" is the LAN
// one) with the given node grace (0: the profile's default grace). The
// result is not validated: a grace too short for the profile's timings is
// refused by Validate, which names the budget it breaks.
func ForProfile(profile string, grace time.Duration) (Config, error) {
	switch profile {
	case "", ProfileLAN:
		return WithGrace(grace), nil
	case ProfileWAN:
		if grace <= 0 {
			grace = WANNodeGrace
		}
		return Config{Gossip: WANGossip(), NodeGrace: grace}, nil
	case ProfileLarge:
		return largeProfile(grace), nil // profile_large.go
	}
	return Config{}, fmt.Errorf("gossip profile %q: want %q, %q or %q", profile, ProfileLAN, ProfileWAN, ProfileLarge)
}

// MinGrace is the shortest node grace, to the millisecond, with which the
// budget holds under these gossip timings: the figure an error about a
// too short grace can suggest.
func MinGrace(g Gossip) time.Duration {
	lo, hi := time.Millisecond, time.Hour
	if (Config{Gossip: g, NodeGrace: hi}).Budget().Check() != nil {
		return 0
	}
	for hi-lo > time.Millisecond {
		mid := (lo + hi) / 2 / time.Millisecond * time.Millisecond
		if (Config{Gossip: g, NodeGrace: mid}).Budget().Check() == nil {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
