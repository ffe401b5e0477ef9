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

// One pass places as many pods on a node as fit, each choice seeing the
// ones before it: two nodes of 1Gi take ten pods of 100Mi each and no
// more, the rest wait for the next pass (they fit what is committed), and
// a pod that fits no node even empty is reported unfit.
func TestPlanBindsFillsEachNodeWithoutOvercommit(t *testing.T) {
	infos := []placement.NodeInfo{batchNode("n1", "1000Mi", nil), batchNode("n2", "1000Mi", nil)}
	var pending []*api.Pod
	for i := 0; i < 30; i++ {
		pending = append(pending, batchPod(fmt.Sprintf("p%02d", i), "100Mi", nil))
	}
	pending = append(pending, batchPod("huge", "4Gi", nil))
	binds, unfit := planBinds(pending, infos, nil)
	if len(unfit) != 1 || unfit[0].ObjectMeta.Name != "huge" {
		t.Fatalf("unfit = %v, want huge only: the others fit what is committed", unfit)
	}
	if len(binds) != 20 {
		t.Fatalf("%d binds, want 20 (ten of 100Mi on each 1000Mi node)", len(binds))
	}
	per := map[string]int{}
	for _, b := range binds {
		per[b.node]++
	}
	if per["n1"] != 10 || per["n2"] != 10 {
		t.Fatalf("binds per node %v, want 10 and 10", per)
	}
	for _, n := range infos {
		if n.Pods != 10 {
			t.Errorf("%s counts %d pods after the pass, want 10", n.Node.ObjectMeta.Name, n.Pods)
		}
		if used := n.Requested[api.ResourceMemory]; used.Cmp(n.Node.Status.Allocatable[api.ResourceMemory]) > 0 {
			t.Errorf("%s over-committed: %s", n.Node.ObjectMeta.Name, used.String())
		}
	}
}

// The node's pod limit and host ports count the pass's choices too.
func TestPlanBindsCountsPodsAndHostPortsOfThePass(t *testing.T) {
	small := batchNode("small", "4Gi", nil)
	small.Node.Status.Allocatable[api.ResourcePods] = resource.MustParse("3")
	var pending []*api.Pod
	for i := 0; i < 5; i++ {
		pending = append(pending, batchPod(fmt.Sprintf("p%d", i), "1Mi", nil))
	}
	binds, _ := planBinds(pending, []placement.NodeInfo{small}, nil)
	if len(binds) != 3 {
		t.Fatalf("%d binds on a node of 3 pods, want 3", len(binds))
	}
	infos := []placement.NodeInfo{batchNode("a", "1Gi", nil), batchNode("b", "1Gi", nil)}
	var agents []*api.Pod
	for i := 0; i < 3; i++ {
		p := batchPod(fmt.Sprintf("agent-%d", i), "1Mi", nil)
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: "TCP"}}
		agents = append(agents, p)
	}
	binds, unfit := planBinds(agents, infos, nil)
	if len(binds) != 2 || binds[0].node == binds[1].node || len(unfit) != 0 {
		t.Fatalf("binds %+v unfit %v: want one per node, the third waiting", binds, unfit)
	}
}

// A pod that fits only a node this pass has filled waits: it is not
// reported unschedulable. A pod that fits no node at all is.
func TestPlanBindsDefersWhatFitsOnlyAFilledNode(t *testing.T) {
	ssd := map[string]string{"disk": "ssd"}
	infos := []placement.NodeInfo{batchNode("a", "1Gi", ssd), batchNode("b", "1Gi", nil)}
	pending := []*api.Pod{batchPod("first", "600Mi", ssd), batchPod("second", "600Mi", ssd), batchPod("huge", "4Gi", nil)}
	binds, unfit := planBinds(pending, infos, nil)
	if len(binds) != 1 || binds[0].pod.ObjectMeta.Name != "first" || binds[0].node != "a" {
		t.Fatalf("binds = %+v, want first on a only", binds)
	}
	if len(unfit) != 1 || unfit[0].ObjectMeta.Name != "huge" {
		t.Fatalf("unfit = %v, want huge only (second fits what is committed)", unfit)
	}
}

// giveIPs hands each bind of a node its own IP, in order, none to a
// hostNetwork pod, and drops the binds a full block has none for.
func TestGiveIPsGivesEachBindItsOwn(t *testing.T) {
	hostNet := batchPod("h", "1Mi", nil)
	hostNet.Spec.HostNetwork = true
	binds := []plannedBind{{pod: batchPod("a", "1Mi", nil), node: "n1"}, {pod: hostNet, node: "n1"},
		{pod: batchPod("b", "1Mi", nil), node: "n1"}, {pod: batchPod("c", "1Mi", nil), node: "n2"}, {pod: batchPod("d", "1Mi", nil), node: "n2"}}
	free := func(node string, n int) ([]string, error) {
		if node == "n2" {
			return []string{"10.0.1.2"}, fmt.Errorf("1 left, %d wanted", n)
		}
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("10.0.0.%d", 2+i))
		}
		return out, nil
	}
	out, short := giveIPs(binds, free)
	got := ""
	for _, b := range out {
		got += b.pod.ObjectMeta.Name + "=" + b.ip + " "
	}
	if got != "a=10.0.0.2 h= b=10.0.0.3 c=10.0.1.2 " {
		t.Fatalf("binds %q", got)
	}
	if short["n2"] == nil || len(short) != 1 {
		t.Fatalf("short = %v, want n2", short)
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
