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

// A pod whose only change is the status this node reported on it (and the
// resource version that write gave it) calls for no pass: the echo of each
// report otherwise woke a pass over every pod of the node. Any other
// change to that pod still does, and so does a status someone else wrote.
func TestPassGateSkipsTheEchoOfItsOwnReport(t *testing.T) {
	const resync = 2 * time.Second
	t0 := time.Unix(1e9, 0)
	reported := api.PodStatus{Phase: api.PodRunning, PodIP: "10.244.1.5"}
	g := passGate{ours: func(p *api.Pod) bool { return statusEqual(p.Status, reported) }}
	first := assignedView(10, []string{"a", "b"}, "")
	g.passed(first, t0)
	echo := func(idx uint64) *Assignments {
		v := assignedView(idx, []string{"a", "b"}, "")
		v.Pods[0].Status = reported
		v.Pods[0].ObjectMeta.ResourceVersion = "42"
		return v
	}
	if g.need(echo(11), t0.Add(100*time.Millisecond), resync) {
		t.Error("the echo of the node's own report got a pass")
	}
	if !g.peersOnly(func() *Assignments { v := echo(12); v.Nodes[1].Status.Conditions[0].Status = "False"; return v }(), t0.Add(100*time.Millisecond), resync) {
		t.Error("the echo with a peer's change is not a change of routes only")
	}
	other := echo(13)
	other.Pods[0].Status.Phase = api.PodFailed
	if !g.need(other, t0.Add(200*time.Millisecond), resync) {
		t.Error("a status the node did not report got no pass")
	}
	deleting := echo(14)
	deleting.Pods[0].ObjectMeta.DeletionTimestamp = &api.Time{Time: t0}
	if !g.need(deleting, t0.Add(300*time.Millisecond), resync) {
		t.Error("a pod being deleted, with the node's status, got no pass")
	}
	if !g.need(echo(15), t0.Add(resync), resync) {
		t.Error("the resync interval passed with no pass")
	}
}
