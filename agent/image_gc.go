package agent

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/podruntime"
)

// imageGC removes unused images of this node whenever its image disk is
// above the high-water mark (podruntime.GarbageCollectImages).
func (a *Agent) imageGC(ctx context.Context, rt *podruntime.Runtime) {
	if a.cfg.ImageGCHighPercent > 100 {
		return // disabled
	}
	policy := podruntime.ImageGCPolicy{Disk: podruntime.StatfsUsage(a.cfg.ImageFS),
		HighPercent: float64(a.cfg.ImageGCHighPercent), LowPercent: float64(a.cfg.ImageGCLowPercent)}
	interval := a.cfg.ImageGCInterval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if removed, err := rt.GarbageCollectImages(ctx, policy); err != nil && ctx.Err() == nil {
			a.log.Warn("image garbage collection", "err", err)
		} else if len(removed) > 0 {
			a.log.Info("image garbage collection removed images", "images", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
