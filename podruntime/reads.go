package podruntime

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/protobuf"

	"github.com/shoal-dev/shoal/api"
)

// podNames remembers, for each pod, the names of the containers this
// runtime's containerd namespace may hold for it, so that a look at a pod
// reads its containers by id (containerID) instead of listing them.
// containerd answers a list with a label filter by reading every container
// record of the namespace and filtering after: a pass over a node's pods
// listed three times per pod (SyncPod, its probes, PodStatus), which is
// quadratic in the pods, and at 100 pods was most of the idle CPU the
// agent caused containerd (docs/performance.md, session 23).
//
// What a pod's entry holds is a superset of the containers that exist: the
// names every full list of the pod found (podContainers) and
// every name this runtime is about to create (add). Containers come only
// from this runtime, so once a pod was listed (by this process: an agent
// that restarts lists again) a read of each remembered name finds all of
// them; a name whose container is gone reads as not found, as it would be
// missing from a list. A look at a pod that was never listed lists it.
type podNames struct {
	mu   sync.Mutex
	pods map[string]*podNameSet // by pod UID
}

type podNameSet struct {
	listed bool // a full list of the pod was taken since the entry was made
	names  map[string]bool
}

func newPodNames() *podNames { return &podNames{pods: map[string]*podNameSet{}} }

func (p *podNames) entry(uid string) *podNameSet {
	e := p.pods[uid]
	if e == nil {
		e = &podNameSet{names: map[string]bool{}}
		p.pods[uid] = e
	}
	return e
}

// add records a container about to be created. It must come before the
// container exists, so that no list taken before it and recorded after
// (listed) can leave the name out.
func (p *podNames) add(uid, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entry(uid).names[name] = true
}

// listed records what a full list of the pod's containers found.
func (p *podNames) listed(uid string, names []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entry(uid)
	e.listed = true
	for _, n := range names {
		e.names[n] = true
	}
}

// lookup returns the names to read for a pod, if it was listed.
func (p *podNames) lookup(uid string) (map[string]bool, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.pods[uid]
	if e == nil || !e.listed {
		return nil, false
	}
	return maps.Clone(e.names), true
}

// forget drops a pod whose containers were removed.
func (p *podNames) forget(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pods, uid)
}

// containersOf returns the containers of pod keyed by container name, as
// podContainers does, reading them by id when the pod's names are known
// (podNames) and listing them once when not.
func (r *Runtime) containersOf(ctx context.Context, pod *api.Pod) (map[string]containerd.Container, error) {
	uid := string(pod.ObjectMeta.UID)
	names, ok := r.names.lookup(uid)
	if !ok {
		return r.podContainers(ctx, uid)
	}
	for _, c := range pod.Spec.InitContainers {
		names[c.Name] = true
	}
	for _, c := range pod.Spec.Containers {
		names[c.Name] = true
	}
	out := make(map[string]containerd.Container, len(names))
	for name := range names {
		cont, err := r.client.LoadContainer(ctx, containerID(uid, name))
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read container %s of pod %s: %w", name, uid, err)
		}
		rec, err := cont.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			return nil, fmt.Errorf("read container %s of pod %s: %w", name, uid, err)
		}
		if rec.Labels[labelPodUID] != uid || rec.Labels[labelContainer] != name {
			// The id is another pod's (its UID starts alike): list,
			// which goes by the pod's label.
			return r.podContainers(ctx, uid)
		}
		out[name] = withLabels(cont, rec.Labels)
	}
	return out, nil
}

// readContainer is a container as one read of its record found it, whose
// labels are served from that read: a sync asked containerd for the same
// container's labels four to seven times (containerd.Container.Labels reads
// the record each time). Its own SetLabels keep them current; a label set
// through another handle meanwhile (a prober's memory, probe_memory.go) is
// seen at the next read, as it would be had the write come a moment later.
type readContainer struct {
	containerd.Container
	mu     sync.Mutex
	labels map[string]string
}

func withLabels(c containerd.Container, labels map[string]string) *readContainer {
	return &readContainer{Container: c, labels: maps.Clone(labels)}
}

func (c *readContainer) Labels(context.Context) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.labels), nil
}

func (c *readContainer) SetLabels(ctx context.Context, labels map[string]string) (map[string]string, error) {
	out, err := c.Container.SetLabels(ctx, labels)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.labels = maps.Clone(out)
	c.mu.Unlock()
	return out, nil
}

// taskState reads a container's task once: its status, or a not-found
// error when it has none. cont.Task then Task.Status read it twice, and
// each read is a call through containerd to the container's shim; a pass
// over a settled pod made four (SyncPod and PodStatus), where it needs
// only the status. The Task itself is loaded when something is done to it.
func (r *Runtime) taskState(ctx context.Context, cont containerd.Container) (containerd.Status, error) {
	resp, err := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: cont.ID()})
	if err != nil {
		return containerd.Status{}, errdefs.FromGRPC(err)
	}
	return containerd.Status{
		Status:     containerd.ProcessStatus(strings.ToLower(resp.Process.Status.String())),
		ExitStatus: resp.Process.ExitStatus,
		ExitTime:   protobuf.FromTimestamp(resp.Process.ExitedAt),
	}, nil
}

// imageDigest is the digest of the image a container was made from, read
// from the image store by the name in the container's record as read
// (containerd.Container.Image reads the record again first).
func (r *Runtime) imageDigest(ctx context.Context, cont containerd.Container) (string, error) {
	rec, err := cont.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return "", err
	}
	if rec.Image == "" {
		return "", fmt.Errorf("container %s not created from an image: %w", cont.ID(), errdefs.ErrNotFound)
	}
	img, err := r.client.ImageService().Get(ctx, rec.Image)
	if err != nil {
		return "", fmt.Errorf("image %s of container %s: %w", rec.Image, cont.ID(), err)
	}
	return img.Target.Digest.String(), nil
}
