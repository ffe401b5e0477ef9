package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const nsBody = `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"team","creationTimestamp":null},"spec":{},"status":{}}`

func secretIn(name string) string {
	return `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"` + name + `"},"stringData":{"k":"v"}}`
}

// Namespaces are cluster-scoped objects (what kubectl create namespace
// sends), new objects go only into an Active one (NamespaceLifecycle), and
// a delete marks the namespace Terminating.
func TestNamespacesAreObjectsAndGuardWhatIsCreatedInThem(t *testing.T) {
	base := testAPI(t)
	code, st, raw := request(t, "POST", base+"/api/v1/namespaces/team/secrets", "application/json", secretIn("s"))
	if code != http.StatusNotFound || st.Reason != "NotFound" || st.Message != `namespaces "team" not found` {
		t.Fatalf("create into a missing namespace: HTTP %d %s, want 404 namespaces \"team\" not found", code, raw)
	}
	code, _, raw = request(t, "PUT", base+"/api/v1/namespaces/team/secrets/s", "application/json", secretIn("s"))
	if code != http.StatusNotFound {
		t.Fatalf("PUT-create into a missing namespace: HTTP %d %s, want 404", code, raw)
	}
	if code, b := do(t, "POST", base+"/api/v1/namespaces/default/secrets", "application/json", "", secretIn("d")); code != http.StatusCreated {
		t.Fatalf("create into default before the leader stored it: %d %s", code, b)
	}
	if code, b := do(t, "POST", base+"/api/v1/namespaces", "application/json", "", nsBody); code != http.StatusCreated {
		t.Fatalf("create namespace: %d %s", code, b)
	}
	code, b := do(t, "GET", base+"/api/v1/namespaces/team", "", "", "")
	var ns struct {
		Metadata struct{ Namespace, UID string }
		Spec     struct{ Finalizers []string }
		Status   struct{ Phase string }
	}
	if err := json.Unmarshal(b, &ns); code != http.StatusOK || err != nil || ns.Status.Phase != "Active" || ns.Metadata.Namespace != "" ||
		fmt.Sprint(ns.Spec.Finalizers) != "[kubernetes]" {
		t.Fatalf("get namespace: %d %s", code, b)
	}
	if code, b := do(t, "POST", base+"/api/v1/namespaces/team/secrets", "application/json", "", secretIn("s")); code != http.StatusCreated {
		t.Fatalf("create into team: %d %s", code, b)
	}
	if code, b := do(t, "GET", base+"/api/v1/namespaces", "application/json;as=Table;v=v1;g=meta.k8s.io", "", ""); code != http.StatusOK ||
		!strings.Contains(string(b), `"Active"`) {
		t.Fatalf("namespace table: %d %s", code, b)
	}
	if code, b := do(t, "DELETE", base+"/api/v1/namespaces/team", "", "", ""); code != http.StatusOK {
		t.Fatalf("delete namespace: %d %s", code, b)
	}
	if code, b := do(t, "GET", base+"/api/v1/namespaces/team", "", "", ""); code != http.StatusOK || !strings.Contains(string(b), `"phase":"Terminating"`) {
		t.Fatalf("after delete (no controller here): %d %s, want Terminating", code, b)
	}
	code, st, raw = request(t, "POST", base+"/api/v1/namespaces/team/secrets", "application/json", secretIn("t"))
	if code != http.StatusForbidden || st.Reason != "Forbidden" ||
		st.Message != `secrets "t" is forbidden: unable to create new content in namespace team because it is being terminated` {
		t.Fatalf("create into a Terminating namespace: HTTP %d %s, want 403", code, raw)
	}
	if code, b := do(t, "PUT", base+"/api/v1/namespaces/team/secrets/s", "application/json", "", secretIn("s")); code != http.StatusOK {
		t.Fatalf("an update in a Terminating namespace passes, as in Kubernetes: %d %s", code, b)
	}
	if code, b := do(t, "POST", base+"/api/v1/namespaces", "application/json", "", strings.Replace(nsBody, "team", "default", 1)); code != http.StatusCreated {
		t.Fatalf("create default: %d %s", code, b)
	}
	code, st, raw = request(t, "DELETE", base+"/api/v1/namespaces/default", "", "")
	if code != http.StatusForbidden || st.Message != `namespaces "default" is forbidden: this namespace may not be deleted` {
		t.Fatalf("delete default: HTTP %d %s, want 403", code, raw)
	}
}

// kubectl delete --cascade=orphan sends propagationPolicy Orphan in the
// DeleteOptions body: the dependents stay without the owner reference; by
// default they go in the same entry, for every kind.
func TestDeletePropagationIsTheSameForEveryKind(t *testing.T) {
	base := testAPI(t)
	secrets := base + "/api/v1/namespaces/default/secrets"
	if code, b := do(t, "POST", secrets, "application/json", "", secretIn("owner")); code != http.StatusCreated {
		t.Fatalf("create owner: %d %s", code, b)
	}
	var owner struct{ Metadata struct{ UID string } }
	_, b := do(t, "GET", secrets+"/owner", "", "", "")
	_ = json.Unmarshal(b, &owner)
	dependent := func(name string) string {
		return `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"` + name + `","ownerReferences":[{"apiVersion":"v1","kind":"Secret","name":"owner","uid":"` + owner.Metadata.UID + `"}]}}`
	}
	for _, name := range []string{"a", "b"} {
		if code, b := do(t, "POST", secrets, "application/json", "", dependent(name)); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
	}
	if code, b := do(t, "DELETE", secrets+"/owner", "application/json", "", `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Orphan"}`); code != http.StatusOK {
		t.Fatalf("orphaning delete: %d %s", code, b)
	}
	_, b = do(t, "GET", secrets, "", "", "")
	if got := names(t, b); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("after the orphaning delete: %v, want [a b]", got)
	}
	var orphan struct {
		Metadata struct{ OwnerReferences []any }
	}
	if _, b := do(t, "GET", secrets+"/a", "", "", ""); json.Unmarshal(b, &orphan) != nil || len(orphan.Metadata.OwnerReferences) != 0 {
		t.Fatalf("orphan keeps its owner reference: %s", b)
	}
	// c is b's; a Foreground delete of b takes c.
	var bObj struct{ Metadata struct{ UID string } }
	_, raw := do(t, "GET", secrets+"/b", "", "", "")
	_ = json.Unmarshal(raw, &bObj)
	owned := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"c","ownerReferences":[{"apiVersion":"v1","kind":"Secret","name":"b","uid":"` + bObj.Metadata.UID + `"}]}}`
	if code, b := do(t, "POST", secrets, "application/json", "", owned); code != http.StatusCreated {
		t.Fatalf("create c owned by b: %d %s", code, b)
	}
	if code, b := do(t, "DELETE", secrets+"/b?propagationPolicy=Foreground", "", "", ""); code != http.StatusOK {
		t.Fatalf("foreground delete: %d %s", code, b)
	}
	_, b = do(t, "GET", secrets, "", "", "")
	if got := names(t, b); fmt.Sprint(got) != "[a]" {
		t.Fatalf("after the foreground delete: %v, want [a]", got)
	}
}

// The machine's kubectl: create namespace, get ns, server-side apply of
// a Namespace and of an object into a missing namespace (server-side
// apply creates through the kind's PUT, which passes the same admission).
func TestKubectlNamespaces(t *testing.T) {
	base, _ := serviceAPI(t, "")
	run, dir := kubectlAgainst(t, base)
	if out, err := run("create", "namespace", "team"); err != nil || !strings.Contains(out, "namespace/team created") {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	if out, err := run("get", "ns", "team"); err != nil || !kubeTableRow(out, "team", "Active") {
		t.Fatalf("get ns: %v\n%s", err, out)
	}
	f := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(f, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: ssa, labels: {a: b}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: nowhere}\nstringData: {k: v}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run("apply", "--server-side", "-f", f)
	if err == nil || !strings.Contains(out, "namespace/ssa serverside-applied") || !strings.Contains(out, `namespaces "nowhere" not found`) {
		t.Fatalf("server-side apply: %v\n%s", err, out)
	}
	if out, err := run("get", "ns", "ssa", "-o", "jsonpath={.metadata.labels.a} {.status.phase}"); err != nil || out != "b Active" {
		t.Fatalf("applied namespace: %v %q", err, out)
	}
}

// kubeTableRow tells whether a kubectl table has a row starting with cells.
func kubeTableRow(out string, cells ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= len(cells) && fmt.Sprint(f[:len(cells)]) == fmt.Sprint(cells) {
			return true
		}
	}
	return false
}
