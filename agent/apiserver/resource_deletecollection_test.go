package apiserver

import (
	"fmt"
	"net/http"
	"testing"
)

// DELETE on a collection (client-go's DeleteCollection) deletes what the
// selectors take in that namespace and answers the List of it; a bad
// selector deletes nothing.
func TestDeleteCollectionTakesTheSelectors(t *testing.T) {
	base, _ := serviceAPI(t, "")
	if code, b := do(t, "POST", base+"/api/v1/namespaces", "application/yaml", "", "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n"); code != http.StatusCreated {
		t.Fatalf("create namespace: %d %s", code, b)
	}
	for _, c := range []struct{ ns, name, labels string }{
		{"default", "a", "{tier: web}"}, {"default", "b", "{tier: web}"}, {"default", "c", "{tier: db}"}, {"other", "d", "{tier: web}"},
	} {
		body := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, labels: %s}\ndata: {k: v}\n", c.name, c.labels)
		if code, b := do(t, "POST", base+"/api/v1/namespaces/"+c.ns+"/configmaps", "application/yaml", "", body); code != http.StatusCreated {
			t.Fatalf("create %s/%s: %d %s", c.ns, c.name, code, b)
		}
	}
	coll := base + "/api/v1/namespaces/default/configmaps"
	if code, b := do(t, "DELETE", coll+"?labelSelector=tier%3D%3D%3D", "", "", ""); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad selector: %d %s, want 422", code, b)
	}
	code, b := do(t, "DELETE", coll+"?labelSelector=tier%3Dweb", "application/json", "", `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}`)
	if got := names(t, b); code != http.StatusOK || fmt.Sprint(got) != "[a b]" {
		t.Fatalf("deletecollection: %d %v (%s), want 200 [a b]", code, got, b)
	}
	for ns, want := range map[string]string{"default": "[c]", "other": "[d]"} {
		_, b := do(t, "GET", base+"/api/v1/namespaces/"+ns+"/configmaps", "", "", "")
		if got := names(t, b); fmt.Sprint(got) != want {
			t.Errorf("%s after deletecollection: %v, want %s", ns, got, want)
		}
	}
}
