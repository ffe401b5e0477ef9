package controllers

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

func planRC(replicas int32) *api.ReplicationController {
	rc := &api.ReplicationController{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "rc-uid"},
		Spec: api.ReplicationControllerSpec{Replicas: &replicas, Selector: map[string]string{"app": "web"},
			Template: &api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}}}}}
	rc.APIVersion, rc.Kind = "v1", api.KindReplicationController
	return rc
}

// replica makes a pod; owner "" is a bare pod.
func replica(name, owner, node string, phase api.PodPhase, age time.Duration, lbl string) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: api.UID("uid-" + name),
		Labels: map[string]string{"app": lbl}, CreationTimestamp: api.TimeOf(time.Unix(1e9, 0).Add(-age))}}
	if owner != "" {
		yes := true
		p.ObjectMeta.OwnerReferences = []api.OwnerReference{{Kind: "ReplicationController", Name: "web", UID: api.UID(owner), Controller: &yes}}
	}
	p.Status.Phase = phase
	if node != "" {
		p.Spec.NodeName = node
		p.Status.PodIP = "10.244.0.9"
		p.Status.Conditions = []api.PodCondition{{Type: "PodScheduled", Status: "True"}}
	}
	if phase == api.PodRunning {
		p.Status.Conditions = append(p.Status.Conditions, api.PodCondition{Type: "Ready", Status: "True"})
	}
	return p
}

func terminating(p *api.Pod) *api.Pod {
	ts, grace := api.TimeOf(time.Unix(1e9, 0)), int64(30)
	p.ObjectMeta.DeletionTimestamp, p.ObjectMeta.DeletionGracePeriodSeconds = &ts, &grace
	return p
}

func names(ps []*api.Pod) string {
	s := ""
	for _, p := range ps {
		s += p.ObjectMeta.Name + " "
	}
	return s
}

func TestPlanReplicas(t *testing.T) {
	known := map[string]bool{"rc-uid": true}
	cases := []struct {
		name                   string
		replicas               int32
		pods                   []*api.Pod
		notReady               map[string]bool
		create                 int
		remove, adopt, release string
		live                   int
	}{
		{name: "creates up to replicas", replicas: 3,
			pods: []*api.Pod{replica("a", "rc-uid", "n1", api.PodRunning, time.Hour, "web")}, create: 2, live: 1},
		{name: "Unknown pod on a NotReady node is replaced", replicas: 2,
			pods:     []*api.Pod{replica("a", "rc-uid", "n1", api.PodRunning, time.Hour, "web"), replica("b", "rc-uid", "n2", api.PodUnknown, time.Hour, "web")},
			notReady: map[string]bool{"n2": true}, create: 1, live: 1},
		{name: "Unknown pod on a node still Ready counts: no replacement beside a live original", replicas: 2,
			pods:   []*api.Pod{replica("a", "rc-uid", "n1", api.PodRunning, time.Hour, "web"), replica("b", "rc-uid", "n2", api.PodUnknown, time.Hour, "web")},
			create: 0, live: 2},
		{name: "a terminating pod does not count: its replacement is made at once, and it is never picked as surplus", replicas: 2,
			pods:   []*api.Pod{replica("a", "rc-uid", "n1", api.PodRunning, time.Hour, "web"), terminating(replica("b", "rc-uid", "n1", api.PodRunning, time.Hour, "web"))},
			create: 1, live: 1},
		{name: "surplus skips terminating pods", replicas: 1,
			pods: []*api.Pod{replica("a", "rc-uid", "n1", api.PodRunning, 2*time.Hour, "web"), replica("c", "rc-uid", "n1", api.PodRunning, time.Hour, "web"),
				terminating(replica("b", "rc-uid", "n1", api.PodRunning, time.Minute, "web"))},
			remove: "c ", live: 2},
		{name: "terminal pods do not count", replicas: 1,
			pods: []*api.Pod{replica("a", "rc-uid", "n1", api.PodFailed, time.Hour, "web")}, create: 1, live: 0},
		{name: "surplus: pending and newest go first", replicas: 1,
			pods: []*api.Pod{replica("old", "rc-uid", "n1", api.PodRunning, 2*time.Hour, "web"), replica("new", "rc-uid", "n1", api.PodRunning, time.Minute, "web"),
				replica("pend", "rc-uid", "", api.PodPending, 3*time.Hour, "web")},
			remove: "pend new ", live: 3},
		{name: "relabelled pod is released and replaced", replicas: 1,
			pods: []*api.Pod{replica("a", "rc-uid", "n1", api.PodRunning, time.Hour, "debug")}, release: "a ", create: 1},
		{name: "matching bare pod is adopted, and counts", replicas: 2,
			pods:  []*api.Pod{replica("bare", "", "n1", api.PodRunning, time.Hour, "web"), replica("other", "", "n1", api.PodRunning, time.Hour, "db")},
			adopt: "bare ", create: 1, live: 1},
		{name: "pod of a deleted controller is an orphan", replicas: 1,
			pods: []*api.Pod{replica("a", "gone-uid", "n1", api.PodRunning, time.Hour, "web")}, adopt: "a ", live: 1},
		{name: "pod of another live controller is left alone", replicas: 1,
			pods: []*api.Pod{replica("a", "other-uid", "n1", api.PodRunning, time.Hour, "web")}, create: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := planRC(c.replicas)
			sel, _ := api.PodSelector(rc)
			k := map[string]bool{"other-uid": true}
			for u := range known {
				k[u] = true
			}
			plan := planReplicas(rc, sel, c.pods, k, c.notReady)
			got := fmt.Sprintf("create=%d remove=%q adopt=%q release=%q live=%d", plan.create, names(plan.remove), names(plan.adopt), names(plan.release), len(plan.live))
			want := fmt.Sprintf("create=%d remove=%q adopt=%q release=%q live=%d", c.create, c.remove, c.adopt, c.release, c.live)
			if got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestDeathClockWaitsForGrace(t *testing.T) {
	var d liveness.Clock
	t0 := time.Unix(100, 0)
	if got := d.Down("n2", false, 0, t0); got != 0 {
		t.Fatalf("first sight of a failure: %v", got)
	}
	if got := d.Down("n2", false, 0, t0.Add(4*time.Second)); got != 4*time.Second {
		t.Fatalf("dead for %v, want 4s", got)
	}
	d.Down("n2", true, 0, t0.Add(5*time.Second))
	if got := d.Down("n2", false, 0, t0.Add(6*time.Second)); got != 0 {
		t.Fatalf("a member that came back starts a new clock, got %v", got)
	}
}
