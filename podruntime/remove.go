package podruntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
)

// RemovePod stops the pod's containers (SIGTERM, the stop grace, SIGKILL)
// all at once, deletes their tasks, containers and snapshots, then the
// sandbox and the logs. Removing a pod that is not here is not an error.
func (r *Runtime) RemovePod(ctx context.Context, podUID string) error {
	return r.removePod(ctx, podUID, r.stopGrace)
}

// removePod is RemovePod with stopGrace between SIGTERM and SIGKILL.
func (r *Runtime) removePod(ctx context.Context, podUID string, stopGrace time.Duration) error {
	if podUID == "" {
		return errors.New("remove pod: no uid")
	}
	defer r.locks.lock(podUID)()
	r.probes.stopPod(podUID)
	ctx = r.withNS(ctx)
	existing, err := r.podContainers(ctx, podUID)
	if err != nil {
		return fmt.Errorf("remove pod %s: %w", podUID, err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, cont := range existing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.destroyContainer(ctx, cont, stopGrace); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// Keep the sandbox: containers still in it would lose their namespaces' names.
		return fmt.Errorf("remove pod %s: %w", podUID, err)
	}
	if err := removeSandboxDir(r.sandboxDir(podUID)); err != nil {
		return fmt.Errorf("remove pod %s: %w", podUID, err)
	}
	if err := r.removeVolumes(podUID); err != nil {
		return err
	}
	r.names.forget(podUID)
	r.eventsSeen.forget(podUID)
	r.pulls.forgetPod(podUID)
	r.backoff.forgetPrefix("pull/" + podUID + "/")
	if err := os.RemoveAll(filepath.Join(logsDir(r.stateDir), podUID)); err != nil {
		return fmt.Errorf("remove logs of pod %s: %w", podUID, err)
	}
	r.log.Info("pod removed", "pod", podUID)
	return nil
}

// ListPods returns the uids of the pods that have containers or a sandbox on
// this node, so the caller can adopt them or remove what no pod claims.
func (r *Runtime) ListPods(ctx context.Context) ([]string, error) {
	ctx = r.withNS(ctx)
	seen := map[string]bool{}
	list, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q", labelPodUID))
	if err != nil {
		return nil, fmt.Errorf("list pod containers: %w", err)
	}
	for _, c := range list {
		// The listed record holds the labels; a Labels call would read it
		// again, once per container at every pass.
		rec, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			continue
		}
		if uid := rec.Labels[labelPodUID]; uid != "" {
			seen[uid] = true
		}
	}
	// A pod whose containers are gone may still hold a sandbox or volumes.
	for _, dir := range []string{sandboxesDir(r.stateDir), volumesDir(r.stateDir)} {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				seen[e.Name()] = true
			}
		}
	}
	uids := make([]string, 0, len(seen))
	for uid := range seen {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	return uids, nil
}
