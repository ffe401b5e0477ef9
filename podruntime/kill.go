package podruntime

import (
	"context"
	"fmt"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
)

// killTask stops a container's running process the way stopTaskWithin does
// (SIGTERM, the stop grace, SIGKILL) but keeps the exited task, so the next
// sync sees an exit, records it as the last state and restarts the
// container by its restart policy and back-off, as after a crash.
func (r *Runtime) killTask(ctx context.Context, cont containerd.Container) error {
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load task of container %s: %w", cont.ID(), err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("wait for container %s: %w", cont.ID(), err)
	}
	if err := task.Kill(ctx, syscall.SIGTERM); err != nil {
		if errdefs.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("signal container %s: %w", cont.ID(), err)
	}
	grace := time.NewTimer(r.stopGrace)
	defer grace.Stop()
	select {
	case <-exited:
		return nil
	case <-grace.C:
	case <-ctx.Done():
		return fmt.Errorf("stop container %s: %w", cont.ID(), ctx.Err())
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("kill container %s: %w", cont.ID(), err)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for container %s to die: %w", cont.ID(), ctx.Err())
	}
}
