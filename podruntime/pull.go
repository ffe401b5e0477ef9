package podruntime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	dockerremote "github.com/containerd/containerd/remotes/docker"
	"github.com/distribution/reference"

	"github.com/shoal-dev/shoal/api"
)

// pullTimeout bounds one pull; a registry that stops answering must not
// hold a container in ContainerCreating for ever.
const pullTimeout = 10 * time.Minute

// Waiting reasons of a container whose image is not there yet, as the
// kubelet reports them.
const (
	ReasonErrImagePull      = "ErrImagePull"
	ReasonImagePullBackOff  = "ImagePullBackOff"
	ReasonErrImageNeverPull = "ErrImageNeverPull"
	ReasonInvalidImageName  = "InvalidImageName"
	reasonCreating          = "ContainerCreating"
)

// pullJob is one pull running in the background: pulls may take minutes, and
// the node's reconcile loop must keep restarting other containers meanwhile.
type pullJob struct {
	ref     string // normalised reference pulled
	started time.Time
	done    chan struct{}
	img     containerd.Image // on success
	err     error
}

// pulls tracks, per pod container, the pull in flight and the waiting state
// the last sync decided (which PodStatus reports).
type pulls struct {
	mu      sync.Mutex
	jobs    map[string]*pullJob                   // podUID/container
	waiting map[string]*api.ContainerStateWaiting // podUID/container
	lastErr map[string]string                     // podUID/container -> last pull error
	images  *keyedMutex                           // by reference: one pull of an image at a time
}

func newPulls() *pulls {
	return &pulls{
		jobs:    map[string]*pullJob{},
		waiting: map[string]*api.ContainerStateWaiting{},
		lastErr: map[string]string{},
		images:  newKeyedMutex(),
	}
}

func pullKey(podUID, container string) string { return podUID + "/" + container }

func (p *pulls) setWaiting(key, reason, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting[key] = &api.ContainerStateWaiting{Reason: reason, Message: msg}
}

func (p *pulls) clear(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, key)
	delete(p.lastErr, key)
}

// waitingFor is the state the last sync left for a container that does not
// exist yet; nil when no sync decided anything.
func (p *pulls) waitingFor(key string) *api.ContainerStateWaiting {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.waiting[key]; w != nil {
		c := *w
		return &c
	}
	return nil
}

// forgetPod drops what is known about a removed pod; a pull still running
// finishes into the void.
func (p *pulls) forgetPod(podUID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := podUID + "/"
	for k := range p.waiting {
		if strings.HasPrefix(k, prefix) {
			delete(p.waiting, k)
		}
	}
	for k := range p.jobs {
		if strings.HasPrefix(k, prefix) {
			delete(p.jobs, k)
		}
	}
	for k := range p.lastErr {
		if strings.HasPrefix(k, prefix) {
			delete(p.lastErr, k)
		}
	}
}

// pullPolicy is the container's policy; an empty one (a pod that did not
// come through the API's defaults) uses what is on the node.
func pullPolicy(c api.Container) string {
	if c.ImagePullPolicy == "" {
		return "IfNotPresent"
	}
	return string(c.ImagePullPolicy)
}

// ensureImage returns the image a container is to be created from, pulling
// it by the container's imagePullPolicy. While the image is not ready it
// returns nil and records the waiting state (ContainerCreating while a pull
// runs, ErrImagePull, ImagePullBackOff, ErrImageNeverPull) for PodStatus.
func (r *Runtime) ensureImage(ctx context.Context, pod *api.Pod, c api.Container, hash string) (containerd.Image, error) {
	uid := pod.ObjectMeta.UID
	key := pullKey(string(uid), c.Name)
	// A pull started by an earlier sync is taken first, or its result
	// (and its events) would be lost to the image it put in the store.
	r.pulls.mu.Lock()
	job := r.pulls.jobs[key]
	r.pulls.mu.Unlock()
	if job == nil {
		if _, err := reference.ParseDockerRef(c.Image); err != nil {
			// The kubelet's answer: no retry can fix the spec.
			msg := fmt.Sprintf("Failed to apply default image tag %q: couldn't parse image name %q: %v", c.Image, c.Image, err)
			r.pulls.setWaiting(key, ReasonInvalidImageName, msg)
			r.eventOnce(pod, "InvalidImageName/"+c.Name+"/"+c.Image, EventWarning, "InspectFailed", msg)
			return nil, nil
		}
		if img, decided, err := r.imageOnNode(ctx, pod, c, hash); decided {
			return img, err
		}
		if wait := r.backoff.wait("pull/"+key, r.now()); wait > 0 {
			r.pulls.mu.Lock()
			last := r.pulls.lastErr[key]
			r.pulls.mu.Unlock()
			msg := fmt.Sprintf("Back-off pulling image %q: %s", c.Image, last)
			r.pulls.setWaiting(key, ReasonImagePullBackOff, msg)
			r.eventOnce(pod, fmt.Sprintf("PullBackOff/%s/%s", c.Name, last), EventNormal, "BackOff",
				fmt.Sprintf("Back-off pulling image %q", c.Image))
			return nil, nil
		}
		var err error
		job, err = r.startPull(pod, c)
		if err != nil {
			return nil, err
		}
		r.pulls.mu.Lock()
		r.pulls.jobs[key] = job
		r.pulls.mu.Unlock()
		r.event(pod, EventNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
		r.pulls.setWaiting(key, reasonCreating, fmt.Sprintf("pulling image %q", c.Image))
		// A pull of an image already in the content store ends at once;
		// take it in this sync rather than the next.
		select {
		case <-job.done:
		case <-time.After(100 * time.Millisecond):
			return nil, nil
		}
	}
	select {
	case <-job.done:
	default:
		return nil, nil // still pulling; the waiting state says so
	}
	r.pulls.mu.Lock()
	delete(r.pulls.jobs, key)
	r.pulls.mu.Unlock()
	if job.err != nil {
		msg := job.err.Error()
		r.backoff.restarted("pull/"+key, r.now())
		r.pulls.mu.Lock()
		r.pulls.lastErr[key] = msg
		r.pulls.mu.Unlock()
		r.pulls.setWaiting(key, ReasonErrImagePull, msg)
		r.log.Warn("image pull failed", "pod", uid, "container", c.Name, "image", c.Image, "err", msg)
		r.event(pod, EventWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", c.Image, msg))
		r.event(pod, EventWarning, "Failed", "Error: "+ReasonErrImagePull)
		return nil, nil
	}
	r.backoff.forget("pull/" + key)
	size, _ := job.img.Size(ctx)
	r.event(pod, EventNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s. Image size: %d bytes. Digest: %s",
		c.Image, time.Since(job.started).Round(time.Millisecond), size, job.img.Target().Digest))
	return job.img, nil
}

// imageOnNode applies IfNotPresent and Never: decided is false when the
// policy asks for a pull.
func (r *Runtime) imageOnNode(ctx context.Context, pod *api.Pod, c api.Container, hash string) (img containerd.Image, decided bool, err error) {
	policy := pullPolicy(c)
	if policy == "Always" {
		return nil, false, nil
	}
	img, err = r.resolveImage(ctx, c.Image)
	switch {
	case err == nil:
		r.eventOnce(pod, "Pulled/"+c.Name+"/"+c.Image+"/"+hash, EventNormal, "Pulled",
			fmt.Sprintf("Container image %q already present on machine", c.Image))
		return img, true, nil
	case !errors.Is(err, errImageNotPresent):
		return nil, true, fmt.Errorf("container %s: %w", c.Name, err)
	case policy == "Never":
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		r.pulls.setWaiting(pullKey(string(pod.ObjectMeta.UID), c.Name), ReasonErrImageNeverPull, msg)
		r.eventOnce(pod, "ErrImageNeverPull/"+c.Name+"/"+c.Image, EventWarning, ReasonErrImageNeverPull, msg)
		return nil, true, nil
	}
	return nil, false, nil
}

// startPull resolves the pod's logins and pulls in the background.
func (r *Runtime) startPull(pod *api.Pod, c api.Container) (*pullJob, error) {
	named, err := reference.ParseDockerRef(c.Image)
	if err != nil {
		return nil, fmt.Errorf("container %s: image %q: %w", c.Name, c.Image, err)
	}
	job := &pullJob{ref: named.String(), started: r.now(), done: make(chan struct{})}
	go func() {
		defer close(job.done)
		ctx, cancel := context.WithTimeout(r.withNS(r.baseCtx), pullTimeout)
		defer cancel()
		var creds []RegistryCredential
		if r.creds != nil && len(pod.Spec.ImagePullSecrets) > 0 {
			var err error
			creds, err = r.creds.PullCredentials(ctx, pod)
			if err != nil {
				job.err = fmt.Errorf("read imagePullSecrets: %w", err)
				return
			}
		}
		job.img, job.err = r.pull(ctx, job.ref, creds)
	}()
	return job, nil
}

// pull fetches ref (already normalised) and unpacks it for the snapshotter
// containers are made with.
func (r *Runtime) pull(ctx context.Context, ref string, creds []RegistryCredential) (containerd.Image, error) {
	defer r.pulls.images.lock(ref)()
	resolver := dockerremote.NewResolver(dockerremote.ResolverOptions{Hosts: r.registries.hosts(creds)})
	img, err := r.client.Pull(ctx, ref,
		containerd.WithResolver(resolver),
		containerd.WithPullUnpack,
		containerd.WithPullSnapshotter(containerd.DefaultSnapshotter),
	)
	if err != nil {
		return nil, err
	}
	r.log.Info("image pulled", "image", ref, "digest", img.Target().Digest.String())
	return img, nil
}

// PullImage pulls ref into this node's store with the node's registry
// settings and no login, and returns its normalised name.
func (r *Runtime) PullImage(ctx context.Context, ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	img, err := r.pull(r.withNS(ctx), named.String(), nil)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", named, err)
	}
	return img.Name(), nil
}
