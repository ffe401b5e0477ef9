package placement

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func node(name, mem, cpu string, labels map[string]string) NodeInfo {
	return NodeInfo{Node: &api.Node{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: labels},
		Status: api.NodeStatus{
			Allocatable: api.ResourceList{api.ResourceMemory: resource.MustParse(mem), api.ResourceCPU: resource.MustParse(cpu)},
			Conditions:  []api.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	}, Requested: api.ResourceList{}}
}

func pod(mems ...string) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"}}
	for i, m := range mems {
		p.Spec.Containers = append(p.Spec.Containers, api.Container{
			Name: "c" + string(rune('a'+i)), Image: "i:1",
			Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: resource.MustParse(m)}},
		})
	}
	return p
}

func TestPlaceWholePodSkipsNodeWhereOnlyOneContainerFits(t *testing.T) {
	// The seeds' case: App 1Gi + LogCollector 0.5Gi; node-a has 1.25Gi, node-b 2Gi.
	p := pod("1Gi", "0.5Gi")
	for _, order := range [][]NodeInfo{
		{node("node-a", "1.25Gi", "2", nil), node("node-b", "2Gi", "2", nil)},
		{node("node-b", "2Gi", "2", nil), node("node-a", "1.25Gi", "2", nil)},
	} {
		got, _, err := Choose(p, order)
		if err != nil || got != "node-b" {
			t.Fatalf("Choose = %q, %v; want node-b", got, err)
		}
	}
	ok, why := Fits(p, node("node-a", "1.25Gi", "2", nil))
	if ok || why != "node-a: memory 1.5Gi requested, 1.25Gi free" {
		t.Fatalf("Fits(node-a) = %v %q", ok, why)
	}
}

func TestNoFitCountsReasonsAndSamplesNodes(t *testing.T) {
	p := pod("3Gi")
	p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	nodes := []NodeInfo{node("b", "4Gi", "2", nil), node("a", "1Gi", "2", map[string]string{"disk": "ssd"})}
	notReady := node("c", "8Gi", "2", map[string]string{"disk": "ssd"})
	notReady.Node.Status.Conditions[0].Status = "False"
	nodes = append(nodes, notReady, node("d", "2Gi", "2", map[string]string{"disk": "ssd"}))
	_, f, err := Choose(p, nodes)
	if !errors.Is(err, ErrNoFit) {
		t.Fatalf("err = %v", err)
	}
	want := "0/4 nodes are available: 2 insufficient memory, 1 node not ready, 1 node selector mismatch" +
		" (a: memory 3Gi requested, 1Gi free; b: node selector disk=ssd does not match; c: node is not ready; d: memory 3Gi requested, 2Gi free)"
	if f.String() != want || !strings.Contains(err.Error(), want) {
		t.Fatalf("message = %q\nwant      %q\nerr %v", f, want, err)
	}
	if _, f, _ := Choose(p, nil); f.String() != "0/0 nodes are available: no nodes registered" {
		t.Fatalf("no nodes: %q", f)
	}
}

func TestChooseCountsWhatIsAlreadyBound(t *testing.T) {
	a, b := node("a", "4Gi", "4", nil), node("b", "4Gi", "4", nil)
	a.Requested = api.ResourceList{api.ResourceMemory: resource.MustParse("3Gi")}
	got, _, err := Choose(pod("512Mi"), []NodeInfo{a, b})
	if err != nil || got != "b" {
		t.Fatalf("Choose = %q %v, want the less allocated b", got, err)
	}
	b.Requested = api.ResourceList{api.ResourceMemory: resource.MustParse("3900Mi")}
	got, _, err = Choose(pod("512Mi"), []NodeInfo{a, b})
	if err != nil || got != "a" {
		t.Fatalf("Choose = %q %v, want a (b has 196Mi free)", got, err)
	}
}

func TestTiesBreakByName(t *testing.T) {
	got, _, err := Choose(pod("1Gi"), []NodeInfo{node("z", "2Gi", "2", nil), node("m", "2Gi", "2", nil)})
	if err != nil || got != "m" {
		t.Fatalf("Choose = %q %v, want m", got, err)
	}
}

func TestPodsWithoutRequestsSpreadByPodCount(t *testing.T) {
	p := pod()
	p.Spec.Containers = []api.Container{{Name: "c", Image: "i:1"}}
	nodes := []NodeInfo{node("a", "2Gi", "2", nil), node("b", "2Gi", "2", nil), node("c", "2Gi", "2", nil)}
	nodes[0].Pods, nodes[1].Pods, nodes[2].Pods = 2, 1, 1
	got, _, err := Choose(p, nodes)
	if err != nil || got != "b" {
		t.Fatalf("Choose = %q %v, want b (fewest pods, first by name)", got, err)
	}
	// Placing six in a row, counting each one, leaves two on every node.
	for i := range nodes {
		nodes[i].Pods = 0
	}
	for range 6 {
		got, _, err := Choose(p, nodes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range nodes {
			if nodes[i].Node.ObjectMeta.Name == got {
				nodes[i].Pods++
			}
		}
	}
	for _, n := range nodes {
		if n.Pods != 2 {
			t.Fatalf("node %s got %d of 6 pods, want 2 each", n.Node.ObjectMeta.Name, n.Pods)
		}
	}
}

func TestPodWithoutRequestsFitsAnyReadyNode(t *testing.T) {
	p := pod()
	p.Spec.Containers = []api.Container{{Name: "c", Image: "i:1"}}
	got, _, err := Choose(p, []NodeInfo{node("a", "0", "0", nil)})
	if err != nil || got != "a" {
		t.Fatalf("Choose = %q %v", got, err)
	}
}

// A quantity held as an arbitrary-precision decimal shares its number when
// copied; subtracting what is requested from such a copy once changed the
// stored node's allocatable while placement read it.
func TestPlacementLeavesDecimalAllocatableAlone(t *testing.T) {
	n := node("a", "4Gi", "2", nil)
	mem := n.Node.Status.Allocatable[api.ResourceMemory]
	mem.ToDec()
	n.Node.Status.Allocatable[api.ResourceMemory] = mem
	n.Requested = api.ResourceList{api.ResourceMemory: resource.MustParse("1Gi")}
	if _, _, err := Choose(pod("1Gi"), []NodeInfo{n}); err != nil {
		t.Fatal(err)
	}
	if ok, why := Fits(pod("1Gi"), n); !ok {
		t.Fatal(why)
	}
	if free := n.Free(api.ResourceMemory); free.Cmp(resource.MustParse("3Gi")) != 0 {
		t.Fatalf("free %s, want 3Gi", free.String())
	}
	if got := n.Node.Status.Allocatable[api.ResourceMemory]; got.Cmp(resource.MustParse("4Gi")) != 0 {
		t.Fatalf("allocatable changed to %s by placement", got.String())
	}
}
