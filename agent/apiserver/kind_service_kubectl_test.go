package apiserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// The machine's kubectl against this package's handler on a one-seat
// state, on loopback: expose, get, describe, create service, apply and
// the refusals read as kubectl users know them. The endpoints are written
// here as the leader's controller writes them; e2e/services_test.go runs
// the same through a whole fleet.
func TestKubectlServesServicesAgainstTheHandler(t *testing.T) {
	base, seat := serviceAPI(t, "")
	run, dir := kubectlAgainst(t, base)
	expect := func(wantErr bool, want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if (err != nil) != wantErr || !strings.Contains(out, want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	file := func(content string) string {
		f := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	words := func(args ...string) string {
		out, _ := run(args...)
		return strings.Join(strings.Fields(out), " ")
	}

	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"containers":[{"name":"main","image":"busybox"}]}}`
	if code, b := do(t, "POST", base+"/api/v1/namespaces/default/pods", "application/json", "", pod); code != 201 {
		t.Fatalf("pod: %d %s", code, b)
	}
	expect(false, "service/web exposed", "expose", "pod", "web", "--port", "80", "--target-port", "8080")
	svc, err := seat.FSM.Service("default", "web")
	if err != nil {
		t.Fatal(err)
	}
	ip := svc.Spec.ClusterIP
	if got := words("get", "svc", "-o", "wide"); !strings.HasPrefix(got, "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR web ClusterIP "+ip+" <none> 80/TCP ") ||
		!strings.HasSuffix(got, " app=web") {
		t.Errorf("get svc -o wide: %s", got)
	}

	port := int32(8080)
	eps := api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "10.244.1.5"}}, Ports: []api.EndpointPort{{Port: 8080, Protocol: api.ProtocolTCP}}}}}
	slice := api.EndpointSlice{ObjectMeta: api.ObjectMeta{Name: "web-x1", Namespace: "default", Labels: map[string]string{api.LabelServiceName: "web"}},
		AddressType: api.AddressTypeIPv4, Endpoints: []api.SliceEndpoint{{Addresses: []string{"10.244.1.5"}}}, Ports: []api.SlicePort{{Port: &port}}}
	for _, cmd := range []consensus.Command{
		consensus.PutEndpoints{Endpoints: eps, ServiceUID: svc.UID, UID: "e1", Time: time.Now()},
		consensus.PutEndpointSlice{Slice: slice, ServiceUID: svc.UID, UID: "s1", Time: time.Now()},
	} {
		if _, err := seat.Raft.Apply(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
	}
	if got := words("get", "endpoints"); !strings.HasPrefix(got, "NAME ENDPOINTS AGE web 10.244.1.5:8080 ") {
		t.Errorf("get endpoints: %s", got)
	}
	if got := words("get", "endpointslices", "-l", "kubernetes.io/service-name=web"); !strings.HasPrefix(got, "NAME ADDRESSTYPE PORTS ENDPOINTS AGE web-x1 IPv4 8080 10.244.1.5 ") {
		t.Errorf("get endpointslices: %s", got)
	}
	desc, _ := run("describe", "svc", "web")
	for _, want := range []string{"Selector: app=web", "IP: " + ip, "TargetPort: 8080/TCP", "Endpoints: 10.244.1.5:8080"} {
		if !strings.Contains(strings.Join(strings.Fields(desc), " "), want) {
			t.Errorf("describe svc lacks %q:\n%s", want, desc)
		}
	}
	expect(true, `Error from server (MethodNotAllowed): endpoints "web" may not be deleted`, "delete", "endpoints", "web")
	expect(false, "service/other created", "create", "service", "clusterip", "other", "--tcp=81:8080")

	manifest := "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 8000\n    targetPort: 8080\n"
	expect(false, "service/api created", "apply", "-f", file(manifest))
	expect(false, "service/api unchanged", "apply", "-f", file(manifest))
	expect(false, "service/api configured", "apply", "-f", file(strings.Replace(manifest, "8000", "8001", 1)))
	expect(false, "8001/TCP", "get", "svc", "api")

	bad := "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  selector: {app: web}\n"
	expect(true, `The Service "bad" is invalid: spec.ports[0].port: Invalid value: "70000"`, "create", "-f", file(bad+"  ports:\n  - port: 70000\n"))
	expect(true, `The Service "bad" is invalid: spec.type: Invalid value: "LoadBalancer"`, "create", "-f", file(bad+"  type: LoadBalancer\n  ports:\n  - port: 80\n"))
	expect(true, `The Service "bad" is invalid: spec.clusterIP: Invalid value: "10.200.0.5": not in the service range 10.96.0.0/16`,
		"create", "-f", file(bad+"  clusterIP: 10.200.0.5\n  ports:\n  - port: 80\n"))
	expect(true, `services "bad" not found`, "get", "svc", "bad")

	expect(false, `service "web" deleted`, "delete", "svc", "web")
	expect(true, `endpoints "web" not found`, "get", "endpoints", "web")
	expect(false, "No resources found", "get", "endpointslices")
}
