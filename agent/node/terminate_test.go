package node

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// A pod bound here with a deletionTimestamp is not synced again: the node
// stops it with its deletionGracePeriodSeconds, removes its network and
// only then makes the deletion final; a pod beside it runs as usual.
func TestReconcilerStopsTerminatingPodThenFinishesItsDeletion(t *testing.T) {
	rt := newMemRuntime("leaving")
	netw := &memNetwork{pods: map[string]net.IP{podNetID("leaving"): net.ParseIP("10.244.1.5")}}
	status := &statusLog{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	scheduled := []api.PodCondition{{Type: "PodScheduled", Status: "True"}}
	ts, grace := api.TimeOf(time.Now().Add(3*time.Second)), int64(3)
	leaving := api.Pod{ObjectMeta: api.ObjectMeta{Name: "leaving", Namespace: "default", UID: "leaving", DeletionTimestamp: &ts, DeletionGracePeriodSeconds: &grace},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.5", Phase: api.PodRunning, Conditions: scheduled}}
	staying := api.Pod{ObjectMeta: api.ObjectMeta{Name: "staying", Namespace: "default", UID: "staying"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.6", Conditions: scheduled}}
	views := newViewQueue(&Assignments{Index: 7, Pods: []api.Pod{leaving, staying}})
	r, err := New(Config{Name: "n1", Resync: time.Minute}, Deps{Assignments: views, Status: status, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	if !eventually(5*time.Second, func() bool { return len(status.finishedDeletions()) > 0 }) {
		t.Fatal("the terminating pod's deletion was never made final")
	}
	cancel()
	<-done
	if got := rt.terminations(); len(got) != 1 || got[0] != "leaving 3s" {
		t.Fatalf("terminations %v, want the leaving pod with its 3s grace", got)
	}
	if got := status.finishedDeletions(); len(got) != 1 || got[0] != "leaving" {
		t.Fatalf("final deletes %v, want the leaving pod once", got)
	}
	if len(status.of("leaving")) != 0 {
		t.Errorf("status reported for a terminating pod: %v", status.of("leaving"))
	}
	pods, removed := rt.state()
	if _, ok := pods["leaving"]; ok || len(removed) != 0 {
		t.Errorf("runtime pods %v, removed %v: want leaving stopped by TerminatePod only", pods, removed)
	}
	if pods["staying"] == "" {
		t.Error("the pod beside it was not synced")
	}
	netw.mu.Lock()
	defer netw.mu.Unlock()
	if _, ok := netw.pods[podNetID("leaving")]; ok {
		t.Error("the terminating pod's network is still there")
	}
}

// A pod removed from the state while its node waits out its grace (a
// forced delete, its owner's cascade) is no longer waited for: its
// termination is cancelled, the removal of unclaimed pods takes it, and
// its deletion is not "finished" again.
func TestRemovedTerminatingPodIsRemovedWithoutWaitingForItsGrace(t *testing.T) {
	rt := newMemRuntime("leaving")
	rt.holdStops = true
	netw := &memNetwork{pods: map[string]net.IP{}}
	status := &statusLog{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	ts, grace := api.TimeOf(time.Now().Add(time.Hour)), int64(3600)
	leaving := api.Pod{ObjectMeta: api.ObjectMeta{Name: "leaving", Namespace: "default", UID: "leaving", DeletionTimestamp: &ts, DeletionGracePeriodSeconds: &grace},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.5", Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: "PodScheduled", Status: "True"}}}}
	views := newViewQueue(&Assignments{Index: 7, Pods: []api.Pod{leaving}})
	r, err := New(Config{Name: "n1", Resync: time.Minute}, Deps{Assignments: views, Status: status, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	if !eventually(5*time.Second, func() bool { rt.mu.Lock(); defer rt.mu.Unlock(); return rt.busy["leaving"] != nil }) {
		t.Fatal("the terminating pod was never being stopped")
	}
	views.views <- &Assignments{Index: 8} // it is gone from the state
	if !eventually(5*time.Second, func() bool { _, removed := rt.state(); return len(removed) == 1 }) {
		t.Fatal("the pod removed from the state was never removed here")
	}
	cancel()
	<-done
	if got := status.finishedDeletions(); len(got) != 0 {
		t.Errorf("final deletes %v of a pod already gone from the state", got)
	}
}
