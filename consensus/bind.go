package consensus

import (
	"net/netip"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// bindPod is where the leader's optimistic choice meets the state: the pod
// must still be pending, the node ready, the pod must fit with what is
// bound there now, and the IP must be free and inside the node's block.
func (s *state) bindPod(index uint64, c *BindPod) (*Result, error) {
	p, err := s.bindPodStored(index, c)
	if err != nil {
		return nil, err
	}
	return &Result{Index: index, Pod: copyPod(p), Changed: true}, nil
}

// bindPodStored is bindPod without the copy for the caller: BindPods
// (pod_batch.go) binds many and answers only whether each was bound.
func (s *state) bindPodStored(index uint64, c *BindPod) (*api.Pod, error) {
	old, err := s.lookupPod(c.Namespace, c.Name, c.UID)
	if err != nil {
		return nil, err
	}
	if Bound(old) {
		return nil, &ConflictError{Kind: kindPod, Namespace: c.Namespace, Name: c.Name,
			Reason: "already bound to node " + old.Spec.NodeName}
	}
	if Terminal(old) {
		return nil, rejectf("pod %s/%s already finished (%s)", c.Namespace, c.Name, old.Status.Phase)
	}
	node, ok := s.Nodes[c.Node]
	if !ok {
		return nil, &NotFoundError{Kind: kindNode, Name: c.Node}
	}
	if fits, why := placement.Fits(old, s.nodeInfo(c.Node)); !fits {
		return nil, rejectf("does not fit: %s", why)
	}
	ip, err := s.bindIP(node, old, c.PodIP) // hostports.go
	if err != nil {
		return nil, err
	}
	now := api.TimeOf(c.Time)
	p := copyPod(old)
	p.Spec.NodeName = c.Node
	p.Status.PodIP = ip
	p.Status.PodIPs = []api.PodIP{{IP: ip}}
	p.Status.HostIP = internalIP(node)
	setPodCondition(p, api.PodCondition{Type: condPodScheduled, Status: condTrue, LastTransitionTime: now})
	p.ObjectMeta.ResourceVersion = rv(index)
	s.putPod(api.KeyOf(p), p)
	return p, nil
}

func (s *state) checkPodIP(node *api.Node, raw, podKey string) (netip.Addr, error) {
	name := node.ObjectMeta.Name
	ip, err := netip.ParseAddr(raw)
	if err != nil {
		return netip.Addr{}, rejectf("pod IP %q: %v", raw, err)
	}
	block, err := netip.ParsePrefix(node.Spec.PodCIDR)
	if err != nil {
		return netip.Addr{}, rejectf("node %s has no pod block (podCIDR %q)", name, node.Spec.PodCIDR)
	}
	if !block.Contains(ip) {
		return netip.Addr{}, rejectf("pod IP %s is outside node %s's block %s", ip, name, block)
	}
	if what := reservedInBlock(block, ip); what != "" {
		return netip.Addr{}, rejectf("pod IP %s is %s of node %s's block %s", ip, what, name, block)
	}
	// freePodIP never hands out the broadcast address; the commit-time
	// check must not accept what the chooser would never pick.
	if ip == lastAddr(block) {
		return netip.Addr{}, rejectf("pod IP %s is the broadcast address of node %s's block %s", ip, name, block)
	}
	if holder, taken := s.ix.ipHolder(ip, podKey); taken {
		return netip.Addr{}, rejectf("pod IP %s is in use by pod %s", ip, holder)
	}
	return ip, nil
}

// internalIP is the node address peers route its block through.
func internalIP(n *api.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == "InternalIP" {
			return a.Address
		}
	}
	if len(n.Status.Addresses) > 0 {
		return n.Status.Addresses[0].Address
	}
	return ""
}
