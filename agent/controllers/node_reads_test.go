package controllers

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// copyCountingState counts the reads that copy every Node.
type copyCountingState struct {
	State
	copies atomic.Int64
}

func (s *copyCountingState) Nodes() ([]*api.Node, uint64) {
	s.copies.Add(1)
	return s.State.Nodes()
}

// The NoExecute pass runs at every change of state: it finds the tainted
// nodes in the stored ones without copying every Node, and still evicts.
func TestNoExecutePassCopiesNoNodes(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Minute)}, Deps{Members: &fakeFleet{}})
	counting := &copyCountingState{State: l.state}
	l.state = counting
	for _, n := range []string{"n1", "n2"} {
		registerReady(t, s, Member{Name: n, Alive: true})
	}
	boundPod(t, s, "p1", "", "n1")
	l.evictNoExecute(context.Background(), time.Now())
	n, _ := s.FSM.Node("n1")
	n.Spec.Taints = []api.Taint{{Key: "k", Effect: api.TaintNoExecute}}
	apply(t, s, consensus.UpdateNode{Node: *n, Time: time.Now().UTC()})
	l.evictNoExecute(context.Background(), time.Now())
	if n := counting.copies.Load(); n != 0 {
		t.Errorf("two passes copied every node %d times", n)
	}
	if pods, _ := s.FSM.Pods(func(p *api.Pod) bool { return p.ObjectMeta.Name == "p1" }); len(pods) != 0 {
		t.Error("p1 stayed on the NoExecute-tainted node")
	}
}

// The Endpoints pass reads the nodes' readiness from the stored nodes, not
// a copy of every Node at each pass, and still follows it.
func TestEndpointsPassCopiesNoNodes(t *testing.T) {
	l, s, _ := endpointsLeader(t)
	counting := &copyCountingState{State: l.state}
	l.state = counting
	web := map[string]string{"app": "web"}
	servedPod(t, s, "default", "a", "n1", web)
	setReady(t, s, "default", "a", true)
	createService(t, s, webService(api.ServicePort{Name: "http", Port: 80, TargetPort: api.FromInt(8080)}))
	pass(t, l, s)
	if got := endpointsView(t, s, "default", "web"); got != "ready: a[http=8080]@n1 | notReady: " {
		t.Fatalf("endpoints %q", got)
	}
	apply(t, s, consensus.SetNodeCondition{Name: "n1", Ready: false, Reason: "NodeLost", Time: time.Now().UTC()})
	pass(t, l, s)
	if got := endpointsView(t, s, "default", "web"); got != "ready:  | notReady: a[http=8080]@n1" {
		t.Errorf("with n1 NotReady: endpoints %q", got)
	}
	if n := counting.copies.Load(); n != 0 {
		t.Errorf("two passes copied every node %d times", n)
	}
}

// podReadCountingState also counts the reads that copy pods.
type podReadCountingState struct {
	copyCountingState
	podReads atomic.Int64
}

func (s *podReadCountingState) Pods(filter func(*api.Pod) bool) ([]*api.Pod, uint64) {
	s.podReads.Add(1)
	return s.State.Pods(filter)
}

// A replication pass reads a namespace's pods once for all its
// controllers and copies no node, and each controller still gets its
// replicas.
func TestReplicationPassReadsEachNamespaceOnce(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Minute)}, Deps{Members: &fakeFleet{}})
	counting := &podReadCountingState{copyCountingState: copyCountingState{State: l.state}}
	l.state = counting
	registerReady(t, s, Member{Name: "n1", Alive: true})
	var ctrls []api.Replicated
	for i := range 3 {
		rc := planRC(2)
		rc.ObjectMeta.Name, rc.ObjectMeta.UID = fmt.Sprintf("web%d", i), ""
		rc.Spec.Selector = map[string]string{"app": rc.ObjectMeta.Name}
		rc.Spec.Template.ObjectMeta.Labels = rc.Spec.Selector
		rc.Spec.Template.Spec = api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}
		apply(t, s, consensus.ApplyController{RC: rc, Create: true, UID: api.UID(rc.ObjectMeta.Name + "-uid"), Time: time.Now().UTC()})
		got, err := s.FSM.Controller(api.KindReplicationController, "default", rc.ObjectMeta.Name)
		if err != nil {
			t.Fatal(err)
		}
		ctrls = append(ctrls, got)
	}
	known := map[string]bool{}
	for _, c := range ctrls {
		known[string(api.MetaOf(c).UID)] = true
	}
	// An orphan web0 adopts: the stored pod is replaced, never changed.
	orphan := api.Pod{ObjectMeta: api.ObjectMeta{Name: "orphan", Namespace: "default", Labels: map[string]string{"app": "web0"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}
	orphan.APIVersion, orphan.Kind = "v1", "Pod"
	apply(t, s, consensus.CreatePod{Pod: orphan, UID: "uid-orphan", Time: time.Now().UTC()})
	var stored *api.Pod
	s.FSM.Pods(func(p *api.Pod) bool {
		if p.ObjectMeta.Name == "orphan" {
			stored = p
		}
		return false
	})
	snap := l.newReplicaSnapshot()
	for _, c := range ctrls {
		if err := l.syncReplicasFrom(context.Background(), c, known, snap); err != nil {
			t.Fatal(err)
		}
	}
	if len(stored.ObjectMeta.OwnerReferences) != 0 {
		t.Error("adoption changed the stored pod in place")
	}
	if got, _ := s.FSM.Pods(func(p *api.Pod) bool { return p.ObjectMeta.Name == "orphan" }); len(got) != 1 || api.ControllerOf(got[0]) == nil || api.ControllerOf(got[0]).Name != "web0" {
		t.Errorf("the orphan was not adopted by web0: %+v", got)
	}
	if n := counting.podReads.Load(); n != 1 {
		t.Errorf("a pass over 3 controllers of one namespace read its pods %d times, want once", n)
	}
	if n := counting.copies.Load(); n != 0 {
		t.Errorf("a pass copied every node %d times", n)
	}
	for _, c := range ctrls {
		name := api.MetaOf(c).Name
		pods, _ := s.FSM.Pods(func(p *api.Pod) bool { return p.ObjectMeta.Labels["app"] == name })
		if len(pods) != 2 {
			t.Errorf("controller %s has %d pods, want 2", name, len(pods))
		}
	}
}
