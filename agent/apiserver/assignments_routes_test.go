package apiserver

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	kresource "k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// The nodes' part of the views is rebuilt only when a route changes: a
// later index with only a label or a condition changed reuses the part it
// had, a new address gives a new part that carries it.
func TestRoutesAreReusedUntilARouteChanges(t *testing.T) {
	s := consensus.NewTestCluster(t, 1).Leader()
	apply := func(cmd consensus.Command) uint64 {
		t.Helper()
		res, err := s.Raft.Apply(context.Background(), cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Type(), err)
		}
		return res.Index
	}
	for _, n := range []string{"n1", "n2"} {
		apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, Time: time.Now()})
	}
	srv := testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil)
	first := srv.routesAt(s.FSM.Index())
	if len(first.nodes) != 2 || first.nodes[0].Spec.PodCIDR == "" {
		t.Fatalf("routes %+v", first.nodes)
	}
	labelled := apply(consensus.UpdateNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n2", Labels: map[string]string{"disk": "ssd"}}}, Time: time.Now()})
	ready := apply(consensus.SetNodeCondition{Name: "n1", Ready: true, Reason: "AgentReady", Time: time.Now()})
	second := srv.routesAt(max(labelled, ready))
	if second.index < ready {
		t.Fatalf("routes at index %d, asked for %d", second.index, ready)
	}
	if &second.nodes[0] != &first.nodes[0] || second.sum != first.sum {
		t.Error("a label and a condition change rebuilt the routes")
	}
	moved := apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n2"},
		Status: api.NodeStatus{Addresses: []api.NodeAddress{{Type: "InternalIP", Address: "10.250.0.2"}}}}, Time: time.Now()})
	third := srv.routesAt(moved)
	if third.sum == first.sum || len(third.nodes[1].Status.Addresses) != 1 || third.nodes[1].Status.Addresses[0].Address != "10.250.0.2" {
		t.Fatalf("after n2's address changed: %+v", third.nodes[1])
	}
	joined := apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n3"}}, Time: time.Now()})
	if r := srv.routesAt(joined); len(r.nodes) != 3 {
		t.Fatalf("after n3 joined: %d routes", len(r.nodes))
	}
}

// A held query sleeps through changes to other nodes' pods (known from
// the node's pods generation, without reading its view) and answers the
// change of one of its own.
func TestHeldViewSleepsThroughOtherNodesPods(t *testing.T) {
	s := consensus.NewTestCluster(t, 1).Leader()
	apply := func(cmd consensus.Command) uint64 {
		t.Helper()
		res, err := s.Raft.Apply(context.Background(), cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Type(), err)
		}
		return res.Index
	}
	for _, n := range []string{"n1", "n2"} {
		apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n}, Status: api.NodeStatus{
			Allocatable: api.ResourceList{api.ResourcePods: kresource.MustParse("110"), api.ResourceCPU: kresource.MustParse("4"), api.ResourceMemory: kresource.MustParse("4Gi")}}}, Time: time.Now()})
		apply(consensus.SetNodeCondition{Name: n, Ready: true, Reason: "AgentReady", Time: time.Now()})
	}
	newPod := func(name, node string) uint64 {
		p := api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}
		p.APIVersion, p.Kind = "v1", "Pod"
		apply(consensus.CreatePod{Pod: p, UID: api.UID("uid-" + name), Time: time.Now()})
		ip, err := s.FSM.FreePodIP(node)
		if err != nil {
			t.Fatal(err)
		}
		return apply(consensus.BindPod{Namespace: "default", Name: name, UID: api.UID("uid-" + name), Node: node, PodIP: ip.String(), Time: time.Now()})
	}
	srv := httptest.NewServer(testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil).Handler())
	t.Cleanup(srv.Close)
	base := srv.URL + "/shoal/v1/nodes/n1/assignments"
	first := getView(t, base+"?index=0")
	held := make(chan AssignmentsView, 1)
	go func() {
		held <- getView(t, fmt.Sprintf("%s?index=%d&view=%s&wait=20s", base, first.Index, first.View))
	}()
	for i := range 5 {
		newPod(fmt.Sprintf("other%d", i), "n2")
	}
	select {
	case v := <-held:
		t.Fatalf("the held query answered at index %d for pods bound to n2", v.Index)
	default:
	}
	mine := newPod("mine", "n1")
	v := <-held
	if v.Index < mine || len(v.Pods) != 1 || v.Pods[0].ObjectMeta.Name != "mine" {
		t.Fatalf("held query answered at %d (mine bound at %d) with %d pods", v.Index, mine, len(v.Pods))
	}
}

// Nodes that join together reach a held query in one answer: a change of
// routes alone is gathered for a moment, a change of the node's own pods
// is not waited on.
func TestHeldViewGathersRoutesOfJoinsTogether(t *testing.T) {
	s := consensus.NewTestCluster(t, 1).Leader()
	apply := func(cmd consensus.Command) uint64 {
		t.Helper()
		res, err := s.Raft.Apply(context.Background(), cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Type(), err)
		}
		return res.Index
	}
	register := func(n string) uint64 {
		return apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, Time: time.Now()})
	}
	register("n1")
	srv := httptest.NewServer(testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil).Handler())
	t.Cleanup(srv.Close)
	base := srv.URL + "/shoal/v1/nodes/n1/assignments"
	first := getView(t, base+"?index=0")
	held := make(chan AssignmentsView, 1)
	go func() {
		held <- getView(t, fmt.Sprintf("%s?index=%d&view=%s&wait=20s", base, first.Index, first.View))
	}()
	register("n2")
	last := register("n3")
	v := <-held
	if len(v.Nodes) != 3 || v.Index < last {
		t.Fatalf("held query answered at index %d with %d routes; want n2 and n3 (at %d) together", v.Index, len(v.Nodes), last)
	}
	if !onlyRoutesChanged(first.View, v.View) || onlyRoutesChanged(v.View, v.View) || onlyRoutesChanged("", v.View) {
		t.Errorf("tokens %s -> %s: routes-only change not told apart", first.View, v.View)
	}
}
