package apiserver

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/shoal-dev/shoal/api"
)

// A node's assignments view names its pods and, for the routes to the
// other nodes' pod blocks, each node's name, block and addresses: nothing
// else of a Node, so a status or label change elsewhere leaves every
// view as it was.
//
// The view carries a token, a hash of what it holds. A query that names
// the token its caller holds (?view=) waits past state changes that leave
// the view as it was (a bind to another node, a Service, a lease) until
// the view changes or the query's wait is up. Without it every change
// anywhere woke every node, and each one re-read every Node: work that
// grew with nodes times changes (issue 23; docs/scale.md).

// routes is the fleet's nodes as views carry them, at one state index,
// shared by every query answered at that index.
type routes struct {
	index uint64
	nodes []api.Node
	sum   uint64
}

// routesAt returns the nodes' part of a view at the state's index idx (or
// later), computing it once per index.
func (srv *Server) routesAt(idx uint64) *routes {
	if r := srv.routes.Load(); r != nil && r.index >= idx {
		return r
	}
	nodes, at := srv.fsm().Nodes()
	r := &routes{index: at, nodes: make([]api.Node, 0, len(nodes))}
	for _, n := range nodes {
		r.nodes = append(r.nodes, api.Node{
			TypeMeta:   n.TypeMeta,
			ObjectMeta: api.ObjectMeta{Name: n.ObjectMeta.Name},
			Spec:       api.NodeSpec{PodCIDR: n.Spec.PodCIDR},
			Status:     api.NodeStatus{Addresses: n.Status.Addresses},
		})
	}
	r.sum = hashJSON(r.nodes)
	if old := srv.routes.Load(); old == nil || old.index < r.index {
		srv.routes.Store(r)
	}
	return r
}

// assignmentsView is what the state binds to node now, with its token.
func (srv *Server) assignmentsView(node string) AssignmentsView {
	pods, idx := srv.fsm().PodsOnNode(node)
	view := AssignmentsView{Index: idx, Pods: make([]api.Pod, 0, len(pods))}
	for _, p := range pods {
		view.Pods = append(view.Pods, *p)
	}
	r := srv.routesAt(idx)
	view.Nodes = r.nodes
	view.View = fmt.Sprintf("%016x%016x", hashJSON(view.Pods), r.sum)
	return view
}

func hashJSON(v any) uint64 {
	h := fnv.New64a()
	_ = json.NewEncoder(h).Encode(v) // a hash writer never fails
	return h.Sum64()
}
