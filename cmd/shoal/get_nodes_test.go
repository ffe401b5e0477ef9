package main

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func TestNodeRowShowsRolesBlockAndAllocation(t *testing.T) {
	n := &api.Node{
		ObjectMeta: api.ObjectMeta{Name: "n2", Labels: map[string]string{"node-role.shoal.dev/server": ""}, Annotations: map[string]string{
			"shoal.dev/roles": "server,leader", "shoal.dev/allocated-cpu": "500m", "shoal.dev/allocated-memory": "1Gi", "shoal.dev/pods": "3"}},
		Spec: api.NodeSpec{PodCIDR: "10.244.1.0/24"},
		Status: api.NodeStatus{
			Allocatable: api.ResourceList{api.ResourceCPU: resource.MustParse("2"), api.ResourceMemory: resource.MustParse("2Gi"), api.ResourcePods: resource.MustParse("110")},
			Conditions:  []api.NodeCondition{{Type: "Ready", Status: "True"}},
			Addresses:   []api.NodeAddress{{Type: "InternalIP", Address: "10.250.1.12"}},
			NodeInfo:    api.NodeSystemInfo{KubeletVersion: "shoal/v0.1.0"},
		},
	}
	got := nodeRow(n, true)
	want := []string{"n2", "Ready", "server,leader", "<unknown>", "shoal/v0.1.0", "10.244.1.0/24", "500m/2", "1Gi/2Gi", "3/110", "10.250.1.12"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row = %q\nwant  %q", got, want)
	}
	// A cordoned node that lost its agent, read from an agent that does
	// not annotate: NotReady, role from its labels, allocation unknown.
	n.Status.Conditions[0].Status = "Unknown"
	n.ObjectMeta.Annotations, n.ObjectMeta.Labels = nil, nil
	n.Spec.Unschedulable = true
	got = nodeRow(n, false)
	want = []string{"n2", "NotReady,SchedulingDisabled", "client", "<unknown>", "shoal/v0.1.0", "10.244.1.0/24", "<unknown>", "<unknown>", "<unknown>"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row = %q\nwant  %q", got, want)
	}
}
