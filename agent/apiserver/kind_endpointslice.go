package apiserver

import (
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

// endpointSliceStore is the part of the state that holds EndpointSlices.
type endpointSliceStore interface {
	EndpointSlice(namespace, name string) (*api.EndpointSlice, error)
	EndpointSlices(filter func(*api.EndpointSlice) bool) ([]*api.EndpointSlice, uint64)
}

// endpointSliceKind serves
// /apis/discovery.k8s.io/v1/[namespaces/{ns}/]endpointslices, the group
// its routes add to discovery. Read and watch only: the leader's
// endpoints controller writes them (refuseRoutes). Find a Service's
// slices with -l kubernetes.io/service-name=NAME.
type endpointSliceKind struct{}

func (endpointSliceKind) meta() kindMeta {
	return kindMeta{kind: api.KindEndpointSlice, apiVersion: api.DiscoveryV1, listKind: "EndpointSliceList",
		base: "/apis/discovery.k8s.io/v1", plural: "endpointslices"}
}

func (endpointSliceKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "EndpointSlices", endpointSliceStore.EndpointSlice, ns, name)
}

func (endpointSliceKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, endpointSliceStore.EndpointSlices, match)
}

func (endpointSliceKind) field(api.Object, string) string { return "" }

// table is kubectl's NAME ADDRESSTYPE PORTS ENDPOINTS AGE (api/printers).
func (endpointSliceKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.EndpointSliceColumns()), typed: typedRow(printers.EndpointSlice)}
}
