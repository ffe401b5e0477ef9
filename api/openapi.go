package api

import (
	"reflect"
	"sort"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/shoal-dev/shoal/api/openapi"
)

// OpenAPIV2RefPrefix is where OpenAPI v2 documents keep their schemas.
const OpenAPIV2RefPrefix = "#/definitions/"

// OpenAPISchemas returns the OpenAPI schemas of the served kinds and of
// what they reach, keyed by model name (io.k8s.api.core.v1.Pod), their
// references under refPrefix ("#/definitions/" for OpenAPI v2,
// "#/components/schemas/" for v3). Each kind of the scheme carries
// x-kubernetes-group-version-kind, by which kubectl finds its schema.
func OpenAPISchemas(refPrefix string) map[string]spec.Schema {
	defs := openapi.GetOpenAPIDefinitions(func(name string) spec.Ref { return spec.MustCreateRef(refPrefix + name) })
	gvks := map[string][]map[string]string{}
	for gvk, t := range scheme.AllKnownTypes() {
		named, ok := reflect.New(t).Elem().Interface().(interface{ OpenAPIModelName() string })
		if !ok {
			continue
		}
		name := named.OpenAPIModelName()
		if _, ok := defs[name]; ok {
			gvks[name] = append(gvks[name], map[string]string{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind})
		}
	}
	out := make(map[string]spec.Schema, len(defs))
	for name, d := range defs {
		s := d.Schema
		// A type whose v3 schema needs oneOf (Quantity, IntOrString) carries
		// its v2 form, which Swagger 2.0 can express, in an extension.
		if v2, ok := s.Extensions[common.ExtensionV2Schema].(spec.Schema); ok {
			if refPrefix == OpenAPIV2RefPrefix {
				s = v2
			} else {
				delete(s.Extensions, common.ExtensionV2Schema)
			}
		}
		if list := gvks[name]; len(list) > 0 {
			sort.Slice(list, func(i, j int) bool {
				return list[i]["group"]+"/"+list[i]["version"] < list[j]["group"]+"/"+list[j]["version"]
			})
			s.AddExtension("x-kubernetes-group-version-kind", list)
		}
		out[name] = s
	}
	return out
}
