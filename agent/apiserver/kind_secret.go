package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// secretStore is the part of the state that holds Secrets.
type secretStore interface {
	Secret(namespace, name string) (*api.Secret, error)
	Secrets(filter func(*api.Secret) bool) ([]*api.Secret, uint64)
}

// secretKind serves /api/v1/[namespaces/{ns}/]secrets. Values are never
// logged: errors name keys and fields, never data.
type secretKind struct{}

func (secretKind) meta() kindMeta {
	return kindMeta{kind: "Secret", apiVersion: "v1", listKind: "SecretList", base: "/api/v1", plural: "secrets",
		fields: []string{"type"}}
}

func (secretKind) newObject() api.Object { return &api.Secret{} }

func (secretKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "Secrets", secretStore.Secret, ns, name)
}

func (secretKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, secretStore.Secrets, match)
}

func (secretKind) field(obj api.Object, name string) string {
	if name == "type" {
		return string(obj.(*api.Secret).Type)
	}
	return ""
}

func (secretKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplySecret{Secret: *obj.(*api.Secret), Create: create, UID: uid, Time: now}
}

func (secretKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	return removeObject(r, consensus.KindSecret, cur) // kube_delete_options.go
}

func (secretKind) stored(out *consensus.Result) api.Object { return out.Secret }

// table is kubectl's NAME TYPE DATA AGE: the number of keys, never their
// values (api/printers, shared with the CLI).
func (secretKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.SecretColumns()), typed: typedRow(printers.Secret)}
}
