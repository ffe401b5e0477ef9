package node

import (
	"net"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

func earlyPod(uid, ip string) api.Pod {
	return api.Pod{ObjectMeta: api.ObjectMeta{Name: uid, Namespace: "default", UID: api.UID(uid)},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: ip}}
}

// A pod bound here while a pass is busy starting another starts at once,
// not when that pass ends: on a failover the replacements bound to one
// node one after the other otherwise queued behind each other's passes.
func TestReconcilerStartsPodsBoundDuringAPass(t *testing.T) {
	rt := &heldRuntime{memRuntime: newMemRuntime(), hold: map[string]chan struct{}{"slow": make(chan struct{})}}
	netw := &memNetwork{pods: map[string]net.IP{}}
	status := &statusLog{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	slow, quick := earlyPod("slow", "10.244.1.5"), earlyPod("quick", "10.244.1.6")
	views := newViewQueue(&Assignments{Index: 7, Pods: []api.Pod{slow}}, &Assignments{Index: 8, Pods: []api.Pod{slow, quick}})
	r, err := New(Config{Name: "n1", Resync: time.Minute},
		Deps{Assignments: views, Status: status, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, r.Run)

	started := eventually(5*time.Second, func() bool { return rt.has("quick") && len(status.of("quick")) == 1 })
	stillSlow := !rt.has("slow")
	rt.release("slow")
	if !started {
		t.Fatal("the pod bound during the pass was not started (and reported) while the pass was busy with another")
	}
	if !stillSlow {
		t.Fatal("the slow pod finished first: the test proves nothing")
	}
	if !eventually(5*time.Second, func() bool { return rt.has("slow") && len(status.of("slow")) == 1 && views.idleAfter(2) }) {
		t.Fatal("the slow pod never started")
	}
	if st := status.of("quick")[0]; st.Phase != api.PodRunning || st.PodIP != "10.244.1.6" {
		t.Errorf("quick reported %+v", st)
	}
}

// A view that drops a pod the pass acts on waits for the next pass, which
// removes that pod before it starts anything: the new pod may hold the
// freed IP.
func TestReconcilerStartsNothingEarlyWhenAPodLeft(t *testing.T) {
	rt := &heldRuntime{memRuntime: newMemRuntime(), hold: map[string]chan struct{}{"old": make(chan struct{})}}
	netw := &memNetwork{pods: map[string]net.IP{}}
	status := &statusLog{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	old, reuse := earlyPod("old", "10.244.1.5"), earlyPod("reuse", "10.244.1.5")
	views := newViewQueue(&Assignments{Index: 7, Pods: []api.Pod{old}}, &Assignments{Index: 8, Pods: []api.Pod{reuse}})
	r, err := New(Config{Name: "n1", Resync: time.Minute},
		Deps{Assignments: views, Status: status, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, r.Run)

	// The pass is busy with old once its network is up; then the second
	// view is read (the queue answers at once) and must wait.
	if !eventually(5*time.Second, func() bool {
		netw.mu.Lock()
		defer netw.mu.Unlock()
		_, up := netw.pods[podNetID("old")]
		return up && views.taken.Load() == 2
	}) {
		t.Fatal("the pass never reached old, or the second view was never read during it")
	}
	rt.release("old")
	if !eventually(5*time.Second, func() bool { return rt.has("reuse") && len(status.of("reuse")) == 1 && views.idleAfter(2) }) {
		t.Fatal("the pod bound after old left never started")
	}
	netw.mu.Lock()
	defer netw.mu.Unlock()
	if netw.conflicts != 0 {
		t.Errorf("%d pod networks set up on an IP another still held: the new pod started before the old one was removed", netw.conflicts)
	}
	if _, ok := netw.pods[podNetID("old")]; ok || len(netw.pods) != 1 {
		t.Errorf("pod networks %v, want only reuse's", netw.pods)
	}
}
