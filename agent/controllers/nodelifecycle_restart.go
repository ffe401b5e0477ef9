package controllers

import (
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
)

// graceOf is how long the named node may be out of contact before the
// leader declares it lost: the node grace, or the longer restart grace its
// agent recorded in Raft when it stopped on purpose
// (liveness.AnnRestartGrace, written before the agent left and removed by
// it once it is back in contact). A crashed or cut-off agent recorded
// nothing, so its node fails over after the node grace as ever. The grace
// counts from the same moment as the node grace (downFor: no earlier than
// the agent's last contact), and the restarted agent keeps its pods by the
// same restart budget (agent/node/planned_stop.go), so the fencing rule
// holds through the restart.
//
// Read only for members gossip does not hold alive: a live member's
// grace is never asked for.
func (l *Leader) graceOf(name string) time.Duration {
	grace := l.cfg.Liveness.NodeGrace
	n, err := l.state.Node(name)
	if err != nil || n == nil {
		return grace
	}
	return max(grace, liveness.RestartGraceOf(n.ObjectMeta.Annotations))
}
