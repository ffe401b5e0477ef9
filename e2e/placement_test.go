package e2e

import (
	"strings"
	"testing"
)

// spreadManifest is a Deployment "spread" whose replicas keep one per node
// (required anti-affinity on the hostname), stay in zone z (required node
// affinity) and prefer the nodes labelled disk=ssd.
const spreadManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: spread
spec:
  replicas: 2
  selector:
    matchLabels: {app: spread}
  template:
    metadata:
      labels: {app: spread}
    spec:
      terminationGracePeriodSeconds: 1 # sleep ignores SIGTERM: replaced pods go at once
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: zone, operator: In, values: [z]}]
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: kubernetes.io/hostname
            labelSelector: {matchLabels: {app: spread}}
      containers:
      - name: main
        image: ` + image + `
        command: [sleep, "100000"]
`

// TestPodPlacementRules places a Deployment by node affinity and pod
// anti-affinity on a lab: its replicas go one per node of the zone it
// asks for, and one more than the zone's nodes waits, saying why.
func TestPodPlacementRules(t *testing.T) {
	k := startKubectlFleetOf(t, "pl", 3)
	k.ok("label", "node", "n2", "n3", "zone=z")
	k.ok("apply", "-f", k.file("spread.yaml", spreadManifest))
	k.eventually("two replicas on n2 and n3", func(out string) bool { return strings.TrimSpace(out) == "n2 n3" || strings.TrimSpace(out) == "n3 n2" },
		"get", "pods", "-l", "app=spread", "--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.spec.nodeName}{" "}{end}`)

	k.ok("scale", "deployment", "spread", "--replicas=3")
	k.eventually("the third replica pending, and why", func(out string) bool {
		return strings.Contains(out, "didn't match pod anti-affinity rules") && strings.Contains(out, "didn't match Pod's node affinity")
	}, "get", "pods", "-l", "app=spread", "--field-selector=status.phase=Pending", "-o", `jsonpath={range .items[*]}{.status.conditions[?(@.type=="PodScheduled")].message}{"\n"}{end}`)

	// A third node in the zone takes it.
	k.ok("label", "node", "n1", "zone=z")
	k.eventually("three replicas, one per node", func(out string) bool {
		f := strings.Fields(out)
		seen := map[string]bool{}
		for _, n := range f {
			seen[n] = true
		}
		return len(f) == 3 && len(seen) == 3
	}, "get", "pods", "-l", "app=spread", "--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.spec.nodeName}{" "}{end}`)
}
