package agent

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/agent/node"
)

// runHollowNode is runNode for an agent given a NodeBackend: the same
// reconciler, fencing and status reports over the backend's runtime and
// network. A hollow node has no containerd, so no logs, exec, images,
// image collection, service proxy or DNS.
func (a *Agent) runHollowNode(ctx context.Context) {
	rt, plane := a.cfg.NodeBackend()
	fleetAPI := a.nodeAPI(time.Minute)
	n, err := node.New(node.Config{Name: a.cfg.Name, Resync: a.cfg.ResyncInterval, Log: a.log},
		node.Deps{Assignments: &heldView{c: fleetAPI}, Status: fleetAPI, Runtime: rt, Network: plane, Fence: a.fence, Metrics: reconcileMetrics{a.metrics}})
	if err != nil {
		a.log.Error("node reconciler", "err", err)
		return
	}
	n.Run(ctx)
}
