package apiserver

import (
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

// endpointsStore is the part of the state that holds v1 Endpoints.
type endpointsStore interface {
	Endpoints(namespace, name string) (*api.Endpoints, error)
	ListEndpoints(filter func(*api.Endpoints) bool) ([]*api.Endpoints, uint64)
}

// endpointsKind serves /api/v1/[namespaces/{ns}/]endpoints, for clients
// older than EndpointSlices (kubectl describe svc reads them). Read and
// watch only: the leader's endpoints controller writes them, and a
// user's write is refused (refuseRoutes).
type endpointsKind struct{}

func (endpointsKind) meta() kindMeta {
	return kindMeta{kind: api.KindEndpoints, apiVersion: api.V1, listKind: "EndpointsList", base: "/api/v1", plural: "endpoints",
		shortNames: []string{"ep"}}
}

func (endpointsKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "Endpoints", endpointsStore.Endpoints, ns, name)
}

func (endpointsKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, endpointsStore.ListEndpoints, match)
}

func (endpointsKind) field(api.Object, string) string { return "" }

// table is kubectl's NAME ENDPOINTS AGE (api/printers).
func (endpointsKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.EndpointsColumns()), typed: typedRow(printers.Endpoints)}
}
