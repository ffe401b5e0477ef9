package agent

import "time"

// DefaultNodeGrace is how long gossip must hold an agent failed before the
// fleet declares its node NotReady and replaces its replicas.
const DefaultNodeGrace = 2 * time.Second

// nodeGrace is the one node grace every part reads: the leader's node
// lifecycle and seat healing (agent/controllers) and fencing.
func (c *Config) nodeGrace() time.Duration {
	if c.NodeGrace <= 0 {
		return DefaultNodeGrace
	}
	return c.NodeGrace
}
