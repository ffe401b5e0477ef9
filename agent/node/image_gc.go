package node

import (
	"context"
	"log/slog"
	"time"
)

// ImageCollector removes the node's unused images while its image disk is
// above the high-water mark, and says which it removed
// (podruntime.GarbageCollectImages under the agent's policy).
type ImageCollector interface {
	CollectImages(ctx context.Context) (removed []string, err error)
}

// RunImageGC collects the node's images at once and then every interval
// (a minute when not set) until ctx ends.
func RunImageGC(ctx context.Context, c ImageCollector, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if removed, err := c.CollectImages(ctx); err != nil && ctx.Err() == nil {
			log.Warn("image garbage collection", "err", err)
		} else if len(removed) > 0 {
			log.Info("image garbage collection removed images", "images", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
