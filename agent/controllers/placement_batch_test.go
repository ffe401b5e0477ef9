package controllers

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

func batchNode(name, mem string, labels map[string]string) placement.NodeInfo {
	return placement.NodeInfo{Node: &api.Node{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: labels},
		Status: api.NodeStatus{
			Allocatable: api.ResourceList{api.ResourceMemory: resource.MustParse(mem), api.ResourceCPU: resource.MustParse("2"), api.ResourcePods: resource.MustParse("110")},
			Conditions:  []api.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	}, Requested: api.ResourceList{}}
}

func batchPod(name, mem string, selector map[string]string) *api.Pod {
	return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: api.UID("uid-" + name)},
		Spec: api.PodSpec{NodeSelector: selector, Containers: []api.Container{{Name: "c", Image: "i:1",
			Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: resource.MustParse(mem)}}}}}}
}

// The binds of one pass go to Raft side by side, so each node takes at
// most one of them: its choice and its lowest free IP are then exactly
// what one bind after another would have seen.
func TestPlanBindsTakesEachNodeOnce(t *testing.T) {
	var infos []placement.NodeInfo
	for i := 1; i <= 5; i++ {
		infos = append(infos, batchNode(fmt.Sprintf("n%d", i), "1Gi", nil))
	}
	var pending []*api.Pod
	for i := 0; i < 7; i++ {
		pending = append(pending, batchPod(fmt.Sprintf("p%d", i), "100Mi", nil))
	}
	binds, unfit := planBinds(pending, infos, nil)
	if len(unfit) != 0 {
		t.Fatalf("unfit = %d pods, want none: every pod fits", len(unfit))
	}
	if len(binds) != 5 {
		t.Fatalf("%d binds on 5 nodes, want 5 (the other 2 pods wait for the next pass)", len(binds))
	}
	seen := map[string]string{}
	for _, b := range binds {
		if other, dup := seen[b.node]; dup {
			t.Errorf("node %s chosen for %s and %s in one pass", b.node, other, b.pod.ObjectMeta.Name)
		}
		seen[b.node] = b.pod.ObjectMeta.Name
	}
}

// A pod that fits only a node already taken in this pass waits: it is not
// reported unschedulable. A pod that fits no node at all is.
func TestPlanBindsDefersWhatFitsOnlyATakenNode(t *testing.T) {
	infos := []placement.NodeInfo{batchNode("a", "1Gi", map[string]string{"disk": "ssd"}), batchNode("b", "1Gi", nil)}
	ssd := map[string]string{"disk": "ssd"}
	pending := []*api.Pod{batchPod("first", "100Mi", ssd), batchPod("second", "100Mi", ssd), batchPod("huge", "4Gi", nil)}
	binds, unfit := planBinds(pending, infos, nil)
	if len(binds) != 1 || binds[0].pod.ObjectMeta.Name != "first" || binds[0].node != "a" {
		t.Fatalf("binds = %+v, want first on a only", binds)
	}
	// "huge" came after a node was taken, so this pass cannot tell; the
	// next pass, with every node free again, reports it.
	if len(unfit) != 0 {
		t.Fatalf("unfit = %v, want none in this pass", unfit)
	}
	infos = []placement.NodeInfo{batchNode("a", "1Gi", ssd), batchNode("b", "1Gi", nil)}
	binds, unfit = planBinds([]*api.Pod{pending[2], pending[1]}, infos, nil)
	if len(unfit) != 1 || unfit[0].ObjectMeta.Name != "huge" {
		t.Fatalf("unfit = %v, want huge", unfit)
	}
	if len(binds) != 1 || binds[0].pod.ObjectMeta.Name != "second" || binds[0].node != "a" {
		t.Fatalf("binds = %+v, want second on a", binds)
	}
}

// Within one pass, each pod a spread constraint counts sees the ones
// chosen before it: four replicas spread over two zones two and two,
// though zone b has three nodes with more room.
func TestPlanBindsCountsThePassForSpreading(t *testing.T) {
	zone := func(z string) map[string]string { return map[string]string{"zone": z} }
	infos := []placement.NodeInfo{batchNode("a1", "1Gi", zone("a")), batchNode("a2", "1Gi", zone("a")),
		batchNode("b1", "4Gi", zone("b")), batchNode("b2", "4Gi", zone("b")), batchNode("b3", "4Gi", zone("b"))}
	var pending []*api.Pod
	for i := 0; i < 4; i++ {
		p := batchPod(fmt.Sprintf("web-%d", i), "100Mi", nil)
		p.ObjectMeta.Labels = map[string]string{"app": "web"}
		p.Spec.TopologySpreadConstraints = []api.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: api.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
		pending = append(pending, p)
	}
	binds, unfit := planBinds(pending, infos, &placement.Placed{})
	if len(binds) != 4 || len(unfit) != 0 {
		t.Fatalf("binds %+v, unfit %v", binds, unfit)
	}
	count := map[byte]int{}
	for _, b := range binds {
		count[b.node[0]]++
	}
	if count['a'] != 2 || count['b'] != 2 {
		t.Fatalf("binds %+v, want two in each zone", binds)
	}
}
