package apiserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubectl apply of a file that mixes a served kind with kinds shoal does
// not serve applies the first and names the others as Kubernetes names a
// kind it lacks: kubectl's validation finds no schema for them in OpenAPI
// v3, asks v2 in protobuf, and leaves them to the server's mapping.
func TestKubectlApplyNamesTheKindsNotServedAndAppliesTheRest(t *testing.T) {
	base, seat := serviceAPI(t, "")
	run, dir := kubectlAgainst(t, base)
	f := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(f, []byte(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: x}
spec: {}
---
apiVersion: v1
kind: Secret
metadata: {name: s1}
stringData: {a: b}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run("apply", "-f", f)
	if err == nil || !strings.Contains(out, "secret/s1 created") ||
		!strings.Contains(out, `no matches for kind "Ingress" in version "networking.k8s.io/v1"`) ||
		!strings.Contains(out, `no matches for kind "Widget" in version "example.com/v1"`) {
		t.Errorf("apply: %v\n%s", err, out)
	}
	if _, err := seat.FSM.Secret("default", "s1"); err != nil {
		t.Errorf("the served kind was not applied: %v", err)
	}
}

// kubectl apply --dry-run=server and kubectl diff run the write on the
// leader's state without storing it.
func TestKubectlServerDryRunAndDiffStoreNothing(t *testing.T) {
	base, seat := serviceAPI(t, "")
	run, dir := kubectlAgainst(t, base)
	f := filepath.Join(dir, "s.yaml")
	write := func(content string) {
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apiVersion: v1\nkind: Secret\nmetadata: {name: s2}\nstringData: {a: b}\n")
	if out, err := run("apply", "--dry-run=server", "-f", f); err != nil || !strings.Contains(out, "secret/s2 created (server dry run)") {
		t.Errorf("apply --dry-run=server: %v\n%s", err, out)
	}
	if _, err := seat.FSM.Secret("default", "s2"); err == nil {
		t.Fatal("a server dry run stored the Secret")
	}
	// diff exits 1 when there is a difference.
	if out, err := run("diff", "-f", f); err == nil || !strings.Contains(out, "+kind: Secret") {
		t.Errorf("diff of a new object: %v\n%s", err, out)
	}
	if out, err := run("apply", "-f", f); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	before, err := seat.FSM.Secret("default", "s2")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run("diff", "-f", f); err != nil || out != "" {
		t.Errorf("diff of an unchanged object: %v\n%s", err, out)
	}
	write("apiVersion: v1\nkind: Secret\nmetadata: {name: s2, labels: {tier: web}}\nstringData: {a: b}\n")
	if out, err := run("diff", "-f", f); err == nil || !strings.Contains(out, "+    tier: web") {
		t.Errorf("diff of a changed object: %v\n%s", err, out)
	}
	// The server's validation answers a dry run as it answers a write.
	write("apiVersion: v1\nkind: Secret\nmetadata: {name: s2, labels: {'bad key!': x}}\nstringData: {a: b}\n")
	if out, err := run("apply", "--dry-run=server", "-f", f); err == nil || !strings.Contains(out, "metadata.labels") {
		t.Errorf("invalid dry run: %v\n%s", err, out)
	}
	after, err := seat.FSM.Secret("default", "s2")
	if err != nil || after.ResourceVersion != before.ResourceVersion || after.Labels["tier"] != "" {
		t.Errorf("dry runs changed the stored Secret: %+v %v", after, err)
	}
}
