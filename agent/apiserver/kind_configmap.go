package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// configMapStore is the part of the state that holds ConfigMaps.
type configMapStore interface {
	ConfigMap(namespace, name string) (*api.ConfigMap, error)
	ConfigMaps(filter func(*api.ConfigMap) bool) ([]*api.ConfigMap, uint64)
}

// configMapKind serves /api/v1/[namespaces/{ns}/]configmaps.
type configMapKind struct{}

func (configMapKind) meta() kindMeta {
	return kindMeta{kind: api.KindConfigMap, apiVersion: "v1", listKind: "ConfigMapList", base: "/api/v1", plural: "configmaps",
		shortNames: []string{"cm"}}
}

func (configMapKind) newObject() api.Object { return &api.ConfigMap{} }

func (configMapKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "ConfigMaps", configMapStore.ConfigMap, ns, name)
}

func (configMapKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, configMapStore.ConfigMaps, match)
}

// field: Kubernetes indexes no field of a ConfigMap beyond its name and
// namespace.
func (configMapKind) field(api.Object, string) string { return "" }

func (configMapKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyConfigMap{ConfigMap: *obj.(*api.ConfigMap), Create: create, UID: uid, Time: now}
}

func (configMapKind) remove(_ *http.Request, cur api.Object) (consensus.Command, error) {
	m := api.MetaOf(cur)
	return consensus.DeleteConfigMap{Namespace: m.Namespace, Name: m.Name, UID: m.UID}, nil
}

func (configMapKind) stored(out *consensus.Result) api.Object { return out.ConfigMap }

// table is kubectl's NAME DATA AGE (api/printers, shared with the CLI).
func (configMapKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.ConfigMapColumns()), typed: typedRow(printers.ConfigMap)}
}

// read decodes a ConfigMap body as readNamespaced does, and names the
// ConfigMap in a field error, as kubectl prints it: `The ConfigMap "cfg" is
// invalid: data: Invalid value: "a/b": ...`.
func (configMapKind) read(r *http.Request) (api.Object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	ns := r.PathValue("ns")
	name, err := checkHead(body, ns, api.KindConfigMap, api.V1)
	if err != nil {
		return nil, err
	}
	c := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Namespace: ns}}
	if err := api.DecodeObject(body, c); err != nil {
		if fes := api.AsFieldErrors(err); fes != nil {
			return nil, &consensus.InvalidError{Kind: api.KindConfigMap, Namespace: ns, Name: name, Fields: fes}
		}
		return nil, invalid(err)
	}
	c.ObjectMeta.Namespace = ns
	return c, nil
}
