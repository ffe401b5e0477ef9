package consensus

import (
	"net/netip"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// Pod returns a copy of one pod, or a NotFoundError.
func (f *FSM) Pod(namespace, name string) (*api.Pod, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, ok := f.st.Pods[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: kindPod, Namespace: namespace, Name: name}
	}
	return copyPod(p), nil
}

// Pods returns copies of the pods filter accepts (all when filter is nil),
// ordered by namespace and name, and the index they were read at.
func (f *FSM) Pods(filter func(*api.Pod) bool) ([]*api.Pod, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*api.Pod
	for _, k := range f.st.sortedPodKeys() {
		p := f.st.Pods[k]
		if filter == nil || filter(p) {
			out = append(out, copyPod(p))
		}
	}
	return out, f.st.Index
}

// PodsOnNode returns copies of the pods bound to the node: what its agent
// must run.
func (f *FSM) PodsOnNode(node string) ([]*api.Pod, uint64) {
	return f.Pods(func(p *api.Pod) bool { return p.Spec.NodeName == node && Bound(p) })
}

// Node returns a copy of one node, or a NotFoundError.
func (f *FSM) Node(name string) (*api.Node, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, ok := f.st.Nodes[name]
	if !ok {
		return nil, &NotFoundError{Kind: kindNode, Name: name}
	}
	return copyNode(n), nil
}

// Nodes returns copies of all nodes ordered by name, and the index.
func (f *FSM) Nodes() ([]*api.Node, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*api.Node, 0, len(f.st.Nodes))
	for _, name := range f.st.sortedNodeNames() {
		out = append(out, copyNode(f.st.Nodes[name]))
	}
	return out, f.st.Index
}

// NodeInfos returns every node with what its bound, unfinished pods
// request, ordered by name: the input of placement.Choose, and the same
// numbers BindPod checks against. The slice is the caller's; the Nodes and
// the Requested maps in it are the stored ones, shared and read-only:
// Apply never changes a stored node or a node's sums in place, it stores
// replacements. The leader calls this for every pending pod, so it copies
// a cached list (index.go) instead of summing the pods again.
func (f *FSM) NodeInfos() []placement.NodeInfo {
	return f.AppendNodeInfos(nil)
}

// AppendNodeInfos appends NodeInfos to dst and returns the result. A
// caller that passes its previous answer (dst[:0]) allocates nothing: on a
// large fleet a fresh list per pending pod is the leader's largest
// allocation, and so most of its garbage collection.
func (f *FSM) AppendNodeInfos(dst []placement.NodeInfo) []placement.NodeInfo {
	f.mu.RLock()
	if f.st.ix.infosValid {
		defer f.mu.RUnlock()
		return append(dst, f.st.ix.infos...)
	}
	f.mu.RUnlock()
	// A node joined since the last call: the list is rebuilt, which
	// writes the cache, so under the write lock.
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.buildInfos()
	return append(dst, f.st.ix.infos...)
}

// FreePodIP returns the lowest pod IP of the node's block that no pod
// holds, for the leader to put in a BindPod.
func (f *FSM) FreePodIP(node string) (netip.Addr, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.freePodIP(node)
}
