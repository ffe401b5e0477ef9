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
// numbers BindPod checks against. The Nodes are the stored ones, shared
// and read-only: Apply never changes a stored node, it stores a changed
// copy, so they stay as they were. Copying them (a JSON round trip each)
// cost the leader milliseconds per pending pod on a few hundred nodes.
func (f *FSM) NodeInfos() []placement.NodeInfo {
	f.mu.RLock()
	defer f.mu.RUnlock()
	names := f.st.sortedNodeNames()
	out := make([]placement.NodeInfo, len(names))
	at := make(map[string]int, len(names))
	for i, name := range names {
		out[i] = placement.NodeInfo{Node: f.st.Nodes[name], Requested: api.ResourceList{}}
		at[name] = i
	}
	// One pass over the pods, not one per node: the leader calls this for
	// every pending pod, and nodes x pods grows too fast for a large fleet.
	for _, p := range f.st.Pods {
		if i, ok := at[p.Spec.NodeName]; ok && Bound(p) && !Terminal(p) {
			addRequests(&out[i], p)
		}
	}
	return out
}

// FreePodIP returns the lowest pod IP of the node's block that no pod
// holds, for the leader to put in a BindPod.
func (f *FSM) FreePodIP(node string) (netip.Addr, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.freePodIP(node)
}

// nodeInfo sums the requests of the pods bound to the node that have not
// finished. The returned Node is the stored one: callers outside Apply copy.
func (s *state) nodeInfo(name string) placement.NodeInfo {
	info := placement.NodeInfo{Node: s.Nodes[name], Requested: api.ResourceList{}}
	for _, p := range s.Pods {
		if p.Spec.NodeName != name || !Bound(p) || Terminal(p) {
			continue
		}
		addRequests(&info, p)
	}
	return info
}

// addRequests counts pod p on the node of info.
func addRequests(info *placement.NodeInfo, p *api.Pod) {
	for res, q := range api.PodRequests(p) {
		sum := info.Requested[res]
		sum.Add(q)
		info.Requested[res] = sum
	}
	info.Pods++
}
