package consensus

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// indexes are derived from the state's nodes and pods, the way
// kube-scheduler's cache and Nomad's state store keep per-node usage: the
// leader asks for them once per pending pod and BindPod checks against
// them, and walking every pod and node for each would make placing pods on
// a large fleet quadratic. They are never serialised: every Apply that
// stores or removes a pod or a node goes through putPod, removePod or
// putNode, which keep them current, and Restore rebuilds them from the
// snapshot, so every server holds the same ones. They decide nothing a
// scan of the state would not: only how fast the answer comes.
type indexes struct {
	// usage is, per node name, what the bound pods that have not finished
	// request; a node without such pods has no entry.
	usage map[string]*nodeUsage
	// ips maps each pod IP held by a stored pod (finished or not) to the
	// keys of the pods holding it, sorted: one, unless a snapshot written
	// by something else says otherwise.
	ips    map[netip.Addr][]string
	blocks blockIndex
	// infos is NodeInfos' answer, sorted by node name, kept current in
	// place while infosValid; a new node clears infosValid (inserting into
	// the middle of a sorted list per RegisterNode would make building a
	// fleet quadratic) and the next NodeInfos rebuilds it once.
	infos      []placement.NodeInfo
	infosValid bool
	// services holds the Services' ClusterIPs and node ports:
	// service_ipam.go.
	services serviceIndex
	// nodePodsGen and podsGen: node_pods_gen.go.
	nodePodsGen map[string]uint64
	podsGen     uint64
}

// nodeUsage is one node's share of indexes.usage. requested is replaced,
// never changed in place: NodeInfos hands the map out to readers.
type nodeUsage struct {
	requested api.ResourceList
	pods      int
	// ports counts the node ports its hostNetwork pods take
	// (hostports.go); replaced, never changed in place, like requested.
	ports map[string]int
}

func newIndexes() indexes {
	return indexes{
		usage:    map[string]*nodeUsage{},
		ips:      map[netip.Addr][]string{},
		blocks:   newBlockIndex(),
		services: newServiceIndex(),

		nodePodsGen: map[string]uint64{},
	}
}

// reindex rebuilds every index from the stored nodes, pods and Services
// (Restore).
func (s *state) reindex() {
	s.ix = newIndexes()
	for _, n := range s.Nodes {
		if n != nil {
			s.ix.blocks.add(n.Spec.PodCIDR)
		}
	}
	for key, p := range s.Pods {
		s.ix.podChanged(key, nil, p)
	}
	for key, svc := range s.Services {
		s.ix.services.add(key, svc)
	}
}

// putPod stores p under key and updates the indexes.
func (s *state) putPod(key string, p *api.Pod) {
	old := s.Pods[key]
	s.Pods[key] = p
	s.ix.podChanged(key, old, p)
	s.touch(KindPod, key)
}

// removePod deletes the pod stored under key and updates the indexes.
func (s *state) removePod(key string) {
	old, ok := s.Pods[key]
	if !ok {
		return
	}
	delete(s.Pods, key)
	s.ix.podChanged(key, old, nil)
	s.touch(KindPod, key)
}

// putNode stores n under name and updates the indexes.
func (s *state) putNode(name string, n *api.Node) {
	old, existed := s.Nodes[name]
	s.Nodes[name] = n
	s.touch(KindNode, name)
	if !existed {
		s.ix.blocks.add(n.Spec.PodCIDR)
		s.ix.infosValid = false
		return
	}
	if old.Spec.PodCIDR != n.Spec.PodCIDR {
		s.ix.blocks.remove(old.Spec.PodCIDR)
		s.ix.blocks.add(n.Spec.PodCIDR)
	}
	if i, ok := s.ix.infoAt(name); ok {
		s.ix.infos[i].Node = n
	}
}

// podChanged moves the pod stored under key from old to p (either may be
// nil) in the IP and usage indexes.
func (ix *indexes) podChanged(key string, old, p *api.Pod) {
	ix.podsOfNodeChanged(old, p) // node_pods_gen.go
	oldIP, newIP := podIP(old), podIP(p)
	if oldIP != newIP {
		if oldIP.IsValid() {
			ix.dropIP(oldIP, key)
		}
		if newIP.IsValid() {
			ix.addIP(newIP, key)
		}
	}
	oldNode, newNode := countedOn(old), countedOn(p)
	if oldNode == "" && newNode == "" {
		return
	}
	var oldReq, newReq api.ResourceList
	if oldNode != "" {
		oldReq = api.PodRequests(old)
	}
	if newNode != "" {
		newReq = api.PodRequests(p)
	}
	// A status report from a running pod is the common change: it moves
	// nothing, and copying the node's sums for it would be waste.
	if oldNode == newNode && api.ResourcesEqual(oldReq, newReq) && !hostPortsChanged(old, p) {
		return
	}
	if oldNode != "" {
		ix.addUsage(oldNode, oldReq, api.HostPorts(old), -1)
	}
	if newNode != "" {
		ix.addUsage(newNode, newReq, api.HostPorts(p), +1)
	}
}

// countedOn is the node whose capacity the pod takes: the one it is bound
// to, until it finishes ("" when none).
func countedOn(p *api.Pod) string {
	if p == nil || !Bound(p) || Terminal(p) {
		return ""
	}
	return p.Spec.NodeName
}

// podIP is the pod's IP, invalid when it has none (or none that parses).
func podIP(p *api.Pod) netip.Addr {
	if p == nil {
		return netip.Addr{}
	}
	if p.Spec.HostNetwork {
		return netip.Addr{} // the node's IP, shared by its hostNetwork pods: hostports.go
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if err != nil {
		return netip.Addr{}
	}
	return ip
}

func (ix *indexes) addIP(ip netip.Addr, key string) {
	keys := ix.ips[ip]
	i, found := slices.BinarySearch(keys, key)
	if !found {
		ix.ips[ip] = slices.Insert(keys, i, key)
	}
}

func (ix *indexes) dropIP(ip netip.Addr, key string) {
	keys := ix.ips[ip]
	i, found := slices.BinarySearch(keys, key)
	if !found {
		return
	}
	if len(keys) == 1 {
		delete(ix.ips, ip)
		return
	}
	ix.ips[ip] = slices.Delete(slices.Clone(keys), i, i+1)
}

// ipHolder returns a pod other than podKey that holds ip, the first by key.
func (ix *indexes) ipHolder(ip netip.Addr, podKey string) (string, bool) {
	for _, k := range ix.ips[ip] {
		if k != podKey {
			return k, true
		}
	}
	return "", false
}

// addUsage counts one pod (sign +1) requesting req on node, or uncounts it
// (sign -1). Quantities add exactly, so the sums equal a fresh count.
func (ix *indexes) addUsage(node string, req api.ResourceList, ports []string, sign int) {
	u := ix.usage[node]
	if u == nil {
		u = &nodeUsage{}
		ix.usage[node] = u
	}
	u.pods += sign
	if u.pods <= 0 {
		delete(ix.usage, node)
		ix.setInfo(node, api.ResourceList{}, 0, nil)
		return
	}
	next := make(api.ResourceList, len(u.requested)+len(req))
	for k, q := range u.requested {
		next[k] = q.DeepCopy()
	}
	for k, q := range req {
		sum := next[k]
		if sign > 0 {
			sum.Add(q)
		} else {
			sum.Sub(q)
		}
		next[k] = sum
	}
	u.requested = next
	if len(ports) > 0 {
		u.ports = countPorts(u.ports, ports, sign) // hostports.go
	}
	ix.setInfo(node, u.requested, u.pods, u.ports)
}

func (ix *indexes) setInfo(node string, req api.ResourceList, pods int, ports map[string]int) {
	if i, ok := ix.infoAt(node); ok {
		ix.infos[i].Requested, ix.infos[i].Pods, ix.infos[i].HostPorts = req, pods, ports
	}
}

// infoAt finds a node in the cached NodeInfos, if they are current.
func (ix *indexes) infoAt(name string) (int, bool) {
	if !ix.infosValid {
		return 0, false
	}
	i := sort.Search(len(ix.infos), func(i int) bool { return ix.infos[i].Node.ObjectMeta.Name >= name })
	return i, i < len(ix.infos) && ix.infos[i].Node.ObjectMeta.Name == name
}

// buildInfos makes the cached NodeInfos current.
func (s *state) buildInfos() {
	if s.ix.infosValid {
		return
	}
	names := s.sortedNodeNames()
	infos := make([]placement.NodeInfo, len(names))
	for i, name := range names {
		infos[i] = s.nodeInfo(name)
	}
	s.ix.infos, s.ix.infosValid = infos, true
}

// nodeInfo is the node with what its bound, unfinished pods request. The
// Node and the Requested map are the stored ones, shared and read-only.
func (s *state) nodeInfo(name string) placement.NodeInfo {
	info := placement.NodeInfo{Node: s.Nodes[name], Requested: api.ResourceList{}}
	if u := s.ix.usage[name]; u != nil {
		info.Requested, info.Pods, info.HostPorts = u.requested, u.pods, u.ports
	}
	return info
}

// blockIndex answers "does this block overlap a node's podCIDR" without
// walking the nodes: two prefixes overlap exactly when one contains the
// other, so it keeps every node's block and every prefix that contains one.
type blockIndex struct {
	// exact counts the nodes' blocks, masked.
	exact map[netip.Prefix]int
	// within counts, for every prefix, the nodes' blocks it contains
	// (itself included).
	within map[netip.Prefix]int
	// next is, per cluster CIDR and block size, an index below which every
	// block is taken: allocation resumes there instead of at the start.
	// Blocks are only released when a node goes, and then next is cleared.
	next map[blockQuery]uint64
}

type blockQuery struct {
	cluster netip.Prefix
	bits    int
}

func newBlockIndex() blockIndex {
	return blockIndex{exact: map[netip.Prefix]int{}, within: map[netip.Prefix]int{}, next: map[blockQuery]uint64{}}
}

// add counts a node's podCIDR; one that does not parse takes no space, as
// in the scan allocateBlock used to make.
func (b *blockIndex) add(cidr string) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return
	}
	p = p.Masked()
	b.exact[p]++
	for bits := 0; bits <= p.Bits(); bits++ {
		b.within[netip.PrefixFrom(p.Addr(), bits).Masked()]++
	}
}

func (b *blockIndex) remove(cidr string) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return
	}
	p = p.Masked()
	if b.exact[p] == 0 {
		return
	}
	decr(b.exact, p)
	for bits := 0; bits <= p.Bits(); bits++ {
		decr(b.within, netip.PrefixFrom(p.Addr(), bits).Masked())
	}
	clear(b.next)
}

func decr(m map[netip.Prefix]int, p netip.Prefix) {
	if m[p] <= 1 {
		delete(m, p)
		return
	}
	m[p]--
}

// overlaps reports whether block overlaps any node's block: it contains
// one, or one contains it.
func (b *blockIndex) overlaps(block netip.Prefix) bool {
	block = block.Masked()
	if b.within[block] > 0 {
		return true
	}
	for bits := 0; bits < block.Bits(); bits++ {
		if b.exact[netip.PrefixFrom(block.Addr(), bits).Masked()] > 0 {
			return true
		}
	}
	return false
}
