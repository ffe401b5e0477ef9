package placement

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// ErrNoFit is returned (wrapped with the per-node reasons) when no node fits.
var ErrNoFit = errors.New("no node fits the pod")

// Choose picks the node for a whole pod: among the nodes it fits, the least
// allocated one after placing it (Kubernetes' LeastAllocated score over
// memory and cpu), ties broken by name so every leader chooses alike. When
// none fits it returns ErrNoFit and one reason per node, sorted by node.
func Choose(pod *api.Pod, nodes []NodeInfo) (string, []string, error) {
	var (
		best      string
		bestScore int64 = -1
		reasons   []string
	)
	req := api.PodRequests(pod)
	for _, n := range nodes {
		ok, why := Fits(pod, n)
		if !ok {
			reasons = append(reasons, why)
			continue
		}
		s := score(req, n)
		name := n.Node.Metadata.Name
		if s > bestScore || (s == bestScore && name < best) {
			best, bestScore = name, s
		}
	}
	if best == "" {
		sort.Strings(reasons)
		if len(nodes) == 0 {
			reasons = []string{"no nodes registered"}
		}
		return "", reasons, fmt.Errorf("%w: %s", ErrNoFit, strings.Join(reasons, "; "))
	}
	return best, nil, nil
}

// score is the mean free share (0..100) of memory and cpu left on the node
// once the pod is placed; a dimension the node does not declare counts as free.
func score(req api.ResourceList, n NodeInfo) int64 {
	var total int64
	for _, res := range []string{api.ResourceMemory, api.ResourceCPU} {
		alloc := n.Node.Status.Allocatable.Get(res)
		capacity := alloc.MilliValue()
		if capacity <= 0 {
			total += 100
			continue
		}
		used := n.Requested.Get(res)
		want := req.Get(res)
		left := capacity - used.MilliValue() - want.MilliValue()
		if left < 0 {
			left = 0
		}
		total += left * 100 / capacity
	}
	return total / 2
}
