package controllers

import (
	"context"
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
