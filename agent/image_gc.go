package agent

import (
	"context"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/podruntime"
)

// imageGC runs the node's image garbage collection (node.RunImageGC)
// under the agent's high- and low-water marks, unless it is disabled.
func (a *Agent) imageGC(ctx context.Context, rt *podruntime.Runtime) {
	if a.cfg.ImageGCHighPercent > 100 {
		return // disabled
	}
	policy := podruntime.ImageGCPolicy{Disk: podruntime.StatfsUsage(a.cfg.ImageFS),
		HighPercent: float64(a.cfg.ImageGCHighPercent), LowPercent: float64(a.cfg.ImageGCLowPercent)}
	node.RunImageGC(ctx, imageCollector{rt, policy}, a.cfg.ImageGCInterval, a.log)
}

// imageCollector is podruntime's image garbage collection under a policy.
type imageCollector struct {
	rt     *podruntime.Runtime
	policy podruntime.ImageGCPolicy
}

func (c imageCollector) CollectImages(ctx context.Context) ([]string, error) {
	return c.rt.GarbageCollectImages(ctx, c.policy)
}
