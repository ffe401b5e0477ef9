package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// serviceAPI serves the whole handler with a service range of its own on
// a one-seat test cluster, and returns the seat to write endpoints with,
// as the leader's endpoints controller does.
func serviceAPI(t *testing.T, cidr string) (string, *consensus.TestServer) {
	t.Helper()
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	srv := httptest.NewServer(New(Config{Name: s.ID, ServiceCIDR: cidr, Log: slog.New(slog.DiscardHandler)},
		Deps{Seats: fixedSeat{store: s.FSM, log: s.Raft}}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, s
}

const webService = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labels":{"app":"web"}},
"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}`

func createService(t *testing.T, base, body string) api.Service {
	t.Helper()
	code, b := do(t, "POST", base+"/api/v1/namespaces/default/services", "application/json", "", body)
	if code != http.StatusCreated {
		t.Fatalf("create service: HTTP %d %s", code, b)
	}
	var s api.Service
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServiceGetsAClusterIPFromTheConfiguredRangeAndKeepsItWhenReplaced(t *testing.T) {
	base, _ := serviceAPI(t, "10.100.0.0/24")
	s := createService(t, base, webService)
	ip, err := netip.ParseAddr(s.Spec.ClusterIP)
	if err != nil || !netip.MustParsePrefix("10.100.0.0/24").Contains(ip) {
		t.Fatalf("clusterIP %q: not in the configured range 10.100.0.0/24", s.Spec.ClusterIP)
	}
	if s.Spec.Ports[0].TargetPort.IntVal != 8080 || s.Spec.Type != api.ServiceTypeClusterIP || s.UID == "" {
		t.Errorf("stored spec %+v uid %q", s.Spec, s.UID)
	}
	// A manifest applied again has no clusterIP: the allocated one stays.
	one := base + "/api/v1/namespaces/default/services/web"
	replaced := strings.Replace(webService, `"port":80,`, `"port":81,`, 1)
	code, b := do(t, "PUT", one, "application/json", "", replaced)
	var got api.Service
	if err := json.Unmarshal(b, &got); code != http.StatusOK || err != nil || got.Spec.ClusterIP != s.Spec.ClusterIP || got.Spec.Ports[0].Port != 81 {
		t.Fatalf("replace: HTTP %d %s, want port 81 and clusterIP %s kept", code, b, s.Spec.ClusterIP)
	}
	// A strategic merge patch (kubectl apply, label) goes through the PUT.
	code, b = do(t, "PATCH", one, "application/strategic-merge-patch+json", "", `{"metadata":{"labels":{"tier":"front"}}}`)
	if code != http.StatusOK || !strings.Contains(string(b), `"tier":"front"`) {
		t.Fatalf("patch: HTTP %d %s", code, b)
	}
	code, _, raw := request(t, "PUT", one, "application/json", strings.Replace(replaced, `"spec":{`, `"spec":{"clusterIP":"10.100.0.99",`, 1))
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "spec.clusterIP") {
		t.Errorf("changing the clusterIP: HTTP %d %s, want 422 naming spec.clusterIP", code, raw)
	}
}

func TestBadServicesAreRefusedNamingTheFieldAndNothingIsStored(t *testing.T) {
	base, _ := serviceAPI(t, "10.100.0.0/24")
	coll := base + "/api/v1/namespaces/default/services"
	for _, tc := range []struct{ name, edit, field string }{
		{"port out of range", `"port":70000,`, "spec.ports[0].port"},
		{"LoadBalancer", `"type":"LoadBalancer","port":80,`, "spec.type"},
		{"clusterIP outside the range", `"port":80,`, "spec.clusterIP"},
		{"unknown field", `"port":80,"appProtocol":"http",`, "spec.ports[0].appProtocol"},
	} {
		body := strings.Replace(webService, `"port":80,`, tc.edit, 1)
		switch tc.name {
		case "LoadBalancer":
			body = strings.Replace(webService, `"spec":{`, `"spec":{"type":"LoadBalancer",`, 1)
		case "clusterIP outside the range":
			body = strings.Replace(webService, `"spec":{`, `"spec":{"clusterIP":"10.96.0.10",`, 1)
		}
		code, st, raw := request(t, "POST", coll, "application/json", body)
		if code != http.StatusUnprocessableEntity || st.Reason != "Invalid" || !strings.Contains(st.Message, tc.field) {
			t.Errorf("%s: HTTP %d %s, want 422 naming %s", tc.name, code, raw, tc.field)
		}
		if tc.name != "unknown field" && !strings.HasPrefix(st.Message, `Service "web" is invalid: `) {
			t.Errorf("%s: message %q does not name the Service as kubectl prints it", tc.name, st.Message)
		}
	}
	if code, b := do(t, "GET", coll, "", "", ""); code != http.StatusOK || fmt.Sprint(names(t, b)) != "[]" {
		t.Errorf("after the refused creates: HTTP %d %s, want no Services", code, b)
	}

	// A clusterIP another Service holds and a port name used twice.
	taken := createService(t, base, strings.Replace(webService, `"name":"web"`, `"name":"first"`, 1))
	for _, tc := range []struct{ name, body, field, detail string }{
		{"clusterIP taken", strings.Replace(webService, `"spec":{`, `"spec":{"clusterIP":"`+taken.Spec.ClusterIP+`",`, 1),
			"spec.clusterIP", "already allocated"},
		{"duplicate port name", strings.Replace(webService, `"ports":[{"port":80,"targetPort":8080}]`,
			`"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"http","port":81,"targetPort":8081}]`, 1),
			"spec.ports[1].name", "duplicate port name"},
	} {
		code, st, raw := request(t, "POST", coll, "application/json", tc.body)
		if code != http.StatusUnprocessableEntity || st.Reason != "Invalid" || !strings.Contains(st.Message, tc.field) || !strings.Contains(st.Message, tc.detail) {
			t.Errorf("%s: HTTP %d %s, want 422 naming %s (%s)", tc.name, code, raw, tc.field, tc.detail)
		}
	}
	if code, b := do(t, "GET", coll, "", "", ""); code != http.StatusOK || fmt.Sprint(names(t, b)) != "[first]" {
		t.Errorf("after the refused creates: HTTP %d %s, want only first", code, b)
	}
}

func TestServiceTableShowsKubectlsColumns(t *testing.T) {
	base, _ := serviceAPI(t, "")
	s := createService(t, base, webService)
	code, b := do(t, "GET", base+"/api/v1/namespaces/default/services", "", "application/json;as=Table;v=v1;g=meta.k8s.io", "")
	var tbl table
	if err := json.Unmarshal(b, &tbl); code != http.StatusOK || err != nil || len(tbl.Rows) != 1 {
		t.Fatalf("table: HTTP %d %s", code, b)
	}
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if got := strings.Join(cols, " "); got != "Name Type Cluster-IP External-IP Port(s) Age Selector" {
		t.Errorf("columns %q", got)
	}
	cells := tbl.Rows[0].Cells
	if cells[0] != "web" || cells[1] != "ClusterIP" || cells[2] != s.Spec.ClusterIP || cells[3] != "<none>" || cells[4] != "80/TCP" || cells[6] != "app=web" {
		t.Errorf("row %v", cells)
	}
	if !netip.MustParsePrefix(consensus.DefaultServiceCIDR).Contains(netip.MustParseAddr(s.Spec.ClusterIP)) {
		t.Errorf("without a configured range, clusterIP %s is not in the default %s", s.Spec.ClusterIP, consensus.DefaultServiceCIDR)
	}
}

// Endpoints and EndpointSlices are read and watched; a user's write is
// refused with 405 (the verbs discovery does not list) and changes
// nothing. Deleting the Service removes them.
func TestEndpointsAndSlicesAreReadOnlyAndGoWithTheirService(t *testing.T) {
	base, seat := serviceAPI(t, "")
	svc := createService(t, base, webService)
	ctx := context.Background()
	port := int32(8080)
	eps := api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "10.244.1.5"}}, Ports: []api.EndpointPort{{Port: 8080, Protocol: api.ProtocolTCP}}}}}
	if _, err := seat.Raft.Apply(ctx, consensus.PutEndpoints{Endpoints: eps, ServiceUID: svc.UID, UID: "e1", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	slice := api.EndpointSlice{ObjectMeta: api.ObjectMeta{Name: "web-x1", Namespace: "default", Labels: map[string]string{api.LabelServiceName: "web"}},
		AddressType: api.AddressTypeIPv4, Endpoints: []api.SliceEndpoint{{Addresses: []string{"10.244.1.5"}}}, Ports: []api.SlicePort{{Port: &port}}}
	if _, err := seat.Raft.Apply(ctx, consensus.PutEndpointSlice{Slice: slice, ServiceUID: svc.UID, UID: "s1", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}

	epURL := base + "/api/v1/namespaces/default/endpoints"
	sliceURL := base + "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
	code, b := do(t, "GET", epURL+"/web", "", "application/json;as=Table;v=v1;g=meta.k8s.io", "")
	if code != http.StatusOK || !strings.Contains(string(b), `"10.244.1.5:8080"`) {
		t.Errorf("endpoints table: HTTP %d %s", code, b)
	}
	code, b = do(t, "GET", base+"/apis/discovery.k8s.io/v1/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb", "", "", "")
	if code != http.StatusOK || fmt.Sprint(names(t, b)) != "[web-x1]" || !strings.Contains(string(b), `"kind":"EndpointSliceList"`) {
		t.Errorf("slices of web: HTTP %d %s", code, b)
	}

	for _, w := range []struct{ method, url, body string }{
		{"POST", epURL, `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"other"}}`},
		{"PUT", epURL + "/web", `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web"}}`},
		{"PATCH", epURL + "/web", `{"subsets":[]}`},
		{"DELETE", epURL + "/web", ""},
		{"DELETE", sliceURL + "/web-x1", ""},
		{"POST", sliceURL, `{}`},
	} {
		code, st, raw := request(t, w.method, w.url, "application/merge-patch+json", w.body)
		if code != http.StatusMethodNotAllowed || st.Reason != "MethodNotAllowed" || !strings.Contains(st.Message, "endpoints controller") {
			t.Errorf("%s %s: HTTP %d %s, want 405 saying the controller writes them", w.method, w.url, code, raw)
		}
	}
	if code, b := do(t, "GET", epURL+"/web", "", "", ""); code != http.StatusOK || !strings.Contains(string(b), "10.244.1.5") {
		t.Errorf("endpoints after the refused writes: HTTP %d %s", code, b)
	}

	// A watch from the start sees the slice, with the group's apiVersion.
	code, b = do(t, "GET", sliceURL+"?watch=1&timeoutSeconds=1", "", "", "")
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var ev struct {
		Type   string            `json:"type"`
		Object api.EndpointSlice `json:"object"`
	}
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &ev) != nil || code != http.StatusOK || ev.Type != "ADDED" || ev.Object.Name != "web-x1" || ev.Object.APIVersion != api.DiscoveryV1 {
		t.Errorf("watch: HTTP %d %s", code, b)
	}

	if code, b := do(t, "DELETE", base+"/api/v1/namespaces/default/services/web", "", "", ""); code != http.StatusOK {
		t.Fatalf("delete service: HTTP %d %s", code, b)
	}
	for _, u := range []string{epURL + "/web", sliceURL + "/web-x1"} {
		if code, _ := do(t, "GET", u, "", "", ""); code != http.StatusNotFound {
			t.Errorf("GET %s after the Service went: HTTP %d, want 404", u, code)
		}
	}
}

func TestDiscoveryServesServicesAndTheDiscoveryGroupWithTheirVerbs(t *testing.T) {
	base, _ := serviceAPI(t, "")
	verbs := func(path, resource string) string {
		t.Helper()
		code, b := do(t, "GET", base+path, "", "", "")
		var l struct {
			Resources []apiResource `json:"resources"`
		}
		if err := json.Unmarshal(b, &l); code != http.StatusOK || err != nil {
			t.Fatalf("%s: HTTP %d %s", path, code, b)
		}
		for _, r := range l.Resources {
			if r.Name == resource {
				return strings.Join(r.Verbs, ",") + " " + strings.Join(r.ShortNames, ",")
			}
		}
		return "not listed"
	}
	for _, tc := range []struct{ path, resource, want string }{
		{"/api/v1", "services", "create,delete,deletecollection,get,list,patch,update,watch svc"},
		{"/api/v1", "nodes", "get,list,patch,update,watch no"},
		{"/api/v1", "endpoints", "get,list,watch ep"},
		{"/apis/discovery.k8s.io/v1", "endpointslices", "get,list,watch "},
	} {
		if got := verbs(tc.path, tc.resource); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.path, tc.resource, got, tc.want)
		}
	}
	if code, b := do(t, "GET", base+"/apis", "", "", ""); code != http.StatusOK || !strings.Contains(string(b), `"groupVersion":"discovery.k8s.io/v1"`) {
		t.Errorf("/apis: HTTP %d %s", code, b)
	}
}

// client-go's typed clients read protobuf and select by name (kubectl get
// svc web -w); a field Kubernetes does not index for Services is refused.
func TestServicesSpeakProtobufAndTakeKubernetesFieldSelectors(t *testing.T) {
	base, _ := serviceAPI(t, "")
	createService(t, base, webService)
	createService(t, base, strings.Replace(webService, `"name":"web"`, `"name":"api"`, 1))
	code, b := do(t, "GET", base+"/api/v1/namespaces/default/services/web", "", api.ContentTypeProtobuf+", application/json", "")
	if code != http.StatusOK || !strings.HasPrefix(string(b), "k8s\x00") {
		t.Errorf("protobuf get: HTTP %d %q", code, b)
	}
	js, err := api.ProtobufToJSON(b)
	if err != nil || !strings.Contains(string(js), `"clusterIP":"10.96.`) {
		t.Errorf("protobuf answer as JSON: %v %s", err, js)
	}
	code, b = do(t, "GET", base+"/api/v1/services?fieldSelector=metadata.name%3Dapi", "", "", "")
	if code != http.StatusOK || fmt.Sprint(names(t, b)) != "[api]" {
		t.Errorf("metadata.name=api: HTTP %d %s", code, b)
	}
	if code, _, raw := request(t, "GET", base+"/api/v1/services?fieldSelector=spec.type%3DClusterIP", "", ""); code != http.StatusBadRequest {
		t.Errorf("spec.type selector: HTTP %d %s, want 400 naming the field", code, raw)
	}
}
