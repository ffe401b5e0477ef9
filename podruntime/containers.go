package podruntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/shoal-dev/shoal/api"
)

// podContainers lists the containers of a pod keyed by container name,
// and records their names (podNames): a pass reads them by id after this
// (containersOf), which does not read every container of the namespace.
func (r *Runtime) podContainers(ctx context.Context, podUID string) (map[string]containerd.Container, error) {
	filter := fmt.Sprintf("labels.%q==%q", labelPodUID, podUID)
	list, err := r.client.Containers(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list containers of pod %s: %w", podUID, err)
	}
	out := make(map[string]containerd.Container, len(list))
	names := make([]string, 0, len(list))
	for _, c := range list {
		// The listed record holds the labels; a Labels call would read it again.
		rec, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			return nil, fmt.Errorf("labels of container %s: %w", c.ID(), err)
		}
		name := rec.Labels[labelContainer]
		out[name] = withLabels(c, rec.Labels)
		names = append(names, name)
	}
	r.names.listed(podUID, names)
	return out, nil
}

// createContainer creates (but does not start) one container of the pod.
// carried labels keep a replaced container's history (restarts, last exit).
// env is its environment, resolved when it is created, as the kubelet does.
func (r *Runtime) createContainer(ctx context.Context, pod *api.Pod, c api.Container, img containerd.Image, netnsPath, hash string, carried map[string]string, env []string) (containerd.Container, error) {
	uid := pod.ObjectMeta.UID
	id := containerID(string(uid), c.Name)
	labels := map[string]string{
		labelPodUID:       string(uid),
		labelPodNamespace: pod.ObjectMeta.Namespace,
		labelPodName:      pod.ObjectMeta.Name,
		labelContainer:    c.Name,
		labelSpecHash:     hash,
	}
	for k, v := range carried {
		labels[k] = v
	}
	opts, err := r.specOpts(pod, c, img, netnsPath, env)
	if err != nil {
		return nil, err
	}
	r.names.add(string(uid), c.Name) // before it exists (reads.go)
	// A snapshot without its container is a leftover of a crash between the
	// two; the name is ours, so it is safe to drop.
	if err := r.client.SnapshotService(containerd.DefaultSnapshotter).Remove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("remove leftover snapshot %s: %w", id, err)
	}
	cont, err := r.client.NewContainer(ctx, id,
		containerd.WithImage(img),
		containerd.WithNewSnapshot(id, img),
		containerd.WithContainerLabels(labels),
		containerd.WithNewSpec(opts...),
	)
	if err != nil {
		if errdefs.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create container %s of pod %s: id taken by a container of another pod: %w", id, uid, err)
		}
		return nil, fmt.Errorf("create container %s of pod %s: %w", id, uid, err)
	}
	r.log.Info("container created", "pod", uid, "container", c.Name, "id", id, "image", img.Name())
	return cont, nil
}

// startTask starts a new process for the container, logging to a fresh log
// file (through FIFOs this agent reads: logio.go); the last instance's log
// is kept for `kubectl logs --previous`.
func (r *Runtime) startTask(ctx context.Context, cont containerd.Container, podUID, name string) error {
	path := r.LogPath(podUID, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create log dir of pod %s: %w", podUID, err)
	}
	if err := retireLog(path); err != nil {
		return err
	}
	task, err := cont.NewTask(ctx, r.taskIO(podUID, name))
	if err != nil {
		return fmt.Errorf("create task of container %s: %w", cont.ID(), err)
	}
	if err := task.Start(ctx); err != nil {
		if _, derr := task.Delete(ctx, containerd.WithProcessKill); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("start task of container %s: %w", cont.ID(), err)
	}
	if _, err := cont.SetLabels(ctx, map[string]string{labelStartedAt: formatTime(r.now())}); err != nil {
		return fmt.Errorf("record start of container %s: %w", cont.ID(), err)
	}
	r.log.Info("container started", "pod", podUID, "container", name, "pid", task.Pid())
	return nil
}

// stopTaskWithin stops a running task with SIGTERM, then SIGKILL after
// stopGrace, and deletes it. A missing task is not an error.
func (r *Runtime) stopTaskWithin(ctx context.Context, cont containerd.Container, stopGrace time.Duration) error {
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load task of container %s: %w", cont.ID(), err)
	}
	st, err := task.Status(ctx)
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("status of container %s: %w", cont.ID(), err)
	}
	if err == nil && st.Status != containerd.Stopped && st.Status != containerd.Created {
		exited, err := task.Wait(ctx)
		if err != nil {
			return fmt.Errorf("wait for container %s: %w", cont.ID(), err)
		}
		signal, opts := syscall.SIGTERM, []containerd.KillOpts(nil)
		if stopGrace <= 0 {
			// No grace (KillPod): no SIGTERM a container could act on.
			signal, opts = syscall.SIGKILL, []containerd.KillOpts{containerd.WithKillAll}
		}
		if err := task.Kill(ctx, signal, opts...); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("signal container %s: %w", cont.ID(), err)
		}
		grace := time.NewTimer(stopGrace)
		defer grace.Stop()
		select {
		case <-exited:
		case <-grace.C:
			if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
				return fmt.Errorf("kill container %s: %w", cont.ID(), err)
			}
			select {
			case <-exited:
			case <-ctx.Done():
				return fmt.Errorf("wait for container %s to die: %w", cont.ID(), ctx.Err())
			}
		case <-ctx.Done():
			return fmt.Errorf("stop container %s: %w", cont.ID(), ctx.Err())
		}
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete task of container %s: %w", cont.ID(), err)
	}
	return nil
}

// destroyContainer stops the container (SIGKILL after stopGrace) and
// removes it with its snapshot.
func (r *Runtime) destroyContainer(ctx context.Context, cont containerd.Container, stopGrace time.Duration) error {
	if err := r.stopTaskWithin(ctx, cont, stopGrace); err != nil {
		return err
	}
	if err := cont.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", cont.ID(), err)
	}
	r.backoff.forget(cont.ID())
	if err := r.removeFIFOs(cont.ID()); err != nil {
		return err
	}
	r.log.Info("container removed", "id", cont.ID())
	return nil
}
