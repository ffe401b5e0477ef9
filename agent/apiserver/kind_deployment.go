package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// deploymentKind is apps/v1 deployments. A Deployment is stored beside
// RCs and ReplicaSets and read, scaled and deleted by the same commands,
// so it is served as they are except for what it decodes into, how it is
// written and its table; its status is the deployment controller's.
type deploymentKind struct{ replicatedKind }

var deployMeta = kindMeta{kind: api.KindDeployment, apiVersion: api.AppsV1, listKind: "DeploymentList",
	base: "/apis/apps/v1", plural: "deployments", shortNames: []string{"deploy"}, categories: []string{"all"}}

func (deploymentKind) newObject() api.Object { return &api.Deployment{} }

func (deploymentKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyController{Deploy: obj.(*api.Deployment), Create: create, UID: uid, Time: now}
}

// table is kubectl's NAME READY UP-TO-DATE AVAILABLE AGE (api/printers).
func (deploymentKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.DeploymentColumns()), typed: typedRow(printers.Deployment)}
}

// deploymentSubresources registers /scale (kubectl scale deployment) and
// /status of Deployments; the kind itself is served by resourceRoutes.
func (srv *Server) deploymentSubresources(mux handleFuncer) {
	k := deploymentKind{replicatedKind{deployMeta}}
	one := deployMeta.base + "/namespaces/{ns}/" + deployMeta.plural + "/{name}"
	mux.HandleFunc("GET "+one+"/scale", srv.viaServer(srv.getScale(k.replicatedKind)))
	mux.HandleFunc("PUT "+one+"/scale", srv.viaLeader(srv.putScale(k.replicatedKind)))
	mux.HandleFunc("GET "+one+"/status", srv.viaServer(srv.getResource(k)))
	mux.HandleFunc("PUT "+one+"/status", srv.viaLeader(srv.putDeploymentStatus))
}

// putDeploymentStatus lets a client write the status, as Kubernetes does;
// the leader's deployment controller overwrites it at its next pass.
func (srv *Server) putDeploymentStatus(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	var d api.Deployment
	if err := api.DecodeStrict(body, &d); err != nil {
		writeError(w, srv.log, invalid(err))
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	cur, err := srv.controllerState().Controller(api.KindDeployment, ns, name)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	out, err := srv.raft().Apply(r.Context(), consensus.UpdateDeploymentStatus{Namespace: ns, Name: name,
		UID: api.MetaOf(cur).UID, Status: d.Status})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
	writeJSON(w, http.StatusOK, out.Controller)
}
