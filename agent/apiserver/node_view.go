package apiserver

import (
	"strconv"

	"github.com/shoal-dev/shoal/api"
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
		n.ObjectMeta.Annotations[api.AnnotationRoles] = nodeRoles(n, leader)
		i, ok := infos[n.ObjectMeta.Name]
		if !ok {
			continue
		}
		cpu := api.QuantityOf(all[i].Requested, api.ResourceCPU)
		mem := api.QuantityOf(all[i].Requested, api.ResourceMemory)
		n.ObjectMeta.Annotations[api.AnnotationAllocatedCPU] = cpu.String()
		n.ObjectMeta.Annotations[api.AnnotationAllocatedMemory] = mem.String()
		n.ObjectMeta.Annotations[api.AnnotationPods] = strconv.Itoa(all[i].Pods)
	}
}
