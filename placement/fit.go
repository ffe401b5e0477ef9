package placement

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

// NodeInfo is a node together with what the pods bound to it already request.
type NodeInfo struct {
	Node      *api.Node
	Requested api.ResourceList
	Pods      int
}

// Free returns allocatable minus requested for one resource.
func (n NodeInfo) Free(name string) resource.Quantity {
	free := n.Node.Status.Allocatable.Get(name)
	free.Sub(n.Requested.Get(name))
	return free
}

// Fits tells whether the whole pod fits the node; when it does not, the
// reason names the node and the first dimension that is short.
func Fits(pod *api.Pod, n NodeInfo) (bool, string) {
	name := n.Node.Metadata.Name
	if !NodeReady(n.Node) {
		return false, name + ": node is not ready"
	}
	if n.Node.Spec.Unschedulable {
		return false, name + ": node is cordoned (unschedulable)"
	}
	for k, v := range pod.Spec.NodeSelector {
		got, ok := n.Node.Metadata.Labels[k]
		if !ok || got != v {
			return false, fmt.Sprintf("%s: node selector %s=%s does not match", name, k, v)
		}
	}
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != name {
		return false, fmt.Sprintf("%s: pod asks for node %s", name, pod.Spec.NodeName)
	}
	if maxPods, ok := n.Node.Status.Allocatable[api.ResourcePods]; ok && int64(n.Pods) >= maxPods.Value() {
		return false, fmt.Sprintf("%s: already runs %d pods, the most it takes", name, n.Pods)
	}
	req := api.PodRequests(pod)
	for _, res := range []string{api.ResourceMemory, api.ResourceCPU} {
		want := req.Get(res)
		if want.IsZero() {
			continue
		}
		free := n.Free(res)
		if want.Cmp(free) > 0 {
			if free.Sign() < 0 {
				free = resource.Quantity{Format: free.Format}
			}
			return false, fmt.Sprintf("%s: %s %s requested, %s free", name, res, pretty(want), pretty(free))
		}
	}
	return true, ""
}

// NodeReady reports the node's Ready condition.
func NodeReady(n *api.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// pretty prints binary quantities the way people write them (1.25Gi, not 1280Mi).
func pretty(q resource.Quantity) string {
	if q.Format != resource.BinarySI {
		return q.String()
	}
	v := q.Value()
	units := []struct {
		suffix string
		size   int64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}}
	for _, u := range units {
		if v >= u.size {
			s := fmt.Sprintf("%.2f", float64(v)/float64(u.size))
			for s[len(s)-1] == '0' {
				s = s[:len(s)-1]
			}
			if s[len(s)-1] == '.' {
				s = s[:len(s)-1]
			}
			return s + u.suffix
		}
	}
	return q.String()
}
