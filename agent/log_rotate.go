package agent

import (
	"context"
	"time"
)

// logMaxBytes is the size past which a container's log is rotated; a node
// keeps at most about twice it per container instance.
const logMaxBytes = 10 << 20

const logRotateEvery = 30 * time.Second

// rotateLogsLoop keeps the node's container logs bounded.
func (a *Agent) rotateLogsLoop(ctx context.Context) {
	tick := time.NewTicker(logRotateEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if rt := a.runtime.get(); rt != nil {
			if err := rt.RotateLogs(logMaxBytes); err != nil {
				a.log.Warn("rotate container logs", "err", err)
			}
		}
	}
}
