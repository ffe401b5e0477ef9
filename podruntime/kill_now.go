package podruntime

import "context"

// KillPod is RemovePod without a stop grace: SIGKILL at once, no SIGTERM.
// Fencing uses it: a node cut off from the fleet stops a pod only when the
// leader may soon run its replacement, and a container that ignored
// SIGTERM for the stop grace could outlive that moment
// (docs/liveness.md).
func (r *Runtime) KillPod(ctx context.Context, podUID string) error {
	return r.removePod(ctx, podUID, 0)
}
