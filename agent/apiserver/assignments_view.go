package apiserver

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
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
	// encoded is nodes as JSON, encoded once per part: every held query
	// answered while the part holds writes these bytes rather than
	// encoding every node again. In a fleet of n nodes each answer carries
	// n routes, and every node is answered at least once per steady
	// resync: encoding them per answer was n^2 work on the servers.
	encoded []byte
	sum     uint64 // a hash of encoded
}

// routesAt returns the nodes' part of a view at the state's index idx (or
// later). It reads the stored nodes without copying them (NodeInfos) and
// builds and hashes a new part only when a node's name, block or
// addresses changed: the index moves with every pod status report, and
// copying every Node (a JSON round trip each) at each new index was a
// fifth of a 300-node sim's CPU (docs/scale.md).
func (srv *Server) routesAt(idx uint64) *routes {
	old := srv.routes.Load()
	if old != nil && old.index >= idx {
		return old
	}
	// The index is read first: the nodes read after it are at least as
	// new, so the part is valid from there on.
	at := srv.fsm().Index()
	infos := srv.fsm().NodeInfos()
	var r *routes
	if old != nil && sameRoutes(old.nodes, infos) {
		r = &routes{index: at, nodes: old.nodes, encoded: old.encoded, sum: old.sum}
	} else {
		r = &routes{index: at, nodes: make([]api.Node, 0, len(infos))}
		for _, in := range infos {
			n := in.Node // stored, read-only
			r.nodes = append(r.nodes, api.Node{
				TypeMeta:   n.TypeMeta,
				ObjectMeta: api.ObjectMeta{Name: n.ObjectMeta.Name},
				Spec:       api.NodeSpec{PodCIDR: n.Spec.PodCIDR},
				Status:     api.NodeStatus{Addresses: slices.Clone(n.Status.Addresses)},
			})
		}
		r.encoded, _ = json.Marshal(r.nodes) // api.Node always encodes
		h := fnv.New64a()
		h.Write(r.encoded)
		r.sum = h.Sum64()
	}
	if cur := srv.routes.Load(); cur == nil || cur.index < r.index {
		srv.routes.Store(r)
	}
	return r
}

// sameRoutes tells whether the nodes a view carries are still those of
// infos: the same names, blocks and addresses, in the same order.
func sameRoutes(nodes []api.Node, infos []placement.NodeInfo) bool {
	if len(nodes) != len(infos) {
		return false
	}
	for i, in := range infos {
		n, have := in.Node, nodes[i]
		if n.ObjectMeta.Name != have.ObjectMeta.Name || n.Spec.PodCIDR != have.Spec.PodCIDR || n.TypeMeta != have.TypeMeta ||
			!slices.Equal(n.Status.Addresses, have.Status.Addresses) {
			return false
		}
	}
	return true
}

// assignmentsView is what the state binds to node now, with its token.
func (srv *Server) assignmentsView(node string) AssignmentsView {
	view, _ := srv.assignmentsViewRoutes(node)
	return view
}

// assignmentsViewRoutes is assignmentsView and the routes it carries.
func (srv *Server) assignmentsViewRoutes(node string) (AssignmentsView, *routes) {
	pods, idx := srv.fsm().PodsOnNode(node)
	view := AssignmentsView{Index: idx, Pods: make([]api.Pod, 0, len(pods))}
	for _, p := range pods {
		view.Pods = append(view.Pods, *p)
	}
	r := srv.routesAt(idx)
	view.Nodes = r.nodes
	view.View = fmt.Sprintf("%016x%016x", hashJSON(view.Pods), r.sum)
	return view, r
}

// assignmentsAnswer is an AssignmentsView as the query writes it: the
// same JSON, with the nodes' part as the routes encoded it once.
type assignmentsAnswer struct {
	Index uint64          `json:"index"`
	Pods  []api.Pod       `json:"pods"`
	Nodes json.RawMessage `json:"nodes"`
	View  string          `json:"view,omitempty"`
}

// assignmentsAnswerFor is the answer to node's query now.
func (srv *Server) assignmentsAnswerFor(node string) assignmentsAnswer {
	v, r := srv.assignmentsViewRoutes(node)
	return assignmentsAnswer{Index: v.Index, Pods: v.Pods, Nodes: r.encoded, View: v.View}
}

func hashJSON(v any) uint64 {
	h := fnv.New64a()
	_ = json.NewEncoder(h).Encode(v) // a hash writer never fails
	return h.Sum64()
}

// heldSince is what a held query last found unchanged: the generation of
// its node's pods and the routes' hash (ok false: the state tells no
// generation, and every wake reads the view).
type heldSince struct {
	ok  bool
	gen uint64
	sum uint64
}

// podsGenerations is the state's generation of the pods on each node
// (consensus.FSM.PodsOnNodeGen).
type podsGenerations interface {
	PodsOnNodeGen(node string) uint64
}

func (srv *Server) podsOnNodeGen(node string) (uint64, bool) {
	g, ok := srv.fsm().(podsGenerations)
	if !ok {
		return 0, false
	}
	return g.PodsOnNodeGen(node), true
}

// viewUnchanged tells, without reading the node's pods, that its view is
// still the one held since: no pod on it changed and no route did. The
// index is read first, so the answer holds up to it. At each change of
// state every held query used to read and hash its node's view, and
// reading the pods bound to a node walked (and sorted) every pod: work of
// nodes times pods per change, on every server (docs/scale.md).
func (srv *Server) viewUnchanged(node string, since *heldSince) (uint64, bool) {
	if !since.ok {
		return 0, false
	}
	idx := srv.fsm().Index()
	gen, ok := srv.podsOnNodeGen(node)
	if !ok || gen != since.gen || srv.routesAt(idx).sum != since.sum {
		return 0, false
	}
	return idx, true
}

// routesGather is how long a held query whose node's pods are as they
// were, but not the routes, waits for more route changes before it
// answers, in a fleet of the given number of nodes. Every node joining
// changes every node's routes: answered at once, a fleet of n starting
// together sent each node n answers of n routes, and decoding them was
// over half of a 300-node sim's CPU in its start (docs/scale.md). A wait
// of a second made that one answer a second per node, still n^2 routes a
// second for the fleet: 150 MB of JSON a second at 1,000 nodes while
// they register. So the wait grows with the fleet, 10 ms per node from 1
// s up to 10 s: the fleet's route answers stay about 100 x n routes a
// second. A route to a node that has just joined waits at most this
// long; a change to the node's own pods is answered at once.
func routesGather(nodes int) time.Duration {
	return min(max(time.Duration(nodes)*routesGatherPerNode, time.Second), 10*time.Second)
}

// routesGatherPerNode is routesGather's wait per node of the fleet.
const routesGatherPerNode = 10 * time.Millisecond

// onlyRoutesChanged tells whether two view tokens differ in their routes
// only (a token is the pods' hash, then the routes': assignmentsView).
func onlyRoutesChanged(held, now string) bool {
	return len(held) == 32 && len(now) == 32 && held[:16] == now[:16] && held[16:] != now[16:]
}
