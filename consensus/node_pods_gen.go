package consensus

import "github.com/shoal-dev/shoal/api"

// A node's assignments query that holds a view (agent/apiserver) waits
// past state changes that leave its pods as they were. Finding that out
// by reading every pod at each change, for each node waiting, was work of
// nodes times pods per change (docs/scale.md): nodePodsGen tells it in
// one lookup. Every change to a pod that names a node (created, bound,
// reported, deleted) gives that node a new generation from a counter that
// only grows, also across a Restore.

// podsOfNodeChanged gives the nodes old and p name a new generation.
func (ix *indexes) podsOfNodeChanged(old, p *api.Pod) {
	for _, q := range []*api.Pod{old, p} {
		if q != nil && q.Spec.NodeName != "" {
			ix.podsGen++
			ix.nodePodsGen[q.Spec.NodeName] = ix.podsGen
		}
	}
}

// PodsOnNodeGen is the generation of the pods naming node: it differs
// from an earlier answer if, and only if (but for a Restore, after which
// it differs), one of them changed since.
func (f *FSM) PodsOnNodeGen(node string) uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.ix.nodePodsGen[node]
}

// continuePodsGen moves a restored state's generations past prev, the
// counter of the state it replaces, so none repeats one handed out
// before.
func (ix *indexes) continuePodsGen(prev uint64) {
	for node, g := range ix.nodePodsGen {
		ix.nodePodsGen[node] = g + prev
	}
	ix.podsGen += prev
}
