package agent

import "github.com/shoal-dev/shoal/agent/liveness"

// DefaultNodeGrace is how long an agent must be out of contact before the
// fleet declares its node NotReady and replaces its replicas.
const DefaultNodeGrace = liveness.DefaultNodeGrace

// liveness is the fleet's one liveness config (package agent/liveness):
// gossip's timings and the node grace, from which fencing, the leader's
// node lifecycle and seat healing derive theirs.
func (c *Config) liveness() liveness.Config { return liveness.WithGrace(c.NodeGrace) }
