package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

func TestParseKubeRouteReadsResourceScopeAndSubresource(t *testing.T) {
	tests := []struct {
		pattern string
		want    kubeRoute
		ok      bool
	}{
		{"GET /api/v1/namespaces/{ns}/pods", kubeRoute{method: "GET", version: "v1", resource: "pods", namespaced: true}, true},
		{"PATCH /api/v1/namespaces/{ns}/pods/{name}", kubeRoute{method: "PATCH", version: "v1", resource: "pods", namespaced: true, named: true}, true},
		{"GET /api/v1/namespaces/{ns}/pods/{name}/log", kubeRoute{method: "GET", version: "v1", resource: "pods", sub: "log", namespaced: true, named: true}, true},
		{"GET /api/v1/nodes/{name}", kubeRoute{method: "GET", version: "v1", resource: "nodes", named: true}, true},
		{"POST /apis/apps/v1/namespaces/{ns}/replicasets", kubeRoute{method: "POST", group: "apps", version: "v1", resource: "replicasets", namespaced: true}, true},
		{"GET /shoal/v1/images", kubeRoute{}, false},
		{"GET /healthz", kubeRoute{}, false},
		{"/api/v1/pods", kubeRoute{}, false},
	}
	for _, tt := range tests {
		got, ok := parseKubeRoute(tt.pattern)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseKubeRoute(%q) = %+v, %v; want %+v, %v", tt.pattern, got, ok, tt.want, tt.ok)
		}
	}
}

// testMux serves a few routes the way routes() registers them.
func testMux() *kubeMux {
	m := testServer("", nil, nil).newKubeMux()
	ok := func(w http.ResponseWriter, r *http.Request) {}
	for _, p := range []string{
		"GET /api/v1/pods", "GET /api/v1/namespaces/{ns}/pods", "GET /api/v1/namespaces/{ns}/pods/{name}",
		"POST /api/v1/namespaces/{ns}/pods", "PATCH /api/v1/namespaces/{ns}/pods/{name}",
		"DELETE /api/v1/namespaces/{ns}/pods/{name}", "GET /api/v1/namespaces/{ns}/pods/{name}/log",
		"GET /api/v1/nodes", "GET /api/v1/nodes/{name}",
		"GET /apis/apps/v1/namespaces/{ns}/replicasets", "PUT /apis/apps/v1/namespaces/{ns}/replicasets/{name}/scale",
		"GET /shoal/v1/cluster",
	} {
		m.HandleFunc(p, ok)
	}
	m.Handle("POST /api/v1/namespaces/{ns}/pods/{name}/exec", http.HandlerFunc(ok))
	return m
}

func getDoc(t *testing.T, m *kubeMux, path, accept string) (string, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return rec.Header().Get("Content-Type"), doc
}

func TestDiscoveryListsOnlyTheRoutesAndVerbsServed(t *testing.T) {
	m := testMux()
	_, doc := getDoc(t, m, "/api/v1", "application/json")
	byName := map[string]map[string]any{}
	for _, r := range doc["resources"].([]any) {
		res := r.(map[string]any)
		byName[res["name"].(string)] = res
	}
	if len(byName) != 4 {
		t.Fatalf("resources = %v, want pods, pods/log, pods/exec, nodes", byName)
	}
	verbs := func(name string) []any { return byName[name]["verbs"].([]any) }
	if got := verbs("pods"); !reflect.DeepEqual(got, []any{"create", "delete", "get", "list", "patch", "watch"}) {
		t.Errorf("pods verbs = %v", got)
	}
	if byName["pods"]["namespaced"] != true || byName["nodes"]["namespaced"] != false || byName["pods"]["kind"] != "Pod" {
		t.Errorf("pods = %v, nodes = %v", byName["pods"], byName["nodes"])
	}
	// kubectl get po, kubectl get all: from the kind (kind_pod.go)
	if byName["pods"]["singularName"] != "pod" || !reflect.DeepEqual(byName["pods"]["shortNames"], []any{"po"}) ||
		!reflect.DeepEqual(byName["pods"]["categories"], []any{"all"}) || !reflect.DeepEqual(byName["nodes"]["shortNames"], []any{"no"}) {
		t.Errorf("pods = %v, nodes = %v: want the short names po and no, pods in all", byName["pods"], byName["nodes"])
	}
	if got := verbs("pods/log"); !reflect.DeepEqual(got, []any{"get"}) {
		t.Errorf("pods/log verbs = %v", got)
	}
	if got := verbs("pods/exec"); !reflect.DeepEqual(got, []any{"create"}) || byName["pods/exec"]["kind"] != "PodExecOptions" {
		t.Errorf("pods/exec = %v", byName["pods/exec"])
	}

	_, groups := getDoc(t, m, "/apis", "application/json")
	var groupNames []string
	for _, g := range groups["groups"].([]any) {
		groupNames = append(groupNames, g.(map[string]any)["name"].(string))
	}
	// The review groups (auth_reviews.go) and the metrics API (metrics_api.go) are always there.
	if want := []string{"apps", "authentication.k8s.io", "authorization.k8s.io", "metrics.k8s.io"}; !reflect.DeepEqual(groupNames, want) {
		t.Errorf("groups = %v, want %v", groupNames, want)
	}
	_, apps := getDoc(t, m, "/apis/apps/v1", "")
	var names []string
	for _, r := range apps["resources"].([]any) {
		res := r.(map[string]any)
		names = append(names, res["name"].(string)+":"+res["kind"].(string))
	}
	if strings.Join(names, " ") != "replicasets:ReplicaSet replicasets/scale:Scale" {
		t.Errorf("apps/v1 = %v", names)
	}
}

func TestAggregatedDiscoveryWhenAsked(t *testing.T) {
	m := testMux()
	ct, doc := getDoc(t, m, "/api", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
	if ct != aggregatedDiscoveryType || doc["kind"] != "APIGroupDiscoveryList" {
		t.Fatalf("content type %q, kind %v", ct, doc["kind"])
	}
	items := doc["items"].([]any)
	res := items[0].(map[string]any)["versions"].([]any)[0].(map[string]any)["resources"].([]any)
	var got []string
	for _, r := range res {
		rm := r.(map[string]any)
		got = append(got, rm["resource"].(string)+"/"+rm["scope"].(string))
		if rm["resource"] == "pods" {
			subs := rm["subresources"].([]any)
			if len(subs) != 2 || subs[0].(map[string]any)["subresource"] != "exec" || subs[1].(map[string]any)["subresource"] != "log" {
				t.Errorf("pods subresources = %v", subs)
			}
		}
	}
	if strings.Join(got, " ") != "nodes/Cluster pods/Namespaced" {
		t.Errorf("core resources = %v", got)
	}
	if ct, _ := getDoc(t, m, "/api", "application/json"); ct != "application/json" {
		t.Errorf("plain discovery answered %q", ct)
	}
}

func TestOpenAPIAdvertisesServerSideFieldValidationForEveryKind(t *testing.T) {
	m := testMux()
	_, root := getDoc(t, m, "/openapi/v3", "")
	paths := root["paths"].(map[string]any)
	url := paths["api/v1"].(map[string]any)["serverRelativeURL"].(string)
	if !strings.HasPrefix(url, "/openapi/v3/api/v1?hash=") || paths["apis/apps/v1"] == nil {
		t.Fatalf("root paths = %v", paths)
	}
	_, doc := getDoc(t, m, url, "")
	kinds := map[string]bool{}
	for _, p := range doc["paths"].(map[string]any) {
		patch := p.(map[string]any)["patch"].(map[string]any)
		kinds[patch["x-kubernetes-group-version-kind"].(map[string]any)["kind"].(string)] = true
		params := patch["parameters"].([]any)
		if params[0].(map[string]any)["name"] != "fieldValidation" {
			t.Errorf("parameters = %v", params)
		}
		if _, smp := patch["requestBody"].(map[string]any)["content"].(map[string]any)[strategicPatchType]; smp {
			t.Error("strategic merge patch advertised: kubectl apply would look for schemas that are not there")
		}
	}
	if !kinds["Pod"] || !kinds["Node"] || len(kinds) != 2 {
		t.Errorf("kinds = %v", kinds)
	}
}

// The OpenAPI documents carry Kubernetes' own schemas of exactly the served
// kinds, found by their group-version-kind, with the merge keys kubectl
// apply reads.
func TestOpenAPISchemasOfExactlyTheServedKinds(t *testing.T) {
	m := testMux()
	_, v3 := getDoc(t, m, "/openapi/v3/apis/apps/v1", "")
	schemas := v3["components"].(map[string]any)["schemas"].(map[string]any)
	rs, ok := schemas["io.k8s.api.apps.v1.ReplicaSet"].(map[string]any)
	if !ok {
		t.Fatalf("no ReplicaSet schema among %d", len(schemas))
	}
	if gvk := rs["x-kubernetes-group-version-kind"].([]any)[0].(map[string]any); gvk["group"] != "apps" || gvk["version"] != "v1" || gvk["kind"] != "ReplicaSet" {
		t.Errorf("ReplicaSet gvk = %v", gvk)
	}
	if r := rs["properties"].(map[string]any)["spec"].(map[string]any)["$ref"]; r != "#/components/schemas/io.k8s.api.apps.v1.ReplicaSetSpec" {
		t.Errorf("ReplicaSet spec ref = %v", rs["properties"].(map[string]any)["spec"])
	}
	containers := schemas["io.k8s.api.core.v1.PodSpec"].(map[string]any)["properties"].(map[string]any)["containers"].(map[string]any)
	if containers["x-kubernetes-patch-merge-key"] != "name" {
		t.Errorf("containers merge key = %v", containers["x-kubernetes-patch-merge-key"])
	}
	for name, gvk := range map[string]string{
		"io.k8s.api.core.v1.Service":            "/v1/Service",
		"io.k8s.api.core.v1.Endpoints":          "/v1/Endpoints",
		"io.k8s.api.discovery.v1.EndpointSlice": "discovery.k8s.io/v1/EndpointSlice",
		"io.k8s.api.apps.v1.Deployment":         "apps/v1/Deployment",
		"io.k8s.api.apps.v1.DaemonSet":          "apps/v1/DaemonSet",
		"io.k8s.api.core.v1.ConfigMap":          "/v1/ConfigMap",
	} {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("served kind %s has no schema", name)
			continue
		}
		g := s["x-kubernetes-group-version-kind"].([]any)[0].(map[string]any)
		if got := fmt.Sprintf("%s/%s/%s", g["group"], g["version"], g["kind"]); got != gvk {
			t.Errorf("%s gvk %s, want %s", name, got, gvk)
		}
	}
	for _, notServed := range []string{"io.k8s.api.apps.v1.StatefulSet", "io.k8s.api.core.v1.LimitRange"} {
		if _, ok := schemas[notServed]; ok {
			t.Errorf("%s is not served but has a schema", notServed)
		}
	}

	_, v2 := getDoc(t, m, "/openapi/v2", "application/json")
	defs := v2["definitions"].(map[string]any)
	pod, ok := defs["io.k8s.api.core.v1.Pod"].(map[string]any)
	if !ok || v2["swagger"] != "2.0" {
		t.Fatalf("v2: swagger %v, %d definitions", v2["swagger"], len(defs))
	}
	if r := pod["properties"].(map[string]any)["spec"].(map[string]any)["$ref"]; r != "#/definitions/io.k8s.api.core.v1.PodSpec" {
		t.Errorf("v2 Pod spec ref = %v", r)
	}
	req := httptest.NewRequest("GET", "/openapi/v2", nil)
	req.Header.Set("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	var doc openapi_v2.Document
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != openAPIV2Protobuf {
		t.Errorf("protobuf-only /openapi/v2: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	} else if err := proto.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Swagger != "2.0" || len(doc.Definitions.GetAdditionalProperties()) != len(defs) {
		t.Errorf("protobuf /openapi/v2: %v, swagger %q, %d definitions, want %d", err, doc.Swagger, len(doc.Definitions.GetAdditionalProperties()), len(defs))
	}
	req.Header.Set("Accept", "application/yaml")
	rec = httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotAcceptable {
		t.Errorf("yaml-only /openapi/v2: %d", rec.Code)
	}
}
