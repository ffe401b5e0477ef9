package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// resource is what is special about one served kind, as a strategy is in
// Kubernetes' registry (pkg/registry/core/pod/strategy.go): the generic
// handlers in resource_handlers.go list and get every kind through it,
// and create, replace and delete every writable one; PATCH
// (addPatchRoutes), Tables and ?watch (negotiate) come from the same
// routes. Adding a kind is one file with one of these, its commands in
// consensus and its tests.
type resource interface {
	// meta names the kind and where it is served.
	meta() kindMeta

	// get and list read the local state.
	get(st Store, ns, name string) (api.Object, error)
	list(st Store, match func(api.Object) bool) ([]api.Object, uint64)
	// field is the value of a field selector's field on obj, for the
	// fields meta().fields names beyond metadata.name and
	// metadata.namespace.
	field(obj api.Object, name string) string

	// table is how kubectl get shows the kind.
	table() tableKind
}

// writable is a kind users write. A kind that is not (Endpoints and
// EndpointSlices, which a controller keeps) is served read and watch only,
// and its writes are refused (refuseRoutes).
type writable interface {
	resource
	// newObject is the empty object a body is decoded into; decoding is
	// api.DecodeObject's: strict, then defaulted, then validated.
	newObject() api.Object

	// write is the command that stores obj: create only (POST) or create
	// or replace (PUT).
	write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command
	// remove is the command that deletes cur; r carries the caller's
	// DeleteOptions.
	remove(r *http.Request, cur api.Object) (consensus.Command, error)
	// stored is the object a write's result holds.
	stored(out *consensus.Result) api.Object
}

// configured is a kind that needs the server's configuration (Services:
// the service range); the routes serve withConfig's copy.
type configured interface {
	withConfig(cfg Config) resource
}

// kindMeta is where a kind is served and how it is named.
type kindMeta struct {
	kind, apiVersion, listKind string
	base                       string // URL prefix before /namespaces: /api/v1, /apis/apps/v1
	plural                     string
	// cluster is a cluster-scoped kind (Namespaces): served at
	// base/plural[/name], never under /namespaces/{ns}/.
	cluster bool
	// fields are the field selectors the kind takes beyond metadata.name
	// and metadata.namespace.
	fields []string
	// shortNames and categories are what discovery tells kubectl
	// (kubectl get po, kubectl get all).
	shortNames, categories []string
	// fixed, when set, is why a writable kind's objects are neither
	// created nor deleted through the API (Nodes): POST and DELETE are
	// refused with it, and only replaced and patched.
	fixed string
}

// readTimed is a kind whose reads carry what the state does not store but
// the moment does (a node's roles and allocation: node_view.go); every
// answer of get, list and write goes through atRead.
type readTimed interface {
	atRead(srv *Server, objs []api.Object)
}

// resources are the kinds served through the generic handlers.
func resources() []resource {
	return []resource{podKind{}, secretKind{}, replicatedKind{rcMeta}, replicatedKind{rsMeta},
		deploymentKind{replicatedKind{deployMeta}}, serviceKind{}, endpointsKind{}, endpointSliceKind{},
		jobKind{}, cronJobKind{},
		configMapKind{}, leaseKind{}, daemonSetKind{}, controllerRevisionKind{},
		namespaceKind{}, nodeKind{}, eventKind{}}
}
