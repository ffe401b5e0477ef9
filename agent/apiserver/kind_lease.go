package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// leaseStore is the part of the state that holds Leases.
type leaseStore interface {
	Lease(namespace, name string) (*api.Lease, error)
	Leases(filter func(*api.Lease) bool) ([]*api.Lease, uint64)
}

// leaseKind serves /apis/coordination.k8s.io/v1/[namespaces/{ns}/]leases,
// the group its routes add to discovery: node heartbeats in
// kube-node-lease (the leader renews them, consensus.RenewNodeLeases) and
// the Leases client-go's leader election creates, reads and updates with
// resourceVersion preconditions.
type leaseKind struct{}

func (leaseKind) meta() kindMeta {
	return kindMeta{kind: api.KindLease, apiVersion: api.CoordinationV1, listKind: "LeaseList",
		base: "/apis/coordination.k8s.io/v1", plural: "leases"}
}

func (leaseKind) newObject() api.Object { return &api.Lease{} }

func (leaseKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "Leases", leaseStore.Lease, ns, name)
}

func (leaseKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, leaseStore.Leases, match)
}

func (leaseKind) field(api.Object, string) string { return "" }

func (leaseKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyLease{Lease: *obj.(*api.Lease), Create: create, UID: uid, Time: now}
}

func (leaseKind) remove(_ *http.Request, cur api.Object) (consensus.Command, error) {
	m := api.MetaOf(cur)
	return consensus.DeleteLease{Namespace: m.Namespace, Name: m.Name, UID: m.UID}, nil
}

func (leaseKind) stored(out *consensus.Result) api.Object { return out.Lease }

// table is kubectl's NAME HOLDER AGE (api/printers).
func (leaseKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.LeaseColumns()), typed: typedRow(printers.Lease)}
}
