package api

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

const sidecarPod = `apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  initContainers:
  - name: setup
    image: busybox:1
    resources: {requests: {cpu: 300m}}
  - name: proxy
    image: busybox:1
    restartPolicy: Always
    resources: {requests: {cpu: 100m}}
    startupProbe: {exec: {command: ["true"]}}
    readinessProbe: {exec: {command: ["true"]}}
    lifecycle: {preStop: {sleep: {seconds: 1}}}
  - name: late
    image: busybox:1
    resources: {requests: {cpu: 250m}}
  containers:
  - name: app
    image: busybox:1
    resources: {requests: {cpu: 200m}}
`

func TestSidecarIsAcceptedWithProbesAndHooks(t *testing.T) {
	p, err := decodePod(t, sidecarPod)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if IsSidecar(&p.Spec.InitContainers[0]) || !IsSidecar(&p.Spec.InitContainers[1]) {
		t.Fatalf("IsSidecar: setup %v, proxy %v", IsSidecar(&p.Spec.InitContainers[0]), IsSidecar(&p.Spec.InitContainers[1]))
	}
}

// A sidecar holds its requests from its start on: while "late" runs it
// holds 250m+100m, more than setup (300m) and more than app+proxy (300m).
func TestPodRequestsCountSidecarsAsKubernetesDoes(t *testing.T) {
	p, err := decodePod(t, sidecarPod)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	got := QuantityOf(PodRequests(p), ResourceCPU)
	if got.MilliValue() != 350 {
		t.Fatalf("cpu request = %s, want 350m", got.String())
	}
	p.Spec.InitContainers = p.Spec.InitContainers[:2] // app 200m + proxy 100m = 300m = setup
	p.Spec.Containers[0].Resources.Requests[ResourceCPU] = resource.MustParse("400m")
	if got := QuantityOf(PodRequests(p), ResourceCPU); got.MilliValue() != 500 {
		t.Fatalf("cpu request = %s, want 500m (app 400m + sidecar 100m)", got.String())
	}
}

func TestSidecarBadInputIsRefusedByPath(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"init never": {"restartPolicy: Always\n", "restartPolicy: Never\n",
			`spec.initContainers[1].restartPolicy: invalid value "Never": must be Always (a sidecar) or unset`},
		"app container": {"    resources: {requests: {cpu: 200m}}\n", "    resources: {requests: {cpu: 200m}}\n    restartPolicy: Always\n",
			`spec.containers[0].restartPolicy: invalid value "Always": may be set only for init containers`},
		"probe on plain init": {"    resources: {requests: {cpu: 300m}}\n", "    resources: {requests: {cpu: 300m}}\n    readinessProbe: {exec: {command: [\"true\"]}}\n",
			"spec.initContainers[0].readinessProbe: must not be set for init containers"},
		"sidecar probe checked": {"startupProbe: {exec: {command: [\"true\"]}}", "startupProbe: {exec: {command: []}}",
			"spec.initContainers[1].startupProbe.exec.command: required"},
		"restart rules": {"restartPolicy: Always\n", "restartPolicy: Always\n    restartPolicyRules: [{action: Restart, exitCodes: {operator: In, values: [1]}}]\n",
			"spec.initContainers[1].restartPolicyRules: not supported by shoal"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			doc := strings.Replace(sidecarPod, tc.from, tc.to, 1)
			if doc == sidecarPod {
				t.Fatalf("case did not change the manifest")
			}
			_, err := decodePod(t, doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
