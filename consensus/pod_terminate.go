package consensus

import (
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// Graceful pod deletion, as Kubernetes does it: the API's DELETE of a pod
// bound to a ready node marks it Terminating (metadata.deletionTimestamp
// and deletionGracePeriodSeconds) instead of removing it; its node stops
// the containers (preStop, SIGTERM, SIGKILL at the deadline) and then
// deletes it again with grace 0, which removes it for good. Until then the
// pod keeps its node's resources and its IP. A pod no node will stop (not
// bound, finished, or on a node that is gone or not ready) and a grace of
// 0 are removed at once. Internal deletes (controllers, node lifecycle,
// cascades) stay immediate.

// terminatePod marks the pod c names Terminating when c asks for a graceful
// delete and the pod has a node to stop it; ok false means remove it now.
func (s *state) terminatePod(index uint64, c *DeleteObject) (res *Result, ok bool, err error) {
	key := api.Key(c.Namespace, c.Name)
	p := s.Pods[key]
	if c.Kind != KindPod || !c.Graceful || p == nil {
		return nil, false, nil
	}
	grace := api.TerminationGracePeriod(p)
	if c.GracePeriodSeconds != nil {
		grace = *c.GracePeriodSeconds
	}
	if grace < 0 {
		return nil, false, &InvalidError{Kind: kindPod, Namespace: c.Namespace, Name: c.Name,
			Fields: api.FieldErrors{{Path: "gracePeriodSeconds", Value: strconv.FormatInt(grace, 10), Detail: "must be greater than or equal to 0"}}}
	}
	if grace == 0 || !Bound(p) || Terminal(p) {
		return nil, false, nil
	}
	if n, live := s.Nodes[p.Spec.NodeName]; !live || !placement.NodeReady(n) {
		return nil, false, nil
	}
	if c.Time.IsZero() {
		return nil, false, rejectf("graceful delete of pod %s/%s carries no time", c.Namespace, c.Name)
	}
	deadline := c.Time.Add(time.Duration(grace) * time.Second)
	if old := p.ObjectMeta.DeletionTimestamp; old != nil {
		// Already terminating: a shorter grace brings the deadline
		// forward, as in Kubernetes; a longer one changes nothing.
		cur := p.ObjectMeta.DeletionGracePeriodSeconds
		if cur != nil && grace >= *cur || !deadline.Before(old.Time) {
			return &Result{Index: index, Pod: copyPod(p)}, true, nil
		}
	}
	q := copyPod(p)
	ts := api.TimeOf(deadline)
	q.ObjectMeta.DeletionTimestamp = &ts
	q.ObjectMeta.DeletionGracePeriodSeconds = &grace
	q.ObjectMeta.ResourceVersion = rv(index)
	s.putPod(key, q)
	return &Result{Index: index, Pod: copyPod(q), Changed: true}, true, nil
}

// removeTerminatingPods removes the Terminating pods of a node that is no
// longer ready: nothing will stop them and confirm it (Kubernetes' pod
// garbage collector does the same).
func (s *state) removeTerminatingPods(node string) {
	for _, key := range s.sortedPodKeys() {
		p := s.Pods[key]
		if p.Spec.NodeName == node && p.ObjectMeta.DeletionTimestamp != nil {
			s.removePod(key)
		}
	}
}

// Terminating reports whether the pod is being deleted gracefully: its
// node is stopping it and it no longer counts as one of its controller's
// replicas nor as a ready endpoint.
func Terminating(p *api.Pod) bool {
	return p.ObjectMeta.DeletionTimestamp != nil
}
