package apiserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubectl apply --server-side through the machine's kubectl: create,
// re-apply (a field left out is removed), a second manager's change to an
// owned field is a conflict naming the owner until forced, for a
// namespaced kind served generically, for pods (their own PATCH route)
// and for a workload.
func TestKubectlServerSideApply(t *testing.T) {
	base, seat := serviceAPI(t, "")
	run, dir := kubectlAgainst(t, base)
	f := filepath.Join(dir, "m.yaml")
	apply := func(manifest string, args ...string) (string, error) {
		t.Helper()
		if err := os.WriteFile(f, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		return run(append([]string{"apply", "--server-side", "-f", f}, args...)...)
	}
	get := func(args ...string) string {
		t.Helper()
		out, err := run(append([]string{"get"}, args...)...)
		if err != nil {
			t.Fatalf("get %v: %v\n%s", args, err, out)
		}
		return out
	}

	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {a: b, c: d}}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n"
	if out, err := apply(svc); err != nil || !strings.Contains(out, "service/web serverside-applied") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if out := get("svc", "web", "-o", "yaml", "--show-managed-fields"); !strings.Contains(out, "manager: kubectl") || !strings.Contains(out, "operation: Apply") ||
		!strings.Contains(out, "f:targetPort: {}") {
		t.Errorf("managedFields after the first apply:\n%s", out)
	}
	// Label c and port 80 leave the manifest: the manager's apply removes them.
	svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {a: b}}\nspec: {selector: {app: web}, ports: [{port: 81, targetPort: 8080}]}\n"
	if out, err := apply(svc); err != nil {
		t.Fatalf("re-apply: %v\n%s", err, out)
	}
	if out := get("svc", "web", "-o", "jsonpath={.metadata.labels} {.spec.ports}"); out != `{"a":"b"} [{"port":81,"protocol":"TCP","targetPort":8080}]` {
		t.Errorf("after re-apply: %s", out)
	}
	other := "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 81, targetPort: 9090}]}\n"
	out, err := apply(other, "--field-manager=other")
	if err == nil || !strings.Contains(out, `Apply failed with 1 conflict: conflict with "kubectl": .spec.ports[port=81,protocol="TCP"].targetPort`) {
		t.Errorf("another manager's change: %v\n%s", err, out)
	}
	if s, err := seat.FSM.Service("default", "web"); err != nil || s.Spec.Ports[0].TargetPort.IntValue() != 8080 {
		t.Errorf("a conflicting apply changed the Service: %v %+v", err, s)
	}
	if out, err := apply(other, "--field-manager=other", "--force-conflicts"); err != nil {
		t.Fatalf("forced: %v\n%s", err, out)
	}
	if out := get("svc", "web", "-o", "jsonpath={.spec.ports[0].targetPort}"); out != "9090" {
		t.Errorf("after a forced apply: %s", out)
	}

	// A write other than an apply is recorded as its manager's Update: an
	// apply that changes what it set conflicts with it.
	if out, err := run("label", "svc", "web", "a=x", "--overwrite"); err != nil {
		t.Fatalf("label: %v\n%s", err, out)
	}
	out, err = apply(svc)
	if err == nil || !strings.Contains(out, `conflicts with "kubectl-label" using v1:`+"\n- .metadata.labels.a") {
		t.Errorf("apply over a label set by kubectl label: %v\n%s", err, out)
	}

	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p1, labels: {x: \"1\"}}\nspec: {containers: [{name: c, image: busybox}]}\n"
	if out, err := apply(pod); err != nil || !strings.Contains(out, "pod/p1 serverside-applied") {
		t.Fatalf("pod: %v\n%s", err, out)
	}
	if out, err := apply(strings.Replace(pod, `"1"`, `"2"`, 1)); err != nil {
		t.Fatalf("pod re-apply: %v\n%s", err, out)
	}
	if out := get("pod", "p1", "-o", "jsonpath={.metadata.labels}"); out != `{"x":"2"}` {
		t.Errorf("pod labels: %s", out)
	}

	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d1}\nspec: {replicas: 2, selector: {matchLabels: {app: d}}, template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: busybox}]}}}\n"
	if out, err := apply(deploy); err != nil {
		t.Fatalf("deployment: %v\n%s", err, out)
	}
	if out, err := apply(strings.Replace(deploy, "replicas: 2", "replicas: 4", 1), "--dry-run=server"); err != nil || !strings.Contains(out, "(server dry run)") {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	if out := get("deploy", "d1", "-o", "jsonpath={.spec.replicas}"); out != "2" {
		t.Errorf("replicas after a dry run: %s", out)
	}

	// What the field manager refuses is a named error.
	if out, err := apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {bogus: 1}\n", "--field-manager=x"); err == nil || !strings.Contains(out, "bogus") {
		t.Errorf("unknown field: %v\n%s", err, out)
	}
}
