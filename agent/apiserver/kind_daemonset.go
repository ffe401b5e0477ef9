package apiserver

import (
	"net/http"
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
	return removeObject(r, consensus.KindDaemonSet, cur) // kube_delete_options.go
}

func (daemonSetKind) stored(out *consensus.Result) api.Object { return out.DaemonSet }

// table is kubectl's NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE
// SELECTOR AGE (api/printers).
func (daemonSetKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.DaemonSetColumns()), typed: typedRow(printers.DaemonSet)}
}

// writeStatus is a client's write of the status (statusRoutes), as
// Kubernetes allows; the leader's controller goes on from what it finds.
func (daemonSetKind) writeStatus(obj, cur api.Object) consensus.Command {
	m := api.MetaOf(cur)
	return consensus.UpdateDaemonSetStatus{Namespace: m.Namespace, Name: m.Name, UID: m.UID, Status: obj.(*api.DaemonSet).Status}
}
