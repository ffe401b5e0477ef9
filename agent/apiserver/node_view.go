package apiserver

import (
	"strconv"

	"github.com/shoal-dev/shoal/api"
)

// Annotations a node carries when it is read, computed from the state and
// the Raft seat at that moment and never stored: what `shoal get nodes`
// and kubectl's node Table show as roles and allocation. Kubernetes keeps
// allocation out of the Node object (kubectl describe sums the pods); a
// fleet without a control plane answers it where the state is.
const (
	// annRoles is "server,leader", "server" or "client".
	annRoles = "shoal.dev/roles"
	// annAllocatedCPU and annAllocatedMemory sum the requests of the
	// node's bound, unfinished pods: what placement counts as taken.
	annAllocatedCPU    = "shoal.dev/allocated-cpu"
	annAllocatedMemory = "shoal.dev/allocated-memory"
	// annPods counts those pods.
	annPods = "shoal.dev/pods"
)

// nodeRoles is the roles cell of a node: from its labels, and the leader.
func nodeRoles(n *api.Node, leader string) string {
	if _, ok := n.ObjectMeta.Labels[api.LabelServerRole]; !ok {
		return "client"
	}
	if n.ObjectMeta.Name == leader {
		return "server,leader"
	}
	return "server"
}

// withReadAnnotations sets the read-time annotations on nodes, which are
// copies the caller owns.
func (srv *Server) withReadAnnotations(nodes []*api.Node) {
	store := srv.fsm()
	if store == nil {
		return
	}
	leader := srv.leaderName()
	infos := map[string]int{}
	all := store.NodeInfos()
	for i, in := range all {
		if in.Node != nil {
			infos[in.Node.ObjectMeta.Name] = i
		}
	}
	for _, n := range nodes {
		if n.ObjectMeta.Annotations == nil {
			n.ObjectMeta.Annotations = map[string]string{}
		}
		n.ObjectMeta.Annotations[annRoles] = nodeRoles(n, leader)
		i, ok := infos[n.ObjectMeta.Name]
		if !ok {
			continue
		}
		cpu := api.QuantityOf(all[i].Requested, api.ResourceCPU)
		mem := api.QuantityOf(all[i].Requested, api.ResourceMemory)
		n.ObjectMeta.Annotations[annAllocatedCPU] = cpu.String()
		n.ObjectMeta.Annotations[annAllocatedMemory] = mem.String()
		n.ObjectMeta.Annotations[annPods] = strconv.Itoa(all[i].Pods)
	}
}
