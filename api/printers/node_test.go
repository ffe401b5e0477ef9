package printers

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

func TestNodeRowReadsRolesAddressesAndAllocation(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	n := &api.Node{
		ObjectMeta: api.ObjectMeta{Name: "n2", CreationTimestamp: metav1.NewTime(now.Add(-90 * time.Second)),
			Labels: map[string]string{api.LabelServerRole: "", "node-role.kubernetes.io/edge": ""},
			Annotations: map[string]string{api.AnnotationRoles: "server,leader", api.AnnotationAllocatedCPU: "500m",
				api.AnnotationAllocatedMemory: "1Gi", api.AnnotationPods: "3"}},
		Spec: api.NodeSpec{PodCIDR: "10.244.1.0/24", Unschedulable: true},
		Status: api.NodeStatus{
			Allocatable: api.ResourceList{api.ResourceCPU: resource.MustParse("2"), api.ResourceMemory: resource.MustParse("2Gi"), api.ResourcePods: resource.MustParse("110")},
			Conditions:  []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}},
			Addresses:   []api.NodeAddress{{Type: api.NodeInternalIP, Address: "10.250.1.12"}},
			NodeInfo:    api.NodeSystemInfo{KubeletVersion: "shoal/v0.1.0", KernelVersion: "6.1.0"},
		},
	}
	got := Node(n, now)
	want := []any{"n2", "Ready,SchedulingDisabled", "edge,server,leader", "90s", "shoal/v0.1.0",
		"10.250.1.12", "<none>", "<unknown>", "6.1.0", "<unknown>", "10.244.1.0/24", "500m/2", "1Gi/2Gi", "3/110"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row = %q\nwant  %q", got, want)
	}
	if len(got) != len(NodeColumns()) {
		t.Fatalf("%d cells for %d columns", len(got), len(NodeColumns()))
	}

	// Read from an agent that did not annotate, with no Ready condition:
	// Unknown, the role from the labels, allocation unknown.
	n.Status.Conditions, n.ObjectMeta.Annotations = nil, nil
	delete(n.ObjectMeta.Labels, api.LabelServerRole)
	got = Node(n, now)
	if got[1] != "Unknown,SchedulingDisabled" || got[2] != "edge" || got[11] != "<unknown>" || got[13] != "<unknown>" {
		t.Fatalf("unannotated row = %q", got)
	}
}
