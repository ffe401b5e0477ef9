package apiserver

import (
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

// deploymentSubresources registers /scale of Deployments; the kind itself
// and its /status are served by resourceRoutes and statusRoutes.
func (srv *Server) deploymentSubresources(mux handleFuncer) {
	k := deploymentKind{replicatedKind{deployMeta}}
	one := deployMeta.base + "/namespaces/{ns}/" + deployMeta.plural + "/{name}"
	mux.HandleFunc("GET "+one+"/scale", srv.viaServer(srv.getScale(k.replicatedKind)))
	mux.HandleFunc("PUT "+one+"/scale", srv.viaLeader(srv.putScale(k.replicatedKind)))
}

// writeStatus is a client's write of the status (statusRoutes), as
// Kubernetes allows; the leader's deployment controller overwrites it at
// its next pass.
func (deploymentKind) writeStatus(obj, cur api.Object) consensus.Command {
	m := api.MetaOf(cur)
	return consensus.UpdateDeploymentStatus{Namespace: m.Namespace, Name: m.Name, UID: m.UID, Status: obj.(*api.Deployment).Status}
}
