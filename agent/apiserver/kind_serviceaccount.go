package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// serviceAccountStore is the part of the state that holds ServiceAccounts.
type serviceAccountStore interface {
	ServiceAccount(namespace, name string) (*api.ServiceAccount, error)
	ServiceAccounts(filter func(*api.ServiceAccount) bool) ([]*api.ServiceAccount, uint64)
}

// serviceAccountKind serves /api/v1/[namespaces/{ns}/]serviceaccounts; its
// token subresource (TokenRequest) is service_account_token.go's.
type serviceAccountKind struct{}

func (serviceAccountKind) meta() kindMeta {
	return kindMeta{kind: api.KindServiceAccount, apiVersion: "v1", listKind: "ServiceAccountList", base: "/api/v1",
		plural: "serviceaccounts", shortNames: []string{"sa"}}
}

func (serviceAccountKind) newObject() api.Object { return &api.ServiceAccount{} }

func (serviceAccountKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "ServiceAccounts", serviceAccountStore.ServiceAccount, ns, name)
}

func (serviceAccountKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, serviceAccountStore.ServiceAccounts, match)
}

// field: Kubernetes indexes no field of a ServiceAccount beyond its name
// and namespace.
func (serviceAccountKind) field(api.Object, string) string { return "" }

func (serviceAccountKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyServiceAccount{ServiceAccount: *obj.(*api.ServiceAccount), Create: create, UID: uid, Time: now}
}

func (serviceAccountKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	return removeObject(r, consensus.KindServiceAccount, cur) // kube_delete_options.go
}

func (serviceAccountKind) stored(out *consensus.Result) api.Object { return out.ServiceAccount }

// table is kubectl's NAME SECRETS AGE (api/printers).
func (serviceAccountKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.ServiceAccountColumns()), typed: typedRow(printers.ServiceAccount)}
}

// read decodes a ServiceAccount body as readNamespaced does, and names the
// ServiceAccount in a field error, as kubectl prints it.
func (serviceAccountKind) read(r *http.Request) (api.Object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	ns := r.PathValue("ns")
	name, err := checkHead(body, ns, api.KindServiceAccount, api.V1)
	if err != nil {
		return nil, err
	}
	sa := &api.ServiceAccount{ObjectMeta: api.ObjectMeta{Namespace: ns}}
	if err := api.DecodeObject(body, sa); err != nil {
		if fes := api.AsFieldErrors(err); fes != nil {
			return nil, &consensus.InvalidError{Kind: api.KindServiceAccount, Namespace: ns, Name: name, Fields: fes}
		}
		return nil, invalid(err)
	}
	sa.ObjectMeta.Namespace = ns
	return sa, nil
}
