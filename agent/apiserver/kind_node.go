package apiserver

import (
	"errors"
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// nodeKind serves /api/v1/nodes, cluster-scoped: what kubectl label,
// annotate, cordon, uncordon and taint write through PUT and PATCH. A user
// writes labels, annotations, spec.unschedulable and spec.taints; the
// state machine keeps the block and the status the fleet recorded, and the
// agent's later reports keep the user's fields (consensus.UpdateNode).
// Nodes join the fleet with their agent and leave with it, so POST and
// DELETE are refused (kindMeta.fixed).
type nodeKind struct{}

func (nodeKind) meta() kindMeta {
	return kindMeta{kind: api.KindNode, apiVersion: "v1", listKind: "NodeList", base: "/api/v1", plural: "nodes",
		cluster: true, shortNames: []string{"no"},
		fixed: "a node joins the fleet when its agent starts and leaves with `shoal leave` on that node"}
}

func (nodeKind) newObject() api.Object { return &api.Node{} }

func (nodeKind) get(st Store, _, name string) (api.Object, error) {
	n, err := st.Node(name)
	if err != nil {
		return nil, err
	}
	return n, nil
}

func (nodeKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	nodes, idx := st.Nodes()
	out := make([]api.Object, 0, len(nodes))
	for _, n := range nodes {
		if match(n) {
			out = append(out, n)
		}
	}
	return out, idx
}

func (nodeKind) field(api.Object, string) string { return "" }

// write stores a user's node. What a read adds (node_view.go) is not
// stored; a PUT of a node read back carries it.
func (nodeKind) write(obj api.Object, _ bool, _ api.UID, now time.Time) consensus.Command {
	n := obj.(*api.Node)
	for _, k := range []string{api.AnnotationRoles, api.AnnotationAllocatedCPU, api.AnnotationAllocatedMemory, api.AnnotationPods} {
		delete(n.ObjectMeta.Annotations, k)
	}
	return consensus.UpdateNode{Node: *n, Time: now}
}

func (nodeKind) remove(*http.Request, api.Object) (consensus.Command, error) {
	return nil, errors.New("nodes are not deleted through the API") // refused before: kindMeta.fixed
}

func (nodeKind) stored(out *consensus.Result) api.Object { return out.Node }

// atRead adds the read-time annotations: roles and allocation.
func (nodeKind) atRead(srv *Server, objs []api.Object) {
	nodes := make([]*api.Node, 0, len(objs))
	for _, o := range objs {
		if n, ok := o.(*api.Node); ok && n != nil {
			nodes = append(nodes, n)
		}
	}
	srv.withReadAnnotations(nodes)
}

// table is kubectl's node columns, then shoal's (api/printers).
func (nodeKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.NodeColumns()), typed: typedRow(printers.Node)}
}
