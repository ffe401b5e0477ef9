package api

import "testing"

// The OpenAPI documents carry the new kinds with the group, version and
// kind kubectl looks them up by (kubectl explain, client-side validation).
func TestOpenAPIHasTheServiceKinds(t *testing.T) {
	defs := OpenAPISchemas("#/definitions/")
	for name, gvk := range map[string]string{
		"io.k8s.api.core.v1.Service":                "/v1/Service",
		"io.k8s.api.core.v1.Endpoints":              "/v1/Endpoints",
		"io.k8s.api.discovery.v1.EndpointSlice":     "discovery.k8s.io/v1/EndpointSlice",
		"io.k8s.api.discovery.v1.EndpointSliceList": "discovery.k8s.io/v1/EndpointSliceList",
		"io.k8s.api.coordination.v1.Lease":          "coordination.k8s.io/v1/Lease",
	} {
		s, ok := defs[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		list, _ := s.Extensions["x-kubernetes-group-version-kind"].([]map[string]string)
		if len(list) != 1 || list[0]["group"]+"/"+list[0]["version"]+"/"+list[0]["kind"] != gvk {
			t.Errorf("%s: gvk %v, want %s", name, list, gvk)
		}
	}
}
