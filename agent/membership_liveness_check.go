package agent

import (
	"encoding/json"
	"fmt"
	"strings"

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

// livenessMismatch is the refusal of a member whose liveness settings
// differ from this agent's.
type livenessMismatch struct {
	node, its, ours string
}

func (e *livenessMismatch) Error() string {
	return fmt.Sprintf("member %q runs gossip profile/node grace %s, this agent %s: every agent of a fleet needs the same --gossip-profile and --node-grace (docs/liveness.md)",
		e.node, e.its, e.ours)
}

// agreeLiveness refuses a member that runs other liveness settings than
// this agent. The fencing rule holds only when no node fences later than
// the leader replaces (a node with a longer grace than the leader's runs
// its pods on after their replacements started), and the leader's credit
// for gossip's suspicion is its own profile's: a member on LAN timings in
// a WAN fleet declares a slow member dead long before the leader's
// credit assumes, so the leader counts from before the node's last
// contact. Either way a replica may run twice, so, as Consul refuses a
// member of another datacenter, the fleet refuses the member (memberlist
// then neither probes it nor lists it) and the member's own join fails
// with this error, naming both settings. Metadata that cannot be read is
// let through: record logs it, and such a member is never listed.
func (m *membership) agreeLiveness(n *memberlist.Node) error {
	if n.Name == m.self {
		return nil
	}
	var meta nodeMeta
	if len(n.Meta) == 0 || json.Unmarshal(n.Meta, &meta) != nil {
		return nil
	}
	if meta.Liveness == m.liveness {
		return nil
	}
	err := &livenessMismatch{node: n.Name, its: livenessName(meta.Liveness), ours: livenessName(m.liveness)}
	m.mu.Lock()
	seen, ok := m.livenessSeen[n.Name]
	m.livenessSeen[n.Name] = meta.Liveness
	m.mu.Unlock()
	if !ok || seen != meta.Liveness { // gossip repeats a member's alive messages
		m.log.Error("refused a member: "+err.Error(), "node", n.Name, "its", err.its, "ours", err.ours)
	}
	return err
}

// NotifyAlive is memberlist's AliveDelegate: every message that a member
// is alive passes here, also those that reach this agent second-hand by
// gossip rather than by a join.
func (m *membership) NotifyAlive(n *memberlist.Node) error {
	return m.agreeLiveness(n)
}

// NotifyMerge is memberlist's MergeDelegate: a join's exchange of member
// lists, on both sides, so the joining agent's join fails with the
// refusal as well as the fleet's members refuse it. Members the list
// holds dead or departed are not checked: their settings may be from
// before the fleet changed them, and they are no longer there to differ.
func (m *membership) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if n.State != memberlist.StateAlive && n.State != memberlist.StateSuspect {
			continue
		}
		if err := m.agreeLiveness(n); err != nil {
			return err
		}
	}
	return nil
}

func livenessName(sig string) string {
	if sig == "" {
		return fmt.Sprintf("%s/%v", liveness.ProfileLAN, liveness.DefaultNodeGrace)
	}
	return sig
}

// livenessRefused tells whether a join failed because the fleet runs
// other liveness settings (memberlist passes the refusal on as text).
func livenessRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "same --gossip-profile and --node-grace")
}
