package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// updateNode is PUT /api/v1/nodes/{name}, and through addPatchRoutes its
// PATCH: what kubectl label, annotate, cordon, uncordon and taint send.
// A user writes labels, annotations, spec.unschedulable and spec.taints;
// the state machine keeps the block and the status the fleet recorded,
// and the agent's later reports keep the user's fields
// (consensus.UpdateNode).
func (srv *Server) updateNode(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	n := &api.Node{}
	if err := readNamespaced(r, api.KindNode, "v1", n); err != nil {
		writeError(w, srv.log, err)
		return
	}
	n.ObjectMeta.Namespace = ""
	if n.ObjectMeta.Name != name {
		writeError(w, srv.log, &consensus.InvalidError{Kind: api.KindNode, Name: name, Fields: api.FieldErrors{{
			Path: "metadata.name", Value: n.ObjectMeta.Name, Detail: "must be the name in the URL, " + name}}})
		return
	}
	// What a read adds (node_view.go) is not stored; a PUT of a node read
	// back carries it.
	for _, k := range []string{annRoles, annAllocatedCPU, annAllocatedMemory, annPods} {
		delete(n.ObjectMeta.Annotations, k)
	}
	if cur, err := srv.fsm().Node(name); err == nil {
		if tracked, ok := srv.applier.track(r, cur, n).(*api.Node); ok { // kube_apply.go
			n = tracked
		}
	}
	res, err := srv.raft().Apply(r.Context(), consensus.UpdateNode{Node: *n, Time: time.Now().UTC()})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	out := res.Node
	srv.withReadAnnotations([]*api.Node{out})
	w.Header().Set(indexHeader, strconv.FormatUint(res.Index, 10))
	writeJSON(w, http.StatusOK, out)
}
