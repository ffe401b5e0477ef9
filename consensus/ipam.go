package consensus

import (
	"fmt"
	"net/netip"
)

// Defaults for node pod blocks when a RegisterNode leaves them out.
const (
	DefaultClusterCIDR = "10.244.0.0/16"
	DefaultBlockBits   = 24
)

// allocateBlock returns the lowest block of clusterCIDR (prefix length
// blockBits) that overlaps no node's podCIDR. It looks only at state (and
// indexes derived from it), so every server picks the same block.
func (s *state) allocateBlock(clusterCIDR string, blockBits int) (netip.Prefix, error) {
	if clusterCIDR == "" {
		clusterCIDR = DefaultClusterCIDR
	}
	if blockBits == 0 {
		blockBits = DefaultBlockBits
	}
	cluster, err := netip.ParsePrefix(clusterCIDR)
	if err != nil {
		return netip.Prefix{}, &RejectedError{Reason: fmt.Sprintf("cluster CIDR %q: %v", clusterCIDR, err)}
	}
	cluster = cluster.Masked()
	if !cluster.Addr().Is4() {
		return netip.Prefix{}, rejectf("cluster CIDR %s: only IPv4 is supported", cluster)
	}
	// A block needs a network address, a gateway and at least one pod.
	if blockBits < cluster.Bits() || blockBits > 30 {
		return netip.Prefix{}, rejectf("block size /%d: must be between /%d (the cluster CIDR) and /30", blockBits, cluster.Bits())
	}
	count := uint64(1) << uint(blockBits-cluster.Bits())
	size := uint64(1) << uint(32-blockBits)
	base := addrToUint(cluster.Addr())
	// Blocks below the hint were all taken when last looked at, and blocks
	// are only released when a node goes (which clears the hints), so the
	// first free block is the same one a scan from the start would find.
	q := blockQuery{cluster: cluster, bits: blockBits}
	for i := s.ix.blocks.next[q]; i < count; i++ {
		block := netip.PrefixFrom(uintToAddr(base+i*size), blockBits)
		if !s.ix.blocks.overlaps(block) {
			s.ix.blocks.next[q] = i
			return block, nil
		}
	}
	s.ix.blocks.next[q] = count
	return netip.Prefix{}, rejectf("cluster CIDR %s has no free /%d block left for another node", cluster, blockBits)
}

// reservedInBlock reports whether ip is the block's network address or its
// gateway (the first host address, held by the node side of the pods' routes).
func reservedInBlock(block netip.Prefix, ip netip.Addr) string {
	network := block.Masked().Addr()
	switch ip {
	case network:
		return "the network address"
	case network.Next():
		return "the gateway address"
	}
	return ""
}

func addrToUint(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func uintToAddr(v uint64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// freePodIP returns the lowest free pod IP in the node's block.
func (s *state) freePodIP(nodeName string) (netip.Addr, error) {
	n, ok := s.Nodes[nodeName]
	if !ok {
		return netip.Addr{}, &NotFoundError{Kind: kindNode, Name: nodeName}
	}
	block, err := netip.ParsePrefix(n.Spec.PodCIDR)
	if err != nil {
		return netip.Addr{}, rejectf("node %s has no pod block: %q", nodeName, n.Spec.PodCIDR)
	}
	last := lastAddr(block)
	for ip := block.Masked().Addr(); block.Contains(ip); ip = ip.Next() {
		// The broadcast address would be valid on a routed /32, but tools
		// that assume a subnet treat it specially; never hand it out.
		if reservedInBlock(block, ip) != "" || ip == last {
			continue
		}
		// Every pod IP held by a pod that still exists is taken, finished
		// or not: it is released only when the pod object is deleted, so a
		// node still tearing the old pod down never sees it reused.
		if _, taken := s.ix.ips[ip]; !taken {
			return ip, nil
		}
	}
	return netip.Addr{}, rejectf("node %s: no free pod IP left in %s", nodeName, block)
}

func lastAddr(block netip.Prefix) netip.Addr {
	size := uint64(1) << uint(32-block.Bits())
	return uintToAddr(addrToUint(block.Masked().Addr()) + size - 1)
}
