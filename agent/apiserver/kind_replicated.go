package apiserver

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// controllerStore is the part of the state that holds RCs and ReplicaSets.
type controllerStore interface {
	Controller(kind, namespace, name string) (api.Replicated, error)
	Controllers(kind string, filter func(api.Replicated) bool) ([]api.Replicated, uint64)
}

// controllerState returns the local state's RCs and ReplicaSets, nil on an
// agent without a Raft seat.
func (srv *Server) controllerState() controllerStore {
	cs, _ := srv.fsm().(controllerStore)
	return cs
}

// handleFuncer is the part of a mux the routes of a kind need.
type handleFuncer interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// replicatedKind is one of the two kinds the replication controller
// serves: v1 replicationcontrollers and apps/v1 replicasets.
type replicatedKind struct{ m kindMeta }

var (
	rcMeta = kindMeta{kind: api.KindReplicationController, apiVersion: "v1", listKind: "ReplicationControllerList",
		base: "/api/v1", plural: "replicationcontrollers", shortNames: []string{"rc"}, categories: []string{"all"}}
	rsMeta = kindMeta{kind: api.KindReplicaSet, apiVersion: api.AppsV1, listKind: "ReplicaSetList",
		base: "/apis/apps/v1", plural: "replicasets", shortNames: []string{"rs"}, categories: []string{"all"}}
)

func (k replicatedKind) meta() kindMeta { return k.m }

func (k replicatedKind) newObject() api.Object {
	if k.m.kind == api.KindReplicaSet {
		return &api.ReplicaSet{}
	}
	return &api.ReplicationController{}
}

func controllersOf(st Store) (controllerStore, error) {
	cs, ok := st.(controllerStore)
	if !ok {
		return nil, fmt.Errorf("state of type %T holds no controllers", st)
	}
	return cs, nil
}

func (k replicatedKind) get(st Store, ns, name string) (api.Object, error) {
	cs, err := controllersOf(st)
	if err != nil {
		return nil, err
	}
	return cs.Controller(k.m.kind, ns, name)
}

func (k replicatedKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	cs, err := controllersOf(st)
	if err != nil {
		return nil, 0
	}
	return cs.Controllers(k.m.kind, match) // api.Replicated is api.Object
}

func (replicatedKind) field(api.Object, string) string { return "" }

func (replicatedKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	cmd := consensus.ApplyController{Create: create, UID: uid, Time: now}
	switch o := obj.(type) {
	case *api.ReplicationController:
		cmd.RC = o
	case *api.ReplicaSet:
		cmd.RS = o
	}
	return cmd
}

// remove deletes the object and, unless the caller asks for
// propagationPolicy=Orphan, what it controls (kube_delete_options.go).
func (k replicatedKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	return removeObject(r, k.m.kind, cur)
}

func (replicatedKind) stored(out *consensus.Result) api.Object { return out.Controller }

// table is the shared printer's (api/printers), which the CLI uses too.
func (k replicatedKind) table() tableKind {
	if k.m.kind == api.KindReplicaSet {
		return tableKind{columns: columnsOf(printers.ReplicatedColumns()), typed: typedRow(printers.ReplicaSet)}
	}
	return tableKind{columns: columnsOf(printers.ReplicatedColumns()), typed: typedRow(printers.ReplicationController)}
}

// replicationSubresources registers the /scale and /status of RCs and
// ReplicaSets; the kinds themselves are served by resourceRoutes.
func (srv *Server) replicationSubresources(mux handleFuncer) {
	for _, k := range []replicatedKind{{rcMeta}, {rsMeta}} {
		one := k.m.base + "/namespaces/{ns}/" + k.m.plural + "/{name}"
		mux.HandleFunc("GET "+one+"/scale", srv.viaServer(srv.getScale(k)))
		mux.HandleFunc("PUT "+one+"/scale", srv.viaLeader(srv.putScale(k)))
		mux.HandleFunc("GET "+one+"/status", srv.viaServer(srv.getResource(k)))
		mux.HandleFunc("PUT "+one+"/status", srv.viaLeader(srv.putReplicatedStatus(k)))
	}
}

func scaleOf(obj api.Replicated) api.Scale {
	m := api.MetaOf(obj)
	sel, _ := api.PodSelector(obj)
	selStr := ""
	if sel != nil {
		selStr = sel.String()
	}
	return api.Scale{
		TypeMeta:   api.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: api.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp},
		Spec:       api.ScaleSpec{Replicas: api.DesiredReplicas(obj)},
		Status:     api.ScaleStatus{Replicas: api.ReplicaStatus(obj).Replicas, Selector: selStr},
	}
}

func (srv *Server) getScale(k replicatedKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := srv.controllerState().Controller(k.m.kind, r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		writeJSON(w, http.StatusOK, scaleOf(obj))
	}
}

func (srv *Server) putScale(k replicatedKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		var sc api.Scale
		if err := api.DecodeStrict(body, &sc); err != nil {
			writeError(w, srv.log, invalid(err))
			return
		}
		out, err := srv.raft().Apply(r.Context(), consensus.ScaleController{Kind: k.m.kind, Namespace: r.PathValue("ns"), Name: r.PathValue("name"),
			Replicas: sc.Spec.Replicas, ResourceVersion: sc.ObjectMeta.ResourceVersion})
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
		writeJSON(w, http.StatusOK, scaleOf(out.Controller))
	}
}

// putReplicatedStatus lets a client write the status, as Kubernetes does;
// the leader's controller overwrites it at its next pass.
func (srv *Server) putReplicatedStatus(k replicatedKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		obj := k.newObject()
		if err := api.DecodeStrict(body, obj); err != nil {
			writeError(w, srv.log, invalid(err))
			return
		}
		ns, name := r.PathValue("ns"), r.PathValue("name")
		cur, err := srv.controllerState().Controller(k.m.kind, ns, name)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		out, err := srv.raft().Apply(r.Context(), consensus.UpdateControllerStatus{Kind: k.m.kind, Namespace: ns, Name: name,
			UID: api.MetaOf(cur).UID, Status: api.ReplicaStatus(obj)})
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
		writeJSON(w, http.StatusOK, out.Controller)
	}
}
