package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// nodeAPI is testAPI with one registered node, n1, and the agent's own
// report to send again.
func nodeAPI(t *testing.T) (string, func()) {
	t.Helper()
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	reg := consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n1",
		Labels: map[string]string{"kubernetes.io/hostname": "n1"}}}, Time: time.Now()}
	report := func() {
		if _, err := s.Raft.Apply(context.Background(), reg); err != nil {
			t.Fatalf("RegisterNode: %v", err)
		}
	}
	report()
	srv := httptest.NewServer(testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, report
}

func getNode(t *testing.T, url string) *api.Node {
	t.Helper()
	code, b := do(t, "GET", url, "", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET node: %d %s", code, b)
	}
	n := &api.Node{}
	if err := json.Unmarshal(b, n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNodePatchesAsKubectlSendsThemAndKeepThemAcrossReports(t *testing.T) {
	base, report := nodeAPI(t)
	url := base + "/api/v1/nodes/n1"
	// kubectl label / annotate (merge patch), cordon and taint (strategic).
	for _, p := range []struct{ ct, body string }{
		{"application/merge-patch+json", `{"metadata":{"labels":{"disk":"ssd"}}}`},
		{"application/merge-patch+json", `{"metadata":{"annotations":{"owner":"team-a"}}}`},
		{"application/strategic-merge-patch+json", `{"spec":{"unschedulable":true}}`},
		{"application/strategic-merge-patch+json", `{"spec":{"taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]}}`},
	} {
		if code, b := do(t, "PATCH", url, p.ct, "", p.body); code != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", p.body, code, b)
		}
	}
	report()
	n := getNode(t, url)
	if n.Labels["disk"] != "ssd" || n.Annotations["owner"] != "team-a" || !n.Spec.Unschedulable ||
		len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" {
		t.Fatalf("after the agent's report: labels %v annotations %v spec %+v", n.Labels, n.Annotations, n.Spec)
	}
	if n.Annotations[api.AnnotationRoles] == "" {
		t.Fatalf("the read-time annotations are missing: %v", n.Annotations)
	}
	// A server-side dry run changes nothing; a label is recorded as
	// its field manager's Update.
	if code, b := do(t, "PATCH", url+"?dryRun=All", "application/merge-patch+json", "", `{"metadata":{"labels":{"dry":"run"}}}`); code != http.StatusOK || !strings.Contains(string(b), `"dry":"run"`) {
		t.Fatalf("dry-run PATCH: %d %s", code, b)
	}
	if code, b := do(t, "PATCH", url+"?fieldManager=kubectl-label", "application/merge-patch+json", "", `{"metadata":{"labels":{"tier":"edge"}}}`); code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", code, b)
	}
	n = getNode(t, url)
	if _, ok := n.Labels["dry"]; ok {
		t.Fatalf("a dry run stored its label: %v", n.Labels)
	}
	managers := []string{}
	for _, m := range n.ManagedFields {
		managers = append(managers, m.Manager)
	}
	if !strings.Contains(strings.Join(managers, ","), "kubectl-label") {
		t.Fatalf("managedFields managers = %v, want kubectl-label among them", managers)
	}
	// uncordon, untaint (kubectl taint k:NoSchedule- sends the list without it).
	if code, b := do(t, "PATCH", url, "application/strategic-merge-patch+json", "", `{"spec":{"unschedulable":null,"taints":null}}`); code != http.StatusOK {
		t.Fatalf("uncordon: %d %s", code, b)
	}
	n = getNode(t, url)
	if n.Spec.Unschedulable || len(n.Spec.Taints) != 0 || n.Labels["disk"] != "ssd" {
		t.Fatalf("after uncordon: %+v %v", n.Spec, n.Labels)
	}
}

func TestBadNodeWritesAreNamedAndChangeNothing(t *testing.T) {
	base, _ := nodeAPI(t)
	url := base + "/api/v1/nodes/n1"
	before := getNode(t, url)
	for _, c := range []struct{ ct, body, want string }{
		{"application/strategic-merge-patch+json", `{"spec":{"taints":[{"key":"k","effect":"Never"}]}}`, `spec.taints[0].effect`},
		{"application/merge-patch+json", `{"spec":{"podCIDR":"10.99.0.0/24"}}`, "spec.podCIDR"},
		{"application/merge-patch+json", `{"spec":{"providerID":"aws://x"}}`, "spec.providerID: not supported by shoal"},
		{"application/merge-patch+json", `{"metadata":{"resourceVersion":"1"},"spec":{"unschedulable":true}}`, "the object has been modified"},
	} {
		code, st, raw := request(t, "PATCH", url, c.ct, c.body)
		if code < 400 || !strings.Contains(st.Message, c.want) {
			t.Errorf("PATCH %s: HTTP %d %s, want an error naming %q", c.body, code, raw, c.want)
		}
	}
	after := getNode(t, url)
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("a refused write changed the node: rv %s -> %s", before.ResourceVersion, after.ResourceVersion)
	}
	if code, _, raw := request(t, "PUT", base+"/api/v1/nodes/n9", "application/json", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n9"}}`); code != http.StatusNotFound {
		t.Errorf("PUT of an unknown node: HTTP %d %s, want 404", code, raw)
	}
}

// Nodes join with their agent: the API replaces and patches them but
// neither creates nor deletes one, and says so; a node that cannot be
// found is still 404 on every verb it serves.
func TestNodesAreNeitherCreatedNorDeletedThroughTheAPI(t *testing.T) {
	base, _ := nodeAPI(t)
	body := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n9"}}`
	for _, c := range []struct{ method, url, body string }{
		{"POST", base + "/api/v1/nodes", body},
		{"DELETE", base + "/api/v1/nodes/n1", ""},
		{"DELETE", base + "/api/v1/nodes", ""},
	} {
		code, b := do(t, c.method, c.url, "application/json", "", c.body)
		if code != http.StatusMethodNotAllowed || !strings.Contains(string(b), "joins the fleet when its agent starts") {
			t.Errorf("%s %s: %d %s, want 405 saying how nodes join", c.method, c.url, code, b)
		}
	}
	if n := getNode(t, base+"/api/v1/nodes/n1"); n.ObjectMeta.Annotations[api.AnnotationRoles] == "" {
		t.Errorf("n1 read without its roles: %v", n.ObjectMeta.Annotations)
	}
	if code, b := do(t, "PUT", base+"/api/v1/nodes/n9", "application/json", "", body); code != http.StatusNotFound {
		t.Errorf("PUT of an unknown node: %d %s, want 404", code, b)
	}
}
