package placement

import (
	"errors"
	"fmt"

	"github.com/shoal-dev/shoal/api"
)

// ErrNoFit is returned, wrapped with the NoFit's message, when no node fits.
var ErrNoFit = errors.New("no node fits the pod")

// scoredNodes caps how many feasible nodes Choose scores. It is
// kube-scheduler's floor (minFeasibleNodesToFind), the number it scores on
// 5,000 nodes with percentageOfNodesToScore at 2%. Its default adaptive
// share (10% there, 500 nodes) costs five times the CPU per pod, and the
// least allocated of 100 candidates already balances a fleet; Nomad scores
// fewer still (log2 of the fleet, 13 nodes at 5,000).
const scoredNodes = 100

// Choose picks the node for a whole pod: among the nodes it fits (and,
// first, those with the fewest PreferNoSchedule taints it does not
// tolerate, then those its preferred node affinity weighs most), the least
// allocated one after placing it (Kubernetes' LeastAllocated score over
// memory and cpu), ties broken by fewer pods and then by name so every
// leader chooses alike. On a
// fleet larger than scoredNodes it scores only the first scoredNodes
// feasible nodes, walking the list from an offset derived from the pod's
// namespace and name: still the same answer on every leader, placement
// cost that stays flat as the fleet grows, and replicas of one controller
// start their walk at different nodes. When none fits it returns
// ErrNoFit and a NoFit: the nodes counted per reason and a bounded sample.
func Choose(pod *api.Pod, nodes []NodeInfo) (string, *NoFit, error) {
	return ChooseAmong(pod, nodes, nil)
}

// ChooseAmong is Choose for a pod whose pod affinity, anti-affinity and
// topology spread constraints read the pods already placed: required
// terms filter nodes, preferred ones weigh after node affinity, and
// ScheduleAnyway spreading prefers the emptier domains before free
// resources. A placed pod's required anti-affinity keeps out the pods it
// selects, terms or not. placed may be nil when the pod has no such terms
// (NeedsPlaced) and no bound pod repels others (RepelsOthers); a pod that
// has terms is then placed as if no pod ran.
func ChooseAmong(pod *api.Pod, nodes []NodeInfo, placed *Placed) (string, *NoFit, error) {
	if len(nodes) == 0 {
		f := &NoFit{}
		return "", f, fmt.Errorf("%w: %s", ErrNoFit, f)
	}
	need := needsOf(pod)
	if NeedsPlaced(pod) || (placed != nil && placed.repelling > 0) {
		need.terms = compileTerms(pod, &need, nodes, placed)
	}
	var u usage
	var (
		best      = -1
		bestScore int64
		bestAvoid int
		bestPref  int64
		bestDense int
		found     int
		limit     = scoredNodes
		start     = int(podHash(pod) % uint64(len(nodes)))
	)
	for i := 0; i < len(nodes) && found < limit; i++ {
		n := &nodes[(start+i)%len(nodes)]
		if m, _ := check(&need, n, &u); m != fits {
			continue
		}
		found++
		s := score(&need, &u)
		avoid := preferAvoid(pod, n.Node) // taints.go: PreferNoSchedule
		pref := need.preference(n.Node)   // preferred node affinity
		dense := 0
		if need.terms != nil {
			podPref, spread := need.terms.score(n.Node) // podterms.go
			pref, dense = pref+podPref, spread
		}
		better := best < 0 || avoid < bestAvoid ||
			(avoid == bestAvoid && (pref > bestPref ||
				(pref == bestPref && (dense < bestDense ||
					(dense == bestDense && (s > bestScore || (s == bestScore && fewerPods(n, &nodes[best]))))))))
		if better {
			best, bestScore, bestAvoid, bestPref, bestDense = (start+i)%len(nodes), s, avoid, pref, dense
		}
	}
	if best >= 0 {
		return nodes[best].Node.ObjectMeta.Name, nil, nil
	}
	f := explain(&need, nodes, &u)
	return "", f, fmt.Errorf("%w: %s", ErrNoFit, f)
}

// fewerPods breaks a tie in score: the node running fewer pods wins, then
// the first by name. Pods that request nothing score alike everywhere, and
// without this every one of them would land on the first node by name
// (kube-scheduler avoids that by scoring them as if they asked for 100m
// and 200Mi; counting pods spreads them the same way without changing
// what the state machine's fit check sees).
func fewerPods(n, best *NodeInfo) bool {
	if n.Pods != best.Pods {
		return n.Pods < best.Pods
	}
	return n.Node.ObjectMeta.Name < best.Node.ObjectMeta.Name
}

// podHash is FNV-1a over namespace/name: a pure, allocation-free spread.
func podHash(pod *api.Pod) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for _, s := range [...]string{pod.ObjectMeta.Namespace, "/", pod.ObjectMeta.Name} {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
	}
	return h
}

// score is the mean free share (0..100) of memory and cpu left on the node
// once the pod is placed; a dimension the node does not declare counts as
// free. u is the node's usage as check read it.
func score(need *needs, u *usage) int64 {
	var total int64
	for i := range checked {
		capacity := u[i].alloc.MilliValue()
		if capacity <= 0 {
			total += 100
			continue
		}
		left := capacity - u[i].used.MilliValue() - need.wantMilli[i]
		if left < 0 {
			left = 0
		}
		total += left * 100 / capacity
	}
	return total / int64(len(checked))
}
