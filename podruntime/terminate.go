package podruntime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"

	"github.com/shoal-dev/shoal/api"
)

// minTermination is the least time a container gets between SIGTERM and
// SIGKILL, whatever the grace period or its preStop hook left, as the
// kubelet's minimum grace period.
const minTermination = 2 * time.Second

// TerminatePod stops a pod that is being deleted gracefully, as the
// kubelet does: each running container's preStop hook, then SIGTERM, then
// SIGKILL once grace (counted from now) is up, all containers at once;
// then it removes the pod as RemovePod does. A grace of 0 kills at once.
func (r *Runtime) TerminatePod(ctx context.Context, pod *api.Pod, grace time.Duration) error {
	uid := string(pod.ObjectMeta.UID)
	if uid == "" {
		return errors.New("terminate pod: no uid")
	}
	deadline := time.Now().Add(grace)
	if err := r.stopForDeletion(ctx, pod, deadline, grace > 0); err != nil {
		return err
	}
	return r.removePod(ctx, uid, 0)
}

func (r *Runtime) stopForDeletion(ctx context.Context, pod *api.Pod, deadline time.Time, graceful bool) error {
	uid := string(pod.ObjectMeta.UID)
	defer r.locks.lock(uid)()
	r.probes.stopPod(uid)
	ctx = r.withNS(ctx)
	existing, err := r.podContainers(ctx, uid)
	if err != nil {
		return fmt.Errorf("terminate pod %s: %w", uid, err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, c := range pod.Spec.Containers {
		cont, ok := existing[c.Name]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.terminateContainer(ctx, pod, c, cont, deadline, graceful); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	errs = append(errs, r.stopSidecars(ctx, pod, existing, deadline, graceful)) // sidecars.go
	return errors.Join(errs...)
}

// terminateContainer runs the preStop hook within the deadline, then
// stops the task with what is left of it (at least minTermination).
func (r *Runtime) terminateContainer(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, deadline time.Time, graceful bool) error {
	running, err := taskRunning(ctx, cont)
	if err != nil || !running {
		return err
	}
	if graceful && c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		hctx, cancel := context.WithDeadline(ctx, deadline)
		err := r.runHook(hctx, "prestop", pod, c, cont, c.Lifecycle.PreStop)
		cancel()
		if err != nil {
			r.event(pod, EventWarning, "FailedPreStopHook", fmt.Sprintf("PreStopHook failed: %v", err))
		}
	}
	left := time.Until(deadline)
	if graceful && left < minTermination {
		left = minTermination
	}
	r.event(pod, EventNormal, "Killing", fmt.Sprintf("Stopping container %s", c.Name))
	return r.stopTaskWithin(ctx, cont, max(left, 0))
}

func taskRunning(ctx context.Context, cont containerd.Container) (bool, error) {
	task, err := cont.Task(ctx, nil)
	if err != nil {
		return false, nil // no task: nothing runs
	}
	st, err := task.Status(ctx)
	if err != nil {
		return false, nil
	}
	return st.Status == containerd.Running || st.Status == containerd.Paused || st.Status == containerd.Pausing, nil
}
