package api

import (
	"encoding/json"
	"strings"
	"testing"
)

const deployManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 10
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox:1}]
`

func TestDecodeDeploymentDefaultsAsKubernetes(t *testing.T) {
	objs, err := Decode(strings.NewReader(deployManifest))
	if err != nil {
		t.Fatal(err)
	}
	d := objs[0].(*Deployment)
	s := d.Spec
	if s.Strategy.Type != RollingUpdateDeploymentStrategyType || s.Strategy.RollingUpdate.MaxSurge.String() != "25%" ||
		s.Strategy.RollingUpdate.MaxUnavailable.String() != "25%" {
		t.Fatalf("strategy defaults: %+v", s.Strategy)
	}
	if *s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 || d.Namespace != "default" || d.Labels["app"] != "web" {
		t.Fatalf("defaults: %+v", d)
	}
	if surge, unavail := RollingBounds(d); surge != 3 || unavail != 2 {
		t.Fatalf("25%% of 10: surge %d (want 3, rounded up), unavailable %d (want 2, rounded down)", surge, unavail)
	}
	// What `kubectl get deploy -o yaml` shows decodes again unchanged.
	js, _ := json.Marshal(d)
	again, err := Decode(strings.NewReader(string(js)))
	if err != nil {
		t.Fatalf("re-apply of the defaulted object: %v", err)
	}
	js2, _ := json.Marshal(again[0])
	if string(js) != string(js2) {
		t.Fatalf("re-apply changed the object:\n%s\n%s", js, js2)
	}
}

func TestDecodeDeploymentRefusesByFieldPath(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"selector not matching": {"selector: {matchLabels: {app: web}}", "selector: {matchLabels: {app: db}}", "spec.template.metadata.labels"},
		"negative replicas":     {"replicas: 10", "replicas: -1", "spec.replicas"},
		"both bounds 0": {"replicas: 10", "replicas: 10\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: '0%'}}",
			"spec.strategy.rollingUpdate.maxUnavailable"},
		"bad percent":             {"replicas: 10", "replicas: 10\n  strategy: {rollingUpdate: {maxSurge: 'x%'}}", "spec.strategy.rollingUpdate.maxSurge"},
		"Recreate with rolling":   {"replicas: 10", "replicas: 10\n  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}", "spec.strategy.rollingUpdate"},
		"unknown strategy":        {"replicas: 10", "replicas: 10\n  strategy: {type: BlueGreen}", "spec.strategy.type"},
		"deadline under minReady": {"replicas: 10", "replicas: 10\n  minReadySeconds: 30\n  progressDeadlineSeconds: 20", "spec.progressDeadlineSeconds"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(strings.Replace(deployManifest, c.from, c.to, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error naming %s, got %v", c.want, err)
			}
		})
	}
}

func TestDecodeDeploymentRefusesUnsupportedFieldByName(t *testing.T) {
	m := strings.Replace(deployManifest, "metadata: {name: web}", "metadata: {name: web, finalizers: [x]}", 1)
	_, err := Decode(strings.NewReader(m))
	if err == nil || !strings.Contains(err.Error(), "metadata.finalizers") || !strings.Contains(err.Error(), "not supported by shoal") {
		t.Fatalf("want metadata.finalizers refused as not supported, got %v", err)
	}
}
