package node

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func assignedView(idx uint64, pods []string, notReady string) *Assignments {
	v := &Assignments{Index: idx}
	for _, name := range pods {
		v.Pods = append(v.Pods, api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: api.UID("uid-" + name)}})
	}
	for _, name := range []string{"n1", "n2"} {
		n := api.Node{ObjectMeta: api.ObjectMeta{Name: name}}
		status := "True"
		if name == notReady {
			status = "False"
		}
		n.Status.Conditions = []api.NodeCondition{{Type: "Ready", Status: api.ConditionStatus(status)}}
		v.Nodes = append(v.Nodes, n)
	}
	return v
}

// The reconciler passes over a view only when it differs from the one the
// last pass acted on, or when the resync interval has passed since.
func TestPassGateSkipsUnchangedViewsUntilResync(t *testing.T) {
	const resync = 2 * time.Second
	t0 := time.Unix(1e9, 0)
	var g passGate
	first := assignedView(10, []string{"a", "b"}, "")
	if !g.need(first, t0, resync) {
		t.Fatal("the first view got no pass")
	}
	g.passed(first, t0)
	steps := []struct {
		what string
		view *Assignments
		at   time.Duration
		want bool
	}{
		{"a change elsewhere in the fleet (same pods, same nodes)", assignedView(11, []string{"a", "b"}, ""), 100 * time.Millisecond, false},
		{"a pod bound here", assignedView(12, []string{"a", "b", "c"}, ""), 200 * time.Millisecond, true},
		{"a pod no longer bound here", assignedView(13, []string{"a"}, ""), 300 * time.Millisecond, true},
		{"a peer node lost (its route changes)", assignedView(14, []string{"a", "b"}, "n2"), 400 * time.Millisecond, true},
		{"the resync interval passed", assignedView(15, []string{"a", "b"}, ""), resync, true},
	}
	for _, s := range steps {
		if got := g.need(s.view, t0.Add(s.at), resync); got != s.want {
			t.Errorf("%s: need = %v, want %v", s.what, got, s.want)
		}
	}
	// A pod's status as reported is part of the view: the pass after a
	// report sees it, as it must to report the next change.
	changed := assignedView(16, []string{"a", "b"}, "")
	changed.Pods[0].Status.Phase = api.PodRunning
	if !g.need(changed, t0.Add(time.Second), resync) {
		t.Error("a changed pod status got no pass")
	}
	g.reset()
	if !g.need(first, t0.Add(500*time.Millisecond), resync) {
		t.Error("after reset (lost contact, a stale view, fenced pods) the same view got no pass")
	}
}
