package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// serviceStore is the part of the state that holds Services.
type serviceStore interface {
	Service(namespace, name string) (*api.Service, error)
	Services(filter func(*api.Service) bool) ([]*api.Service, uint64)
}

// serviceKind serves /api/v1/[namespaces/{ns}/]services. The state
// machine allocates ClusterIPs from cidr, the fleet's service range
// (Config.ServiceCIDR), which every write carries.
type serviceKind struct{ cidr string }

func (serviceKind) meta() kindMeta {
	return kindMeta{kind: api.KindService, apiVersion: api.V1, listKind: "ServiceList", base: "/api/v1", plural: "services",
		shortNames: []string{"svc"}, categories: []string{"all"}}
}

// withConfig is the kind as this server serves it: with its service range.
func (serviceKind) withConfig(cfg Config) resource { return serviceKind{cidr: cfg.ServiceCIDR} }

func (serviceKind) newObject() api.Object { return &api.Service{} }

func (serviceKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "Services", serviceStore.Service, ns, name)
}

func (serviceKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, serviceStore.Services, match)
}

// field: Services take only metadata.name and metadata.namespace, as in
// Kubernetes.
func (serviceKind) field(api.Object, string) string { return "" }

// write is ApplyService: the state machine allocates the ClusterIP and
// node ports, checks a requested clusterIP against the range, and keeps
// on a replace what the stored Service was given (PrepareServiceUpdate).
func (k serviceKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyService{Service: *obj.(*api.Service), Create: create, UID: uid, ServiceCIDR: k.cidr, Time: now}
}

// remove deletes the Service and, in the same entry, its Endpoints and
// EndpointSlices (DeleteService, through DeleteObject's propagation).
func (serviceKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	return removeObject(r, consensus.KindService, cur) // kube_delete_options.go
}

func (serviceKind) stored(out *consensus.Result) api.Object { return out.Service }

// table is kubectl's NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and
// SELECTOR with -o wide (api/printers, shared with the CLI).
func (serviceKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.ServiceColumns()), typed: typedRow(printers.Service)}
}

// read decodes a Service body as readNamespaced does, and names the
// Service in a field error, as kubectl prints it: `The Service "web" is
// invalid: spec.ports[0].port: Invalid value: "70000": ...`.
func (serviceKind) read(r *http.Request) (api.Object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	ns := r.PathValue("ns")
	name, err := checkHead(body, ns, api.KindService, api.V1)
	if err != nil {
		return nil, err
	}
	s := &api.Service{ObjectMeta: api.ObjectMeta{Namespace: ns}}
	if err := api.DecodeObject(body, s); err != nil {
		if fes := api.AsFieldErrors(err); fes != nil {
			return nil, &consensus.InvalidError{Kind: api.KindService, Namespace: ns, Name: name, Fields: fes}
		}
		return nil, invalid(err)
	}
	s.ObjectMeta.Namespace = ns
	return s, nil
}
