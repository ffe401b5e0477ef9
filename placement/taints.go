package placement

import (
	"github.com/shoal-dev/shoal/api"
)

// unschedulableTaint is how a cordoned node reads to a pod's tolerations:
// Kubernetes taints a cordoned node node.kubernetes.io/unschedulable:
// NoSchedule, so a pod that tolerates it (a DaemonSet's) is still placed.
var unschedulableTaint = api.Taint{Key: api.TaintUnschedulable, Effect: api.TaintNoSchedule}

// untolerated is the node's first NoSchedule or NoExecute taint the pod
// does not tolerate (kube-scheduler's TaintToleration filter), or nil.
func untolerated(pod *api.Pod, n *api.Node) *api.Taint {
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if t.Effect == api.TaintPreferNoSchedule {
			continue
		}
		if !api.Tolerates(pod.Spec.Tolerations, t) {
			return t
		}
	}
	return nil
}

// preferAvoid counts the node's PreferNoSchedule taints the pod does not
// tolerate: among nodes that fit, fewer wins before the score is compared
// (kube-scheduler scores them the same way, as a preference, never a
// filter).
func preferAvoid(pod *api.Pod, n *api.Node) int {
	c := 0
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if t.Effect == api.TaintPreferNoSchedule && !api.Tolerates(pod.Spec.Tolerations, t) {
			c++
		}
	}
	return c
}

// taintString is the taint as kube-scheduler names it in a
// FailedScheduling message: {key: value}.
func taintString(t *api.Taint) string {
	return "{" + t.Key + ": " + t.Value + "}"
}
