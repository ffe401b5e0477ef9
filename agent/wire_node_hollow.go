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
		hollowNodeDeps(rt, plane, node.Deps{Assignments: &heldView{c: fleetAPI}, Status: fleetAPI, Fence: a.fence, Metrics: reconcileMetrics{a.metrics}}))
	if err != nil {
		a.log.Error("node reconciler", "err", err)
		return
	}
	n.Run(ctx)
}

// hollowNodeDeps completes d with the backend's runtime and network. A
// runtime that signals its changes (hollow.Runtime does) is the
// reconciler's Changes too, as containerd's is in runNode: without it a
// settled node re-read its whole assignments view every Resync (2 s)
// instead of every steady resync (30 s), a third of an idle sim's CPU
// (docs/scale.md).
func hollowNodeDeps(rt node.PodRuntime, plane node.Network, d node.Deps) node.Deps {
	d.Runtime, d.Network = rt, plane
	if ch, ok := rt.(node.RuntimeChanges); ok {
		d.Changes = ch
	}
	return d
}
