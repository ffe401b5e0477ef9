package hollow

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Runtime "runs" a pod the moment it is synced: every init container has
// completed, every app container is running and ready, none restarted.
// Probes, exits, images and resources are not simulated. It keeps only
// what a status needs, in memory.
type Runtime struct {
	mu      sync.Mutex
	pods    map[string]*pod // by UID
	now     func() time.Time
	changes chan struct{} // never signalled: Changes
}

type pod struct {
	netns      string
	containers map[string]container // by name, init containers included
}

type container struct {
	image   string
	started time.Time
}

// NewRuntime returns an empty runtime.
func NewRuntime() *Runtime {
	return &Runtime{pods: map[string]*pod{}, now: time.Now, changes: make(chan struct{})}
}

// Changes is the channel on which the runtime would signal a change the
// fleet's state does not show (node.RuntimeChanges): a container that
// exited or restarted. A hollow pod never changes on its own, so nothing
// is ever sent. Offering it matters all the same: a reconciler whose
// runtime signals nothing looks at its pods every Resync (2 s) and asks
// the API for its whole assignments view each time, with a route to
// every node of the fleet; over a runtime that signals, a settled node
// waits for its steady resync (30 s). In an idle 1,000-node sim the 2 s
// answers were 500 a second of 1,000 routes each (docs/scale.md).
func (r *Runtime) Changes() <-chan struct{} { return r.changes }

// SyncPod starts what the pod's spec names and is not running yet; a
// container whose image changed is replaced, as the real runtime does.
func (r *Runtime) SyncPod(ctx context.Context, p *api.Pod, netnsPath string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sync pod %s: %w", p.ObjectMeta.UID, err)
	}
	uid := string(p.ObjectMeta.UID)
	if uid == "" {
		return fmt.Errorf("sync pod %s/%s: no UID", p.ObjectMeta.Namespace, p.ObjectMeta.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	hp := r.pods[uid]
	if hp == nil {
		hp = &pod{containers: map[string]container{}}
		r.pods[uid] = hp
	}
	hp.netns = netnsPath
	now := r.now()
	for _, list := range [][]api.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range list {
			if have, ok := hp.containers[c.Name]; ok && have.image == c.Image {
				continue
			}
			hp.containers[c.Name] = container{image: c.Image, started: now}
		}
	}
	return nil
}

// PodStatus reports a synced pod Running and Ready, its init containers
// Completed; a pod not synced yet is Pending with its containers waiting
// in ContainerCreating, as the real runtime reports one being made.
func (r *Runtime) PodStatus(ctx context.Context, p *api.Pod) (api.PodStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hp := r.pods[string(p.ObjectMeta.UID)]
	st := api.PodStatus{}
	for _, c := range p.Spec.InitContainers {
		cs := api.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image)}
		if h, ok := hpContainer(hp, c.Name); ok {
			cs.ContainerID = containerID(p, c.Name)
			cs.State = api.ContainerState{Terminated: &api.ContainerStateTerminated{Reason: "Completed", StartedAt: *api.NewTime(h.started), FinishedAt: *api.NewTime(h.started)}}
			cs.Ready = true
		} else {
			cs.State = api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "PodInitializing"}}
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	ready := hp != nil && len(p.Spec.Containers) > 0
	for _, c := range p.Spec.Containers {
		cs := api.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image)}
		if h, ok := hpContainer(hp, c.Name); ok && h.image == c.Image {
			started := true
			cs.ContainerID = containerID(p, c.Name)
			cs.State = api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: *api.NewTime(h.started)}}
			cs.Ready, cs.Started = true, &started
		} else {
			cs.State = api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "ContainerCreating"}}
			ready = false
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	st.Phase = api.PodPending
	if ready {
		st.Phase = api.PodRunning
	}
	st.Conditions = []api.PodCondition{
		{Type: "Initialized", Status: condition(hp != nil)},
		{Type: "ContainersReady", Status: condition(ready)},
		{Type: "Ready", Status: condition(ready)},
	}
	return st, nil
}

// ListPods returns the UIDs of the pods the runtime holds, sorted.
func (r *Runtime) ListPods(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.pods))
	for uid := range r.pods {
		out = append(out, uid)
	}
	sort.Strings(out)
	return out, nil
}

// RemovePod forgets a pod; removing one it does not hold is no error, as
// with the real runtime.
func (r *Runtime) RemovePod(ctx context.Context, podUID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pods, podUID)
	return nil
}

// KillPod is RemovePod: a hollow pod has no processes to kill.
func (r *Runtime) KillPod(ctx context.Context, podUID string) error {
	return r.RemovePod(ctx, podUID)
}

// TerminatePod stops a pod being deleted: a hollow pod has no hooks or
// processes to signal, so it goes at once, whatever the grace.
func (r *Runtime) TerminatePod(ctx context.Context, p *api.Pod, grace time.Duration) error {
	return r.RemovePod(ctx, string(p.ObjectMeta.UID))
}

// Len is how many pods the runtime holds.
func (r *Runtime) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pods)
}

func hpContainer(hp *pod, name string) (container, bool) {
	if hp == nil {
		return container{}, false
	}
	c, ok := hp.containers[name]
	return c, ok
}

func containerID(p *api.Pod, name string) string {
	return "hollow://" + string(p.ObjectMeta.UID) + "/" + name
}

func imageID(image string) string { return "hollow://" + image }

func condition(b bool) api.ConditionStatus {
	if b {
		return api.ConditionTrue
	}
	return api.ConditionFalse
}
