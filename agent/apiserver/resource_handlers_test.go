package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shoal-dev/shoal/consensus"
)

// testAPI serves the whole handler on a one-seat consensus test cluster.
func testAPI(t *testing.T) string {
	t.Helper()
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	srv := httptest.NewServer(testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func names(t *testing.T, b []byte) []string {
	t.Helper()
	var l struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	out := []string{}
	for _, it := range l.Items {
		out = append(out, it.Metadata.Name)
	}
	return out
}

func TestSecretListsTakeTheFieldSelectorsOfEveryKindAndTheirOwn(t *testing.T) {
	base := testAPI(t)
	coll := base + "/api/v1/namespaces/default/secrets"
	for _, body := range []string{
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"type":"Opaque","data":{"k":"dg=="}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"},"type":"kubernetes.io/basic-auth","stringData":{"username":"u","password":"p"}}`,
	} {
		if code, b := do(t, "POST", coll, "application/json", "", body); code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, b)
		}
	}
	for q, want := range map[string]string{
		"fieldSelector=metadata.name%3Db":               "[b]",
		"fieldSelector=type%3DOpaque":                   "[a]",
		"fieldSelector=metadata.namespace%21%3Ddefault": "[]",
	} {
		code, b := do(t, "GET", base+"/api/v1/secrets?"+q, "", "", "")
		if got := names(t, b); code != http.StatusOK || fmt.Sprint(got) != want {
			t.Errorf("?%s: HTTP %d %v, want %s", q, code, got, want)
		}
	}
	code, st, raw := request(t, "GET", coll+"?fieldSelector=data.k%3Dv", "", "")
	if code != http.StatusBadRequest || st.Reason != "BadRequest" {
		t.Errorf("unknown field selector: HTTP %d %s, want 400 naming the field", code, raw)
	}
}

func TestDeletingAGenericKindAnswersTheObjectAndABadPolicyChangesNothing(t *testing.T) {
	base := testAPI(t)
	coll := base + "/api/v1/namespaces/default/replicationcontrollers"
	rc := `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"app":"web"},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"busybox"}]}}}}`
	if code, b := do(t, "POST", coll, "application/json", "", rc); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, st, raw := request(t, "DELETE", coll+"/web?propagationPolicy=Sometimes", "", ""); code != http.StatusUnprocessableEntity || st.Reason != "Invalid" {
		t.Fatalf("bad policy: HTTP %d %s, want 422", code, raw)
	}
	if code, b := do(t, "GET", coll+"/web", "", "", ""); code != http.StatusOK {
		t.Fatalf("after the refused delete: %d %s, want the RC still there", code, b)
	}
	code, b := do(t, "DELETE", coll+"/web", "", "", "")
	if code != http.StatusOK || names(t, []byte(`{"items":[`+string(b)+`]}`))[0] != "web" {
		t.Fatalf("delete: %d %s, want 200 and the RC", code, b)
	}
	if code, _ := do(t, "DELETE", coll+"/web", "", "", ""); code != http.StatusNotFound {
		t.Fatalf("second delete: %d, want 404", code)
	}
}
