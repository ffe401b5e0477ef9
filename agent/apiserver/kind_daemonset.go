package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// daemonSetStore is the part of the state that holds DaemonSets.
type daemonSetStore interface {
	DaemonSet(namespace, name string) (*api.DaemonSet, error)
	DaemonSets(filter func(*api.DaemonSet) bool) ([]*api.DaemonSet, uint64)
}

// daemonSetKind serves apps/v1 daemonsets; their status is the leader's
// daemon set controller's.
type daemonSetKind struct{}

var daemonSetMeta = kindMeta{kind: api.KindDaemonSet, apiVersion: api.AppsV1, listKind: "DaemonSetList",
	base: "/apis/apps/v1", plural: "daemonsets", shortNames: []string{"ds"}, categories: []string{"all"}}

func (daemonSetKind) meta() kindMeta { return daemonSetMeta }

func (daemonSetKind) newObject() api.Object { return &api.DaemonSet{} }

func (daemonSetKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "DaemonSets", daemonSetStore.DaemonSet, ns, name)
}

func (daemonSetKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, daemonSetStore.DaemonSets, match)
}

func (daemonSetKind) field(api.Object, string) string { return "" }

func (daemonSetKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyDaemonSet{DaemonSet: *obj.(*api.DaemonSet), Create: create, UID: uid, Time: now}
}

// remove deletes the DaemonSet and, unless the caller asks for
// propagationPolicy=Orphan, its pods: the DeleteOptions are read as the
// replicated kinds read them.
func (daemonSetKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	cmd, err := replicatedKind{daemonSetMeta}.remove(r, cur)
	if err != nil {
		return nil, err
	}
	dc := cmd.(consensus.DeleteController)
	return consensus.DeleteDaemonSet{Namespace: dc.Namespace, Name: dc.Name, UID: dc.UID, Orphan: dc.Orphan}, nil
}

func (daemonSetKind) stored(out *consensus.Result) api.Object { return out.DaemonSet }

// table is kubectl's NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE
// SELECTOR AGE (api/printers).
func (daemonSetKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.DaemonSetColumns()), typed: typedRow(printers.DaemonSet)}
}

// daemonSetSubresources registers /status of DaemonSets; the kind itself
// is served by resourceRoutes.
func (srv *Server) daemonSetSubresources(mux handleFuncer) {
	one := daemonSetMeta.base + "/namespaces/{ns}/" + daemonSetMeta.plural + "/{name}"
	mux.HandleFunc("GET "+one+"/status", srv.viaServer(srv.getResource(daemonSetKind{})))
	mux.HandleFunc("PUT "+one+"/status", srv.viaLeader(srv.putDaemonSetStatus))
}

// putDaemonSetStatus lets a client write the status, as Kubernetes does;
// the leader's daemon set controller overwrites it at its next pass.
func (srv *Server) putDaemonSetStatus(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	var ds api.DaemonSet
	if err := api.DecodeStrict(body, &ds); err != nil {
		writeError(w, srv.log, invalid(err))
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	cur, err := daemonSetKind{}.get(srv.fsm(), ns, name)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	out, err := srv.raft().Apply(r.Context(), consensus.UpdateDaemonSetStatus{Namespace: ns, Name: name,
		UID: api.MetaOf(cur).UID, Status: ds.Status})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
	writeJSON(w, http.StatusOK, out.DaemonSet)
}
