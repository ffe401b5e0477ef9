package podruntime

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/shoal-dev/shoal/api"
)

func hasProbes(c api.Container) bool {
	return c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
}

// syncProbes starts a prober for every running app container (and sidecar) with probes
// (a fresh one per run) and stops the probers of containers that are not
// running or no longer in the spec. Called under the pod's lock.
func (r *Runtime) syncProbes(ctx context.Context, pod *api.Pod, netnsPath string, initialized bool) error {
	uid := pod.ObjectMeta.UID
	keep := map[string]bool{}
	defer r.probes.keep(string(uid), keep)
	var probed []api.Container
	for _, c := range probedContainers(pod, initialized) { // sidecars.go
		if hasProbes(c) {
			probed = append(probed, c)
		}
	}
	if len(probed) == 0 {
		return nil // nothing to read: a pod without probes keeps no prober
	}
	existing, err := r.containersOf(ctx, pod) // reads.go
	if err != nil {
		return fmt.Errorf("probes: %w", err)
	}
	target := *pod // the prober keeps its own copy: the caller's pod changes
	for _, c := range probed {
		cont := existing[c.Name]
		if cont == nil {
			continue
		}
		runID, running, err := r.currentRun(ctx, cont)
		if err != nil {
			return fmt.Errorf("probes of container %s: %w", c.Name, err)
		}
		if !running {
			continue
		}
		keep[c.Name] = true
		labels, err := cont.Labels(ctx)
		if err != nil {
			return fmt.Errorf("probes of container %s: %w", c.Name, err)
		}
		t := probeTarget{pod: &target, container: c, containerID: cont.ID(), host: pod.Status.PodIP, netnsPath: netnsPath,
			startedAt: parseTime(runID), remembered: decodeProbeMemory(labels, runID)}
		r.probes.ensure(string(uid), c.Name, runID, func(ctx context.Context, p *prober) { r.runProbes(ctx, p, t) })
	}
	return nil
}

// currentRun returns the run id (start time label) of a container and
// whether its task is running.
func (r *Runtime) currentRun(ctx context.Context, cont containerd.Container) (string, bool, error) {
	labels, err := cont.Labels(ctx)
	if errdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("labels of container %s: %w", cont.ID(), err)
	}
	st, err := r.taskState(ctx, cont) // reads.go
	if errdefs.IsNotFound(err) {
		return labels[labelStartedAt], false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("status of container %s: %w", cont.ID(), err)
	}
	return labels[labelStartedAt], st.Status == containerd.Running, nil
}

// killUnhealthy stops a container whose liveness or startup probe failed
// past its threshold; the sync that follows restarts it by the restart
// policy, recording the kill as its last state.
func (r *Runtime) killUnhealthy(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container) error {
	if cont == nil || !hasProbes(c) {
		return nil
	}
	runID, running, err := r.currentRun(ctx, cont)
	if err != nil || !running {
		return err
	}
	res, ok := r.probes.result(string(pod.ObjectMeta.UID), c.Name, runID)
	if !ok || res.kill == "" {
		return nil
	}
	r.event(pod, EventNormal, "Killing", res.kill)
	r.log.Info("restarting unhealthy container", "pod", pod.ObjectMeta.UID, "container", c.Name, "why", res.kill)
	r.probes.stopContainer(string(pod.ObjectMeta.UID), c.Name)
	if err := r.killTask(ctx, cont); err != nil {
		return fmt.Errorf("kill unhealthy container %s: %w", c.Name, err)
	}
	return nil
}

// probeView is what the probes say about a running container: started
// (the startup probe passed) and ready (started, and the readiness probe
// passed). Without probes a running container is both.
func (r *Runtime) probeView(uid string, c api.Container, runID string) (started, ready bool) {
	if !hasProbes(c) {
		return true, true
	}
	res, ok := r.probes.result(uid, c.Name, runID)
	started = c.StartupProbe == nil || (ok && res.started)
	ready = started && (c.ReadinessProbe == nil || (ok && res.ready))
	return started, ready
}
