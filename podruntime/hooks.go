package podruntime

import (
	"context"
	"errors"
	"fmt"
	"time"

	containerd "github.com/containerd/containerd"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api"
)

// Container lifecycle hooks (lifecycle.postStart and preStop), run as the
// kubelet runs them: an exec in the container's running task, an HTTP GET
// to the pod's own IP from inside its network namespace, or a sleep.

// postStartTimeout bounds a postStart hook: the kubelet waits for it
// without limit, but here it holds the pod's sync.
const postStartTimeout = 2 * time.Minute

// runHook runs one handler against a container and says why it failed.
func (r *Runtime) runHook(ctx context.Context, kind string, pod *api.Pod, c api.Container, cont containerd.Container, h *corev1.LifecycleHandler) error {
	switch {
	case h.Exec != nil:
		code, err := r.execProbe(ctx, kind, cont.ID(), h.Exec.Command)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("command %q exited with %d", h.Exec.Command, code)
		}
		return nil
	case h.HTTPGet != nil:
		nsPath, err := containerNetns(ctx, cont)
		if err != nil {
			return err
		}
		t := probeTarget{pod: pod, container: c, containerID: cont.ID(), host: pod.Status.PodIP, netnsPath: nsPath}
		if ok, msg := httpProbe(ctx, h.HTTPGet, t); !ok {
			return errors.New(msg)
		}
		return nil
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.New("hook has no handler")
}

// containerNetns is the network namespace the container was created in.
func containerNetns(ctx context.Context, cont containerd.Container) (string, error) {
	spec, err := cont.Spec(ctx)
	if err != nil {
		return "", fmt.Errorf("spec of container %s: %w", cont.ID(), err)
	}
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace && ns.Path != "" {
				return ns.Path, nil
			}
		}
	}
	return "", errors.New("the container has no pod network namespace")
}

// postStart runs the container's postStart hook right after its task
// started. A failed hook kills the container, as in Kubernetes; its
// restart policy then decides, as after a crash.
func (r *Runtime) postStart(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container) error {
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return nil
	}
	hctx, cancel := context.WithTimeout(ctx, postStartTimeout)
	defer cancel()
	err := r.runHook(hctx, "poststart", pod, c, cont, c.Lifecycle.PostStart)
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("PostStartHook failed: %v", err)
	r.event(pod, EventWarning, "FailedPostStartHook", msg)
	r.log.Info("postStart hook failed: killing the container", "pod", pod.ObjectMeta.UID, "container", c.Name, "err", err)
	// The exited task stays: the next sync records the exit and restarts
	// the container by its policy and back-off. The pod's other
	// containers are not held up by it.
	if err := r.killTask(ctx, cont); err != nil {
		return fmt.Errorf("container %s: %s: %w", c.Name, msg, err)
	}
	return nil
}
