package apiserver

import (
	"fmt"

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
// endpoints controller writes them (readOnlyRoutes). Find a Service's
// slices with -l kubernetes.io/service-name=NAME.
type endpointSliceKind struct{}

func (endpointSliceKind) meta() kindMeta {
	return kindMeta{kind: api.KindEndpointSlice, apiVersion: api.DiscoveryV1, listKind: "EndpointSliceList",
		base: "/apis/discovery.k8s.io/v1", plural: "endpointslices"}
}

func endpointSlicesOf(st Store) (endpointSliceStore, error) {
	es, ok := st.(endpointSliceStore)
	if !ok {
		return nil, fmt.Errorf("state of type %T holds no EndpointSlices", st)
	}
	return es, nil
}

func (endpointSliceKind) get(st Store, ns, name string) (api.Object, error) {
	es, err := endpointSlicesOf(st)
	if err != nil {
		return nil, err
	}
	s, err := es.EndpointSlice(ns, name)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (endpointSliceKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	es, err := endpointSlicesOf(st)
	if err != nil {
		return nil, 0
	}
	items, idx := es.EndpointSlices(func(s *api.EndpointSlice) bool { return match(s) })
	out := make([]api.Object, len(items))
	for i, s := range items {
		out[i] = s
	}
	return out, idx
}

func (endpointSliceKind) field(api.Object, string) string { return "" }

// table is kubectl's NAME ADDRESSTYPE PORTS ENDPOINTS AGE (api/printers).
func (endpointSliceKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.EndpointSliceColumns()), typed: typedRow(printers.EndpointSlice)}
}
