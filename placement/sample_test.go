package placement

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

// On a fleet large enough to be sampled, every node Choose picks must pass
// Fits (the state machine's commit-time check) and binding what it picks
// never puts more on a node than it has.
func TestChooseOnASampledFleetPicksOnlyNodesThatFit(t *testing.T) {
	fleet := cloneFleet(benchFleet(1000))
	index := map[string]int{}
	for i, ni := range fleet {
		index[ni.Node.ObjectMeta.Name] = i
	}
	pods := benchPods()
	placed := 0
	for i := 0; i < 6000; i++ {
		p := *pods[i%len(pods)]
		p.ObjectMeta.Name = fmt.Sprintf("%s-%d", p.ObjectMeta.Name, i)
		name, _, err := Choose(&p, fleet)
		if errors.Is(err, ErrNoFit) {
			continue
		}
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		ni := &fleet[index[name]]
		if ok, why := Fits(&p, *ni); !ok {
			t.Fatalf("pod %s placed on %s, which does not fit: %s", p.ObjectMeta.Name, name, why)
		}
		bind(ni, api.PodRequests(&p))
		placed++
	}
	if placed == 0 {
		t.Fatal("no pod placed")
	}
	for _, ni := range fleet {
		for _, res := range checked {
			if free := ni.Free(res); free.Sign() < 0 {
				t.Fatalf("%s over-committed on %s: %s free", ni.Node.ObjectMeta.Name, res, free.String())
			}
		}
	}
}

// Sampling stops after enough feasible nodes, never before: a pod only one
// node of a large fleet takes is placed there wherever its walk starts.
func TestChooseFindsTheOnlyFittingNodeOfALargeFleet(t *testing.T) {
	var fleet []NodeInfo
	for i := 0; i < 3000; i++ {
		fleet = append(fleet, node(fmt.Sprintf("n%04d", i), "4Gi", "4", map[string]string{"gpu": "no"}))
	}
	fleet[1234].Node.ObjectMeta.Labels["gpu"] = "yes"
	for i := 0; i < 50; i++ {
		p := pod("1Gi")
		p.ObjectMeta.Name = fmt.Sprintf("train-%d", i)
		p.Spec.NodeSelector = map[string]string{"gpu": "yes"}
		got, _, err := Choose(p, fleet)
		if err != nil || got != "n1234" {
			t.Fatalf("pod %s: Choose = %q %v, want n1234", p.ObjectMeta.Name, got, err)
		}
	}
}

// Below the sampling threshold every node is scored, so the choice is the
// best of the whole fleet, ties to the first name.
func TestChooseScoresEveryNodeOfASmallFleet(t *testing.T) {
	var fleet []NodeInfo
	for i := 0; i < scoredNodes; i++ {
		n := node(fmt.Sprintf("n%03d", i), "8Gi", "4", nil)
		n.Requested = api.ResourceList{api.ResourceMemory: *resource.NewQuantity(int64(i%7+1)<<30, resource.BinarySI)}
		fleet = append(fleet, n)
	}
	fleet[scoredNodes-3].Requested = api.ResourceList{}
	got, _, err := Choose(pod("1Gi"), fleet)
	if want := fmt.Sprintf("n%03d", scoredNodes-3); err != nil || got != want {
		t.Fatalf("Choose = %q %v, want the only empty node %s", got, err, want)
	}
}

// A pod that fits nowhere on a large fleet counts every node under its
// reason, and names a bounded sample: one node of each reason first, so a
// rare reason is never crowded out, then the first by name. The message
// that goes into the Raft log stays the same size however large the fleet.
func TestChooseOnALargeFleetCountsEveryNodeAndSamplesFew(t *testing.T) {
	var fleet []NodeInfo
	for i := 0; i < 500; i++ {
		fleet = append(fleet, node(fmt.Sprintf("n%03d", i), "1Gi", "1", nil))
	}
	fleet[499].Node.Status.Conditions[0].Status = "False"
	_, f, err := Choose(pod("2Gi"), fleet)
	if !errors.Is(err, ErrNoFit) || f.Nodes != 500 {
		t.Fatalf("err %v, %+v", err, f)
	}
	want := []ReasonCount{{"insufficient memory", 499}, {"node not ready", 1}}
	if !reflect.DeepEqual(f.Reasons, want) {
		t.Fatalf("reasons %+v, want %+v", f.Reasons, want)
	}
	sample := []string{"n000: memory 2Gi requested, 1Gi free", "n001: memory 2Gi requested, 1Gi free",
		"n002: memory 2Gi requested, 1Gi free", "n003: memory 2Gi requested, 1Gi free", "n499: node is not ready"}
	if !reflect.DeepEqual(f.Sample, sample) {
		t.Fatalf("sample %q, want %q", f.Sample, sample)
	}
	if !strings.HasSuffix(f.String(), "; and 495 more)") {
		t.Fatalf("message %q", f)
	}
	var big []NodeInfo
	for i := 0; i < 5000; i++ {
		big = append(big, node(fmt.Sprintf("n%04d", i), "1Gi", "1", nil))
	}
	_, g, _ := Choose(pod("2Gi"), big)
	if len(g.String()) > len(f.String())+10 {
		t.Fatalf("the message grows with the fleet: %d bytes at 5,000 nodes, %d at 500", len(g.String()), len(f.String()))
	}
}

// Replicas of one controller start their walks at different nodes, so on an
// empty uniform fleet they spread instead of piling onto the first names,
// and the same pod on the same fleet always gets the same node.
func TestChooseSpreadsReplicasAndIsDeterministic(t *testing.T) {
	var fleet []NodeInfo
	index := map[string]int{}
	for i := 0; i < 1000; i++ {
		fleet = append(fleet, node(fmt.Sprintf("n%04d", i), "4Gi", "4", nil))
		index[fleet[i].Node.ObjectMeta.Name] = i
	}
	perNode := map[string]int{}
	for i := 0; i < 200; i++ {
		p := pod("256Mi")
		p.ObjectMeta.Name = fmt.Sprintf("web-%05d", i)
		got, _, err := Choose(p, fleet)
		if err != nil {
			t.Fatal(err)
		}
		again, _, _ := Choose(p, fleet)
		if again != got {
			t.Fatalf("pod %s: %s then %s on the same fleet", p.ObjectMeta.Name, got, again)
		}
		bind(&fleet[index[got]], api.PodRequests(p))
		perNode[got]++
	}
	for n, c := range perNode {
		if c > 2 {
			t.Fatalf("%s got %d of 200 replicas on 1000 empty nodes", n, c)
		}
	}
}
