package placement

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/shoal-dev/shoal/api"
)

// NodeInfo is a node together with what the pods bound to it already request.
type NodeInfo struct {
	Node      *api.Node
	Requested api.ResourceList
	Pods      int
	// HostPorts counts the node ports ("TCP/8080") its hostNetwork pods
	// take (api.HostPorts); shared and read-only.
	HostPorts map[string]int
}

// Free returns allocatable minus requested for one resource.
func (n NodeInfo) Free(name api.ResourceName) resource.Quantity {
	// DeepCopy: a decimal quantity's copy shares its number, and Sub
	// would write through to the stored node.
	free := api.QuantityOf(n.Node.Status.Allocatable, name).DeepCopy()
	free.Sub(api.QuantityOf(n.Requested, name))
	return free
}

// Fits tells whether the whole pod fits the node; when it does not, the
// reason names the node and the first dimension that is short.
func Fits(pod *api.Pod, n NodeInfo) (bool, string) {
	need := needsOf(pod)
	var u usage
	miss, detail := check(&need, &n, &u)
	if miss == fits {
		return true, ""
	}
	return false, reason(&need, &n, miss, detail)
}

// miss is why a pod does not fit a node, kept as a code so Choose can test
// thousands of nodes without formatting a reason it will not show.
type miss uint8

const (
	fits miss = iota
	notReady
	cordoned
	tainted
	selector
	affinity
	otherNode
	podAntiAffinity
	podAffinity
	spreadSkew
	podsFull
	resourceShort
	portsInUse
)

// checked lists the resources compared against what a node has free.
var checked = [...]api.ResourceName{api.ResourceMemory, api.ResourceCPU}

// needs is what a pod asks of any node, worked out once per placement
// rather than once per node.
type needs struct {
	pod       *api.Pod
	want      [len(checked)]resource.Quantity
	wantMilli [len(checked)]int64
	// selector is the pod's node selector sorted by key, so a walk over
	// it does not pay for a map iterator and the first mismatch reported
	// is always the same one.
	selector [][2]string
	// required and preferred are the pod's node affinity, parsed once by
	// Kubernetes' own nodeaffinity helpers (nil when it has none). A term
	// that does not parse (the API refuses those) matches no node.
	required  *nodeaffinity.NodeSelector
	badTerm   error
	preferred *nodeaffinity.PreferredSchedulingTerms
	// terms are its pod (anti-)affinity and topology spread constraints,
	// compiled against the pods already placed (podterms.go); nil when it
	// has none or the caller gave no Placed (Fits).
	terms *podTerms
}

// nodeAllows is whether the pod's node selector and required node
// affinity take n.
func (need *needs) nodeAllows(n *api.Node) bool {
	for _, kv := range need.selector {
		if got, ok := n.ObjectMeta.Labels[kv[0]]; !ok || got != kv[1] {
			return false
		}
	}
	return need.badTerm == nil && (need.required == nil || need.required.Match(n))
}

func needsOf(pod *api.Pod) needs {
	need := needs{pod: pod}
	req := api.PodRequests(pod)
	for i, res := range checked {
		need.want[i] = api.QuantityOf(req, res)
		need.wantMilli[i] = need.want[i].MilliValue()
	}
	for k, v := range pod.Spec.NodeSelector {
		need.selector = append(need.selector, [2]string{k, v})
	}
	sort.Slice(need.selector, func(i, j int) bool { return need.selector[i][0] < need.selector[j][0] })
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		if req := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			need.required, need.badTerm = nodeaffinity.NewNodeSelector(req)
		}
		if pref := a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution; len(pref) > 0 {
			need.preferred, _ = nodeaffinity.NewPreferredSchedulingTerms(pref) // a bad preference scores nothing
		}
	}
	return need
}

// preference is the sum of the weights of the pod's preferred node
// affinity terms the node matches.
func (need *needs) preference(n *api.Node) int64 {
	if need.preferred == nil {
		return 0
	}
	return need.preferred.Score(n)
}

// usage is a node's allocatable and requested amounts of each checked
// resource, as check read them, so score need not look them up again.
type usage [len(checked)]struct{ alloc, used resource.Quantity }

// check is the one test behind Fits and Choose, so what Choose picks is
// exactly what Fits (and the state machine's commit-time re-check) accepts.
// For resourceShort it also says which resource, for tainted which taint. u is filled when the pod fits.
func check(need *needs, n *NodeInfo, u *usage) (miss, string) {
	if !NodeReady(n.Node) {
		return notReady, ""
	}
	if n.Node.Spec.Unschedulable && !api.Tolerates(need.pod.Spec.Tolerations, &unschedulableTaint) {
		return cordoned, ""
	}
	if t := untolerated(need.pod, n.Node); t != nil {
		return tainted, taintString(t)
	}
	for _, kv := range need.selector {
		if got, ok := n.Node.ObjectMeta.Labels[kv[0]]; !ok || got != kv[1] {
			return selector, ""
		}
	}
	if need.badTerm != nil || (need.required != nil && !need.required.Match(n.Node)) {
		return affinity, ""
	}
	if nn := need.pod.Spec.NodeName; nn != "" && nn != n.Node.ObjectMeta.Name {
		return otherNode, ""
	}
	if need.terms != nil {
		if m, detail := need.terms.check(n.Node); m != fits {
			return m, detail
		}
	}
	if port := portTaken(need.pod, n); port != "" { // hostports.go
		return portsInUse, port
	}
	if maxPods, ok := n.Node.Status.Allocatable[api.ResourcePods]; ok && int64(n.Pods) >= maxPods.Value() {
		return podsFull, ""
	}
	for i, res := range checked {
		u[i].alloc, u[i].used = n.Node.Status.Allocatable[res], n.Requested[res]
		if need.want[i].IsZero() {
			continue
		}
		free := u[i].alloc.DeepCopy() // see Free
		free.Sub(u[i].used)
		if need.want[i].Cmp(free) > 0 {
			return resourceShort, string(res)
		}
	}
	return fits, ""
}

// reason words a miss the way an operator reads it, naming the node.
func reason(need *needs, n *NodeInfo, m miss, detail string) string {
	name := n.Node.ObjectMeta.Name
	switch m {
	case notReady:
		return name + ": node is not ready"
	case cordoned:
		return name + ": node is cordoned (unschedulable)"
	case tainted:
		return name + ": taint " + detail + " not tolerated"
	case selector:
		for _, kv := range need.selector {
			if got, ok := n.Node.ObjectMeta.Labels[kv[0]]; !ok || got != kv[1] {
				return fmt.Sprintf("%s: node selector %s=%s does not match", name, kv[0], kv[1])
			}
		}
	case affinity:
		if need.badTerm != nil {
			return fmt.Sprintf("%s: node affinity does not parse: %v", name, need.badTerm)
		}
		return name + ": node affinity does not match"
	case otherNode:
		return fmt.Sprintf("%s: pod asks for node %s", name, need.pod.Spec.NodeName)
	case podAntiAffinity:
		return name + ": pod anti-affinity: " + detail
	case podAffinity:
		return name + ": pod affinity: " + detail
	case spreadSkew:
		return name + ": topology spread: " + detail
	case podsFull:
		return fmt.Sprintf("%s: already runs %d pods, the most it takes", name, n.Pods)
	case portsInUse:
		return fmt.Sprintf("%s: host port %s is taken by a hostNetwork pod", name, detail)
	case resourceShort:
		res := api.ResourceName(detail)
		for i, r := range checked {
			if r != res {
				continue
			}
			free := n.Free(res)
			if free.Sign() < 0 {
				free = resource.Quantity{Format: free.Format}
			}
			return fmt.Sprintf("%s: %s %s requested, %s free", name, res, pretty(need.want[i]), pretty(free))
		}
	}
	return name + ": does not fit"
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
