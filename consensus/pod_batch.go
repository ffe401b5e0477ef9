package consensus

import "net/netip"

// CreatePods creates many pending pods in one entry: the replication
// controller's missing replicas. Each is checked exactly as a CreatePod
// would be, in order, against the state the ones before it left; one that
// is refused changes nothing and does not stop the others (its error is
// in Result.Each). One entry, not one per pod: a ReplicationController of
// 1,000 was 1,000 Raft entries, each waking every reader of the state.
type CreatePods struct {
	Pods []CreatePod `json:"pods"`
}

// BindPods binds many pending pods in one entry: one placement pass. Each
// is checked exactly as a BindPod would be (still pending, node ready, the
// whole pod fits what is bound there now, host ports free, the IP inside
// the node's block and held by no other pod), in order, against the state
// the binds before it left, so a batch never over-commits a node and never
// gives one IP twice. A refused bind changes nothing and does not stop the
// others (its error is in Result.Each); the placement loop plans it again.
type BindPods struct {
	Binds []BindPod `json:"binds"`
}

// Type implements Command.
func (CreatePods) Type() string { return "CreatePods" }

// Type implements Command.
func (BindPods) Type() string { return "BindPods" }

// createPods applies each CreatePod in order. The entry itself is always
// accepted: what each pod got is in Each.
func (s *state) createPods(index uint64, c *CreatePods) (*Result, error) {
	res := &Result{Index: index, Each: make([]error, len(c.Pods))}
	for i := range c.Pods {
		cp := &c.Pods[i]
		if _, err := s.createPodStored(index, &cp.Pod, cp.UID, cp.Time); err != nil {
			res.Each[i] = err
			continue
		}
		res.Changed, res.Created = true, true
	}
	return res, nil
}

// bindPods applies each BindPod in order; every bind sees the usage and
// IPs of those before it through the same indexes a later entry would.
func (s *state) bindPods(index uint64, c *BindPods) (*Result, error) {
	res := &Result{Index: index, Each: make([]error, len(c.Binds))}
	for i := range c.Binds {
		if _, err := s.bindPodStored(index, &c.Binds[i]); err != nil {
			res.Each[i] = err
			continue
		}
		res.Changed = true
	}
	return res, nil
}

// FreePodIPs returns the n lowest pod IPs of the node's block that no pod
// holds, for the leader to give n pods it binds there in one BindPods.
// Fewer than n come back, with an error, when the block runs out.
func (f *FSM) FreePodIPs(node string, n int) ([]netip.Addr, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.freePodIPs(node, n)
}

func (s *state) freePodIPs(nodeName string, n int) ([]netip.Addr, error) {
	nd, ok := s.Nodes[nodeName]
	if !ok {
		return nil, &NotFoundError{Kind: kindNode, Name: nodeName}
	}
	block, err := netip.ParsePrefix(nd.Spec.PodCIDR)
	if err != nil {
		return nil, rejectf("node %s has no pod block: %q", nodeName, nd.Spec.PodCIDR)
	}
	out := make([]netip.Addr, 0, n)
	last := lastAddr(block)
	for ip := block.Masked().Addr(); block.Contains(ip) && len(out) < n; ip = ip.Next() {
		// The same addresses freePodIP passes over (ipam.go).
		if reservedInBlock(block, ip) != "" || ip == last {
			continue
		}
		if _, taken := s.ix.ips[ip]; !taken {
			out = append(out, ip)
		}
	}
	if len(out) < n {
		return out, rejectf("node %s: %d free pod IPs left in %s, %d wanted", nodeName, len(out), block, n)
	}
	return out, nil
}
