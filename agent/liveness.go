package agent

import (
	"fmt"

	"github.com/shoal-dev/shoal/agent/liveness"
)

// DefaultNodeGrace is how long an agent must be out of contact before the
// fleet declares its node NotReady and replaces its replicas.
const DefaultNodeGrace = liveness.DefaultNodeGrace

// liveness is the fleet's one liveness config (package agent/liveness):
// gossip's timings and the node grace, from which fencing, the leader's
// node lifecycle and seat healing derive theirs.
func (c *Config) liveness() liveness.Config {
	l, err := liveness.ForProfile(c.GossipProfile, c.NodeGrace)
	if err != nil { // refused by Validate; the LAN's until then
		return liveness.WithGrace(c.NodeGrace)
	}
	return l
}

// validLiveness names a gossip profile that does not exist, or a grace
// too short for the profile's timings with the shortest that would do.
func (c *Config) validLiveness() error {
	l, err := liveness.ForProfile(c.GossipProfile, c.NodeGrace)
	if err != nil {
		return fmt.Errorf("gossip-profile: %w", err)
	}
	if err := l.Validate(); err != nil {
		if min := liveness.MinGrace(l.Gossip); min > l.NodeGrace {
			return fmt.Errorf("node-grace %v: too short for gossip-profile %q, whose probes may take %v: give at least %v: %w", l.NodeGrace, profileName(c.GossipProfile), l.Gossip.ProbeTimeout, min, err)
		}
		return fmt.Errorf("node-grace %v: %w", l.NodeGrace, err)
	}
	return nil
}

func profileName(p string) string {
	if p == "" {
		return liveness.ProfileLAN
	}
	return p
}
