package api

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

const rcManifest = `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox:1}]
`

func TestDecodeRCDefaultsSelectorFromTemplateLabels(t *testing.T) {
	objs, err := Decode(strings.NewReader(rcManifest))
	if err != nil {
		t.Fatal(err)
	}
	rc := objs[0].(*ReplicationController)
	if rc.Spec.Selector["app"] != "web" || DesiredReplicas(rc) != 3 || rc.ObjectMeta.Namespace != "default" {
		t.Fatalf("defaults not applied: %+v", rc)
	}
	if rc.Spec.Template.Spec.RestartPolicy != RestartAlways {
		t.Fatalf("template restartPolicy = %q", rc.Spec.Template.Spec.RestartPolicy)
	}
	p := PodFromTemplate(rc)
	if ref := ControllerOf(p); ref == nil || ref.Kind != "ReplicationController" || ref.Name != "web" {
		t.Fatalf("pod from template has no controller ref: %+v", p.ObjectMeta.OwnerReferences)
	}
}

func TestDecodeRCRejectsSelectorNotMatchingTemplate(t *testing.T) {
	bad := strings.Replace(rcManifest, "  replicas: 3\n", "  replicas: 3\n  selector: {app: db}\n", 1)
	_, err := Decode(strings.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), "spec.template.metadata.labels") {
		t.Fatalf("want a template labels error, got %v", err)
	}
}

func TestDecodeRCRejectsNegativeReplicasAndUnknownField(t *testing.T) {
	_, err := Decode(strings.NewReader(strings.Replace(rcManifest, "replicas: 3", "replicas: -1", 1)))
	if err == nil || !strings.Contains(err.Error(), "spec.replicas") {
		t.Fatalf("want a spec.replicas error, got %v", err)
	}
	_, err = Decode(strings.NewReader(strings.Replace(rcManifest, "replicas: 3", "replicas: 3\n  paused: true", 1)))
	if err == nil || !strings.Contains(err.Error(), "spec.paused: unknown field") {
		t.Fatalf("want spec.paused unknown, got %v", err)
	}
}

const rsManifest = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: front}
    matchExpressions: [{key: tier, operator: In, values: [a, b]}]
  template:
    metadata: {labels: {app: front, tier: a}}
    spec:
      containers: [{name: c, image: busybox:1}]
`

func TestDecodeReplicaSetWithMatchExpressions(t *testing.T) {
	objs, err := Decode(strings.NewReader(rsManifest))
	if err != nil {
		t.Fatal(err)
	}
	rs := objs[0].(*ReplicaSet)
	sel, err := PodSelector(rs)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set{"app": "front", "tier": "b"}) || sel.Matches(labels.Set{"app": "front", "tier": "c"}) {
		t.Fatalf("selector %s matches wrongly", sel)
	}
	bad := strings.Replace(rsManifest, "tier: a}", "tier: c}", 1)
	if _, err := Decode(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("want a selector mismatch error, got %v", err)
	}
	bad = strings.Replace(rsManifest, "operator: In", "operator: Near", 1)
	if _, err := Decode(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("want an operator error, got %v", err)
	}
}
