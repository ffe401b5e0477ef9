package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestEvictionDeletesThePodWithItsPreconditions(t *testing.T) {
	base := testAPI(t)
	coll := base + "/api/v1/namespaces/default/pods"
	for _, name := range []string{"a", "b"} {
		pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}`
		if code, b := do(t, "POST", coll, "application/json", "", pod); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
	}
	ev := func(name, extra string) string {
		return `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"` + name + `","namespace":"default"}` + extra + `}`
	}
	// Refused, and nothing deleted: a stale uid, an unknown field, a wrong name.
	for _, c := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"a", ev("a", `,"deleteOptions":{"preconditions":{"uid":"not-it"}}`), http.StatusConflict, "precondition failed: uid not-it"},
		{"a", ev("a", `,"spec":{}`), http.StatusBadRequest, `unknown field "spec"`},
		{"a", ev("b", ""), http.StatusUnprocessableEntity, "metadata.name"},
		{"a", strings.Replace(ev("a", ""), "policy/v1", "v1", 1), http.StatusUnprocessableEntity, "apiVersion"},
		{"zz", ev("zz", ""), http.StatusNotFound, `"zz" not found`},
	} {
		code, st, raw := request(t, "POST", coll+"/"+c.name+"/eviction", "application/json", c.body)
		if code != c.code || !strings.Contains(st.Message, c.want) {
			t.Errorf("evict %s: HTTP %d %s, want %d naming %q", c.body, code, raw, c.code, c.want)
		}
	}
	if code, _ := do(t, "GET", coll+"/a", "", "", ""); code != http.StatusOK {
		t.Fatalf("a refused eviction deleted the pod: GET %d", code)
	}
	code, b := do(t, "POST", coll+"/a/eviction", "application/json", "", ev("a", `,"deleteOptions":{}`))
	if code != http.StatusCreated {
		t.Fatalf("evict a: %d %s", code, b)
	}
	if code, _ := do(t, "GET", coll+"/a", "", "", ""); code != http.StatusNotFound {
		t.Fatalf("after eviction GET a = %d, want 404", code)
	}
	if code, _ := do(t, "GET", coll+"/b", "", "", ""); code != http.StatusOK {
		t.Fatalf("evicting a touched b: GET %d", code)
	}
}

func TestDiscoveryListsPodsEvictionAsPolicyV1(t *testing.T) {
	base := testAPI(t)
	_, b := do(t, "GET", base+"/api/v1", "", "application/json", "")
	var list struct {
		Resources []struct {
			Name    string   `json:"name"`
			Kind    string   `json:"kind"`
			Group   string   `json:"group"`
			Version string   `json:"version"`
			Verbs   []string `json:"verbs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range list.Resources {
		switch r.Name {
		case "pods/eviction":
			found = true
			// kubectl drain's CheckEvictionSupport looks for exactly this.
			if r.Kind != "Eviction" || r.Group != "policy" || r.Version != "v1" {
				t.Errorf("pods/eviction = %+v, want policy/v1 Eviction", r)
			}
		case "nodes":
			if strings.Join(r.Verbs, ",") != "get,list,patch,update,watch" {
				t.Errorf("nodes verbs = %v", r.Verbs)
			}
		}
	}
	if !found {
		t.Errorf("discovery lacks pods/eviction: %s", b)
	}
}
