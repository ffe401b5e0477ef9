package liveness

import (
	"fmt"
	"time"
)

// DefaultRestartGrace is how long the fleet keeps the pods of an agent that
// stopped on purpose (systemctl restart, a rolling upgrade) before it
// replaces them: a restart that reads its data dir, reconnects to
// containerd and rejoins takes seconds, longer than the node grace, which
// is tuned for fast failover of a crashed node. Kubernetes waits 40 s
// (node-monitor-grace-period) for any silent node; shoal waits this long
// only for one that said it was stopping, and the grace for a crash.
const DefaultRestartGrace = 30 * time.Second

// AnnRestartGrace is the node annotation an agent that stops on purpose
// records in Raft before it leaves: the grace (a Go duration) its planned
// restart has. The leader keeps the node and its pods for that long after
// the agent left, instead of the node grace, and the restarted agent, once
// in contact again, removes the annotation so that a later crash fails
// over as fast as ever (docs/liveness.md, "Planned restarts").
const AnnRestartGrace = "shoal.dev/restart-grace"

// RestartGraceOf reads AnnRestartGrace from a node's annotations: 0 when
// there is none or it is not a positive duration.
func RestartGraceOf(annotations map[string]string) time.Duration {
	v, ok := annotations[AnnRestartGrace]
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// ValidRestartGrace refuses a negative restart grace. 0 turns planned
// restarts off (every stop is a crash to the fleet); one no longer than
// the node grace changes nothing (Restart), so a fleet with a long node
// grace needs no restart grace of its own.
func ValidRestartGrace(restart time.Duration) error {
	if restart < 0 {
		return fmt.Errorf("restart grace %v: must be 0 (off) or more", restart)
	}
	return nil
}

// Restart is the budget of an outage that is a planned restart with the
// given grace: the leader replaces nothing before the restart grace (t0
// is still the node's last contact before it stopped), and the node
// keeps its pods until the same loop period, check, stop and margin
// before that, so FenceAfter moves exactly as far as the replacement.
// A grace no longer than the node grace leaves the budget as it is.
func (b Budget) Restart(grace time.Duration) Budget {
	if grace <= b.NodeGrace {
		return b
	}
	b.FenceAfter += grace - b.NodeGrace
	b.NodeGrace = grace
	return b
}
