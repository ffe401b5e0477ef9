package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func TestDescribeNodeListsItsPodsAndWhatTheyRequest(t *testing.T) {
	alloc := api.ResourceList{api.ResourceCPU: resource.MustParse("2"), api.ResourceMemory: resource.MustParse("2Gi"), api.ResourcePods: resource.MustParse("110")}
	n := &api.Node{
		ObjectMeta: api.ObjectMeta{Name: "n2", Annotations: map[string]string{"shoal.dev/roles": "client"}},
		Spec: api.NodeSpec{PodCIDR: "10.244.1.0/24", Unschedulable: true, Taints: []api.Taint{
			{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}, {Key: "flaky", Effect: api.TaintNoExecute}}},
		Status: api.NodeStatus{Capacity: alloc, Allocatable: alloc,
			Conditions: []api.NodeCondition{{Type: "Ready", Status: "False", Reason: "NodeStatusUnknown", Message: "gossip lost the agent"}}},
	}
	pod := func(name, phase, mem string) api.Pod {
		return api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name},
			Spec:   api.PodSpec{Containers: []api.Container{{Name: "a", Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: resource.MustParse(mem)}}}}},
			Status: api.PodStatus{Phase: api.PodPhase(phase)}}
	}
	var out bytes.Buffer
	describeNode(&out, n, []api.Pod{pod("web", string(api.PodRunning), "512Mi"), pod("lost", string(api.PodUnknown), "512Mi"), pod("done", string(api.PodSucceeded), "1Gi")}, time.Now())
	for _, re := range []string{
		`(?m)^Roles:\s+client$`,
		`(?m)^  Ready\s+False\s+.*NodeStatusUnknown\s+gossip lost the agent$`,
		`(?m)^PodCIDR:\s+10\.244\.1\.0/24$`,
		`(?m)^Taints:\s+dedicated=gpu:NoSchedule\n\s+flaky:NoExecute$`,
		`(?m)^Unschedulable:\s+true$`,
		`(?m)^Non-terminated Pods:\s+\(2 in total\)$`,
		`(?m)^  default\s+web\s+0\s+512Mi\s+<unknown>$`,
		`(?m)^  memory\s+1Gi \(50%\)\s+2Gi$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("no line matching %s in:\n%s", re, out.String())
		}
	}
}
