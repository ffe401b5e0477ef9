package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

const testDaemonSetBody = `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},
 "spec":{"selector":{"matchLabels":{"app":"agent"}},
  "template":{"metadata":{"labels":{"app":"agent"}},"spec":{"nodeSelector":{"disk":"ssd"},"containers":[{"name":"c","image":"busybox:1"}]}}}}`

func TestDaemonSetsAreServedWithTheirTableStatusAndNamedErrors(t *testing.T) {
	base := testAPI(t)
	coll := base + "/apis/apps/v1/namespaces/default/daemonsets"
	if code, b := do(t, "POST", coll, "application/json", "", testDaemonSetBody); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	code, b := do(t, "GET", coll+"/agent", "", "", "")
	var ds api.DaemonSet
	if err := json.Unmarshal(b, &ds); code != http.StatusOK || err != nil {
		t.Fatalf("get: %d %s %v", code, b, err)
	}
	if ds.Spec.UpdateStrategy.Type != api.RollingUpdateDaemonSetStrategyType || ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.IntValue() != 1 || ds.Generation != 1 {
		t.Errorf("stored daemon set not defaulted: %+v", ds.Spec.UpdateStrategy)
	}
	code, b = do(t, "GET", coll, "", "application/json;as=Table;v=v1;g=meta.k8s.io", "")
	if code != http.StatusOK || !strings.Contains(string(b), `"Node Selector"`) || !strings.Contains(string(b), `"disk=ssd"`) {
		t.Errorf("table: %d %s", code, b)
	}
	status := `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"status":{"desiredNumberScheduled":3,"numberReady":2}}`
	if code, b := do(t, "PUT", coll+"/agent/status", "application/json", "", status); code != http.StatusOK || !strings.Contains(string(b), `"desiredNumberScheduled":3`) {
		t.Errorf("put status: %d %s", code, b)
	}
	for body, field := range map[string]string{
		strings.Replace(testDaemonSetBody, `"labels":{"app":"agent"}`, `"labels":{"app":"other"}`, 1):                                                         "spec.template.metadata.labels",
		strings.Replace(testDaemonSetBody, `"containers"`, `"restartPolicy":"Never","containers"`, 1):                                                         "spec.template.spec.restartPolicy",
		strings.Replace(testDaemonSetBody, `"selector"`, `"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"150%"}},"selector"`, 1): "spec.updateStrategy.rollingUpdate.maxUnavailable",
		strings.Replace(testDaemonSetBody, `"selector"`, `"updateStrategy":{"type":"Sometimes"},"selector"`, 1):                                               "spec.updateStrategy.type",
	} {
		body = strings.Replace(body, `"name":"agent"`, `"name":"bad"`, 1)
		code, st, raw := request(t, "POST", coll, "application/json", body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(st.Message, field) {
			t.Errorf("want 422 naming %s, got %d %s", field, code, raw)
		}
	}
	if code, _ := do(t, "GET", coll+"/bad", "", "", ""); code != http.StatusNotFound {
		t.Errorf("a refused daemon set was stored: %d", code)
	}
	if code, b := do(t, "DELETE", coll+"/agent", "", "", ""); code != http.StatusOK {
		t.Errorf("delete: %d %s", code, b)
	}
}

// ControllerRevisions are the daemon set controller's: read and watch
// only.
func TestControllerRevisionsAreReadOnly(t *testing.T) {
	base := testAPI(t)
	coll := base + "/apis/apps/v1/namespaces/default/controllerrevisions"
	if code, b := do(t, "GET", coll, "", "", ""); code != http.StatusOK || !strings.Contains(string(b), `"kind":"ControllerRevisionList"`) {
		t.Errorf("list: %d %s", code, b)
	}
	body := `{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"r"},"revision":1,"data":{}}`
	if code, _, b := request(t, "POST", coll, "application/json", body); code != http.StatusMethodNotAllowed {
		t.Errorf("create: %d %s, want 405", code, b)
	}
}
