package placement

import (
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
)

// Placed is what pod affinity, pod anti-affinity and topology spreading
// read of the pods already bound: each pod's namespace and labels and the
// labels of its node (its topology). The leader builds it once per
// placement round in which a pending pod has such terms, and Adds each pod
// it places in that round, so the next choice sees it. As in Kubernetes, a
// bound pod's required anti-affinity also keeps out a newcomer it selects,
// whether or not the newcomer has terms of its own: for a round whose
// pending pods have none, the leader reads only the bound pods that carry
// such terms (RepelsOthers).
type Placed struct {
	pods []placedPod
	// repelling counts the placed pods with required anti-affinity terms.
	repelling int
}

type placedPod struct {
	namespace string
	labels    labels.Set
	node      map[string]string // the labels of the node it is bound to
	// anti are its required anti-affinity terms: no pod they select may
	// join it in its domain of each term's topology key.
	anti []antiTerm
}

type antiTerm struct {
	selects
	key, selector string
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
	pp := placedPod{namespace: pod.ObjectMeta.Namespace, labels: labels.Set(pod.ObjectMeta.Labels), node: node.ObjectMeta.Labels}
	if RepelsOthers(pod) {
		terms := pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		for i := range terms {
			s := termSelects(pod, &terms[i])
			pp.anti = append(pp.anti, antiTerm{selects: s, key: terms[i].TopologyKey, selector: s.sel.String()})
		}
		p.repelling++
	}
	p.pods = append(p.pods, pp)
}

// RepelsOthers reports whether a bound pod keeps others out of its
// domains: it has required pod anti-affinity terms.
func RepelsOthers(pod *api.Pod) bool {
	a := pod.Spec.Affinity
	return a != nil && a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
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
