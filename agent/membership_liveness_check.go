package agent

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-dev/shoal/agent/liveness"
)

// livenessSignature is what an agent gossips of its liveness settings:
// "" for the defaults (as an agent from before the profiles gossips),
// else the profile and the grace.
func (c *Config) livenessSignature() string {
	l := c.liveness()
	if l == liveness.Default() {
		return ""
	}
	return fmt.Sprintf("%s/%v", profileName(c.GossipProfile), l.NodeGrace)
}

// checkLiveness says, once per member and setting, when a member runs
// other liveness settings than this agent. The fencing rule holds only
// when the leader's grace is no shorter than a node's, and a leader on
// LAN timings reads a node's slow uplink as a death: the profile and the
// grace are the fleet's (docs/liveness.md). It does not refuse the
// member, since changing them fleet-wide means restarting agents one at a
// time.
func (m *membership) checkLiveness(n *memberlist.Node) {
	var meta nodeMeta
	if len(n.Meta) == 0 || json.Unmarshal(n.Meta, &meta) != nil {
		return
	}
	m.mu.Lock()
	seen, ok := m.livenessSeen[n.Name]
	m.livenessSeen[n.Name] = meta.Liveness
	m.mu.Unlock()
	if meta.Liveness == m.liveness || ok && seen == meta.Liveness {
		return
	}
	m.log.Error("a member runs other liveness settings than this agent: its pods may run twice, or be replaced while it runs them; give every agent the same gossip-profile and node-grace",
		"node", n.Name, "its", livenessName(meta.Liveness), "ours", livenessName(m.liveness))
}

func livenessName(sig string) string {
	if sig == "" {
		return fmt.Sprintf("%s/%v", liveness.ProfileLAN, liveness.DefaultNodeGrace)
	}
	return sig
}
