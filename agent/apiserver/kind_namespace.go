package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// namespaceStore is the part of the state that holds Namespaces.
type namespaceStore interface {
	Namespace(name string) (*api.Namespace, error)
	Namespaces(filter func(*api.Namespace) bool) ([]*api.Namespace, uint64)
}

// namespaceKind serves /api/v1/namespaces, cluster-scoped. DELETE marks
// the Namespace Terminating; the leader's namespace controller removes
// what it holds and then the Namespace.
type namespaceKind struct{}

func (namespaceKind) meta() kindMeta {
	return kindMeta{kind: api.KindNamespace, apiVersion: "v1", listKind: "NamespaceList", base: "/api/v1", plural: "namespaces",
		cluster: true, fields: []string{"status.phase"}, shortNames: []string{"ns"}}
}

func (namespaceKind) newObject() api.Object { return &api.Namespace{} }

func (namespaceKind) get(st Store, _, name string) (api.Object, error) {
	return getIn(st, "Namespaces", func(s namespaceStore, _, name string) (*api.Namespace, error) { return s.Namespace(name) }, "", name)
}

func (namespaceKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, namespaceStore.Namespaces, match)
}

func (namespaceKind) field(obj api.Object, name string) string {
	if name == "status.phase" {
		return string(obj.(*api.Namespace).Status.Phase)
	}
	return ""
}

func (namespaceKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyNamespace{Namespace: *obj.(*api.Namespace), Create: create, UID: uid, Time: now}
}

func (namespaceKind) remove(_ *http.Request, cur api.Object) (consensus.Command, error) {
	m := api.MetaOf(cur)
	return consensus.DeleteNamespace{Name: m.Name, UID: m.UID, Time: time.Now().UTC()}, nil
}

func (namespaceKind) stored(out *consensus.Result) api.Object { return out.Namespace }

// table is kubectl's NAME STATUS AGE (api/printers).
func (namespaceKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.NamespaceColumns()), typed: typedRow(printers.Namespace)}
}
