package agent

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

const rcYAML = `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: shoal.local/busybox:1
        resources: {requests: {memory: 10Mi}}
`

func webPods(t *testing.T, base string) []api.Pod {
	t.Helper()
	var l api.PodList
	if err := getJSON(base+"/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// The RC's own pods, made by the leader's controller through the API:
// named <rc>-<5 chars>, owned by the RC, scaled through /scale, and left in
// place (without owner) by an orphaning delete.
func TestReplicationControllerThroughTheAPI(t *testing.T) {
	base := startAgent(t, "rc1", "4Gi")
	rcs := base + "/api/v1/namespaces/default/replicationcontrollers"

	code, st := send(t, http.MethodPost, rcs, strings.Replace(rcYAML, "replicas: 3", "replicas: 3\n  selector: {app: db}", 1))
	if code != http.StatusUnprocessableEntity || st.Details == nil || len(st.Details.Causes) == 0 ||
		st.Details.Causes[0].Field != "spec.template.metadata.labels" {
		t.Fatalf("selector that does not match the template: HTTP %d %+v", code, st)
	}
	code, st = send(t, http.MethodPost, rcs, strings.Replace(rcYAML, "replicas: 3", "replicas: 3\n  paused: true", 1))
	if code != http.StatusUnprocessableEntity || !strings.Contains(st.Message, "spec.paused") {
		t.Fatalf("unknown field: HTTP %d %+v", code, st)
	}

	if code, st := send(t, http.MethodPost, rcs, rcYAML); code != http.StatusCreated {
		t.Fatalf("create: HTTP %d %+v", code, st)
	}
	if code, _ := send(t, http.MethodPost, rcs, rcYAML); code != http.StatusConflict {
		t.Fatalf("second create: HTTP %d, want 409", code)
	}
	var rc api.ReplicationController
	if err := getJSON(rcs+"/web", &rc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "3 replicas owned by the RC", func() bool {
		pods := webPods(t, base)
		if len(pods) != 3 {
			return false
		}
		for i := range pods {
			ref := api.ControllerOf(&pods[i])
			if ref == nil || ref.UID != rc.ObjectMeta.UID || !strings.HasPrefix(pods[i].ObjectMeta.Name, "web-") || len(pods[i].ObjectMeta.Name) != len("web-")+5 {
				t.Fatalf("pod %s: name or owner wrong: %+v", pods[i].ObjectMeta.Name, pods[i].ObjectMeta.OwnerReferences)
			}
		}
		return true
	})

	if code, st := send(t, http.MethodPut, rcs+"/web/scale", `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":1}}`); code != http.StatusOK {
		t.Fatalf("scale: HTTP %d %+v", code, st)
	}
	eventually(t, "scaled down to 1 and status says so", func() bool {
		var got api.ReplicationController
		return len(webPods(t, base)) == 1 && getJSON(rcs+"/web", &got) == nil &&
			got.Status.Replicas == 1 && got.Status.ObservedGeneration == got.ObjectMeta.Generation
	})
	var sc api.Scale
	if err := getJSON(rcs+"/web/scale", &sc); err != nil || sc.Spec.Replicas != 1 || sc.Status.Selector != "app=web" {
		t.Fatalf("scale subresource: %v %+v", err, sc)
	}

	if code, st := send(t, http.MethodDelete, rcs+"/web?propagationPolicy=Orphan", ""); code != http.StatusOK {
		t.Fatalf("delete: HTTP %d %+v", code, st)
	}
	pods := webPods(t, base)
	if len(pods) != 1 || api.ControllerOf(&pods[0]) != nil {
		t.Fatalf("orphaned pods: %+v", pods)
	}
	if code, _ := send(t, http.MethodGet, rcs+"/web", ""); code != http.StatusNotFound {
		t.Fatalf("deleted rc: HTTP %d", code)
	}
}

// A ReplicaSet adopts a matching bare pod instead of making one more.
func TestReplicaSetAdoptsMatchingOrphan(t *testing.T) {
	base := startAgent(t, "rs1", "4Gi")
	bare := fmt.Sprintf(podYAML, "bare", "10Mi")
	bare = strings.Replace(bare, "metadata: {name: bare}", "metadata: {name: bare, labels: {app: web, tier: a}}", 1)
	if code, st := send(t, http.MethodPost, base+"/api/v1/namespaces/default/pods", bare); code != http.StatusCreated {
		t.Fatalf("bare pod: HTTP %d %+v", code, st)
	}
	rs := `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: tier, operator: In, values: [a]}]
  template:
    metadata: {labels: {app: web, tier: a}}
    spec:
      containers: [{name: app, image: shoal.local/busybox:1}]
`
	if code, st := send(t, http.MethodPost, base+"/apis/apps/v1/namespaces/default/replicasets", rs); code != http.StatusCreated {
		t.Fatalf("create rs: HTTP %d %+v", code, st)
	}
	eventually(t, "bare pod adopted and one more made", func() bool {
		pods := webPods(t, base)
		if len(pods) != 2 {
			return false
		}
		for i := range pods {
			if ref := api.ControllerOf(&pods[i]); ref == nil || ref.Kind != "ReplicaSet" {
				return false
			}
		}
		return true
	})
	var l struct {
		Kind  string `json:"kind"`
		Items []api.ReplicaSet
	}
	if err := getJSON(base+"/apis/apps/v1/replicasets", &l); err != nil || l.Kind != "ReplicaSetList" || len(l.Items) != 1 {
		t.Fatalf("list: %v %+v", err, l)
	}
}
