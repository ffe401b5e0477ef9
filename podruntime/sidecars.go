package podruntime

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/shoal-dev/shoal/api"
)

// Native sidecars (api/sidecars.go): an init container with restartPolicy
// Always starts in its place among the init containers and counts as done
// once it runs and its startup probe (if any) passed; the init containers
// after it and then the app containers follow while it keeps running,
// restarted whenever it exits. Once the app containers have finished for
// good (a Job's pod), the sidecars are stopped, last first, and the pod
// ends with the app containers' phase. At deletion they stop after the app
// containers, last first (terminate.go).

// syncSidecar keeps one sidecar running, or stops it once the app
// containers are done. started tells whether the init containers after it
// may run.
func (r *Runtime) syncSidecar(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, netnsPath string, appsDone bool) (started bool, err error) {
	if appsDone {
		if cont == nil {
			return true, nil
		}
		grace := time.Duration(api.TerminationGracePeriod(pod)) * time.Second
		r.probes.stopContainer(string(pod.ObjectMeta.UID), c.Name)
		return true, r.stopForGood(ctx, pod, c, cont, grace)
	}
	if err := r.killUnhealthy(ctx, pod, c, cont); err != nil {
		return false, err
	}
	if err := r.syncContainer(ctx, pod, c, cont, netnsPath, api.RestartAlways); err != nil {
		return false, err
	}
	if cont == nil {
		return false, nil // created just now: the next sync sees it run
	}
	runID, running, err := r.currentRun(ctx, cont)
	if err != nil || !running {
		return false, err
	}
	started, _ = r.probeView(string(pod.ObjectMeta.UID), c, runID)
	return started, nil
}

// sidecarPolicy is how a sidecar's exit is judged: restarted while the app
// containers may still run, final once they are done.
func sidecarPolicy(appsDone bool) api.RestartPolicy {
	if appsDone {
		return api.RestartNever
	}
	return api.RestartAlways
}

// appsCreated tells whether any app container exists: the pod was
// initialized once, and a sidecar that restarts later does not hold the
// app containers back again (as in Kubernetes).
func appsCreated(pod *api.Pod, existing map[string]containerd.Container) bool {
	for _, c := range pod.Spec.Containers {
		if existing[c.Name] != nil {
			return true
		}
	}
	return false
}

// appsDone tells whether every app container has ended for good (only
// possible under restartPolicy OnFailure or Never), or an init container
// failed for good (the pod failed before its app containers): then the
// sidecars stop.
func (r *Runtime) appsDone(ctx context.Context, pod *api.Pod, existing map[string]containerd.Container) (bool, error) {
	if pod.Spec.RestartPolicy == api.RestartAlways || !hasSidecars(pod) {
		return false, nil
	}
	for i := range pod.Spec.InitContainers {
		c := pod.Spec.InitContainers[i]
		cont := existing[c.Name]
		if api.IsSidecar(&c) || cont == nil {
			continue
		}
		v, err := r.containerStatus(ctx, pod, c, cont, initRestartPolicy(pod), true)
		if err != nil {
			return false, err
		}
		if v.done && v.exitCode != 0 {
			return true, nil
		}
	}
	for _, c := range pod.Spec.Containers {
		cont := existing[c.Name]
		if cont == nil {
			return false, nil
		}
		v, err := r.containerStatus(ctx, pod, c, cont, pod.Spec.RestartPolicy, false)
		if err != nil || !v.done {
			return false, err
		}
	}
	return true, nil
}

func hasSidecars(pod *api.Pod) bool {
	for i := range pod.Spec.InitContainers {
		if api.IsSidecar(&pod.Spec.InitContainers[i]) {
			return true
		}
	}
	return false
}

// probedContainers are the containers whose probes run: the sidecars from
// their start, the app containers once the pod is initialized.
func probedContainers(pod *api.Pod, initialized bool) []api.Container {
	var out []api.Container
	for i := range pod.Spec.InitContainers {
		if api.IsSidecar(&pod.Spec.InitContainers[i]) {
			out = append(out, pod.Spec.InitContainers[i])
		}
	}
	if initialized {
		out = append(out, pod.Spec.Containers...)
	}
	return out
}

// stopSidecars stops the sidecars after the app containers, one at a time
// and last first, each with what is left of the grace period.
func (r *Runtime) stopSidecars(ctx context.Context, pod *api.Pod, existing map[string]containerd.Container, deadline time.Time, graceful bool) error {
	var errs []error
	for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
		c := pod.Spec.InitContainers[i]
		cont := existing[c.Name]
		if !api.IsSidecar(&c) || cont == nil {
			continue
		}
		if err := r.terminateContainer(ctx, pod, c, cont, deadline, graceful); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopForGood stops a sidecar once the app containers are done: its
// preStop hook, SIGTERM, SIGKILL once grace is up. Its exited task is kept,
// so that its status shows how it ended and no sync starts it again.
func (r *Runtime) stopForGood(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, grace time.Duration) error {
	running, err := taskRunning(ctx, cont)
	if err != nil || !running {
		return err
	}
	deadline := time.Now().Add(grace)
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		hctx, cancel := context.WithDeadline(ctx, deadline)
		err := r.runHook(hctx, "prestop", pod, c, cont, c.Lifecycle.PreStop)
		cancel()
		if err != nil {
			r.event(pod, EventWarning, "FailedPreStopHook", fmt.Sprintf("PreStopHook failed: %v", err))
		}
	}
	task, err := cont.Task(ctx, nil)
	if err != nil {
		return fmt.Errorf("load task of sidecar %s: %w", c.Name, err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("wait for sidecar %s: %w", c.Name, err)
	}
	r.event(pod, EventNormal, "Killing", fmt.Sprintf("Stopping container %s", c.Name))
	if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("signal sidecar %s: %w", c.Name, err)
	}
	timer := time.NewTimer(max(time.Until(deadline), minTermination))
	defer timer.Stop()
	select {
	case <-exited:
		return nil
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("kill sidecar %s: %w", c.Name, err)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
