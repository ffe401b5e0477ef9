package placement

import (
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
)

// Placed is what pod affinity, pod anti-affinity and topology spreading
// read of the pods already bound: each pod's namespace and labels and the
// labels of its node (its topology). The leader builds it once per
// placement round in which a pending pod has such terms, and Adds each pod
// it places in that round, so the next choice sees it. Unlike
// Kubernetes', a bound pod's own anti-affinity is not checked against a
// newcomer without terms (it would need every bound pod read for every
// placement).
type Placed struct {
	pods []placedPod
}

type placedPod struct {
	namespace string
	labels    labels.Set
	node      map[string]string // the labels of the node it is bound to
}

// NewPlaced reads the pods bound to nodes; a pod bound to a node not in
// nodes has no topology and counts nowhere.
func NewPlaced(pods []*api.Pod, nodes []*api.Node) *Placed {
	byName := make(map[string]*api.Node, len(nodes))
	for _, n := range nodes {
		byName[n.ObjectMeta.Name] = n
	}
	p := &Placed{}
	for _, pod := range pods {
		if n := byName[pod.Spec.NodeName]; n != nil {
			p.Add(pod, n)
		}
	}
	return p
}

// Add counts pod as bound to node.
func (p *Placed) Add(pod *api.Pod, node *api.Node) {
	p.pods = append(p.pods, placedPod{namespace: pod.ObjectMeta.Namespace, labels: labels.Set(pod.ObjectMeta.Labels), node: node.ObjectMeta.Labels})
}

// NeedsPlaced reports whether placing pod reads the pods already bound: it
// has pod (anti-)affinity or topology spread constraints.
func NeedsPlaced(pod *api.Pod) bool {
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		return true
	}
	a := pod.Spec.Affinity
	return a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil)
}
