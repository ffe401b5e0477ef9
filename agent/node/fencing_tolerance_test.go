package node

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api"
)

// Issue 25: a cut-off node stops each replica only when the leader may
// soon replace it (agent/liveness.Budget.ForPod): one without a toleration
// of its node's loss after the budget's FenceAfter, one tolerating it for
// a while that much later, and never one tolerated for good, a DaemonSet's
// or a bare pod.
func TestCutOffNodeStopsEachPodByItsToleration(t *testing.T) {
	grace := time.Second // FenceAfter 0.5 s
	f := newTestFencer(grace, &fleetAt{})
	rt := newMemRuntime("plain", "tolerant", "forever", "daemon", "bare")
	f.setRuntime(rt)
	yes := true
	owned := func(uid, kind string, tol ...api.Toleration) api.Pod {
		p := api.Pod{ObjectMeta: api.ObjectMeta{UID: api.UID(uid), OwnerReferences: []api.OwnerReference{{Kind: kind, UID: "c", Controller: &yes}}}}
		p.Spec.Tolerations = tol
		return p
	}
	secs := int64(2)
	unreach := func(s *int64) api.Toleration {
		return api.Toleration{Key: api.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: api.TaintNoExecute, TolerationSeconds: s}
	}
	ds := &api.DaemonSet{}
	daemon := *api.PodFromDaemonSet(ds, "n1", "h")
	daemon.ObjectMeta.UID = "daemon"
	daemon.OwnerReferences[0].Kind = api.KindDaemonSet
	pods := []api.Pod{
		owned("plain", api.KindReplicaSet),
		owned("tolerant", api.KindReplicaSet, unreach(&secs)),
		owned("forever", api.KindReplicaSet, unreach(nil)),
		daemon,
		{ObjectMeta: api.ObjectMeta{UID: "bare"}},
	}
	v4 := &Assignments{Index: 4, Pods: pods}
	f.fetched(v4)
	if !f.reconcileAllowed(v4) {
		t.Fatal("a fresh read was not trusted")
	}
	lastContact := f.lastFetch
	tolerantAfter := f.budget.ForPod(2 * time.Second).FenceAfter // 1.5 s

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if !eventually(5*time.Second, func() bool { return slices.Contains(rt.killedPods(), "plain") }) {
		t.Fatal("a replica without a toleration kept running past FenceAfter cut off")
	}
	if slices.Contains(rt.killedPods(), "tolerant") && time.Since(lastContact) <= tolerantAfter {
		t.Fatal("a replica tolerating 2 s was killed at the default FenceAfter")
	}
	if !eventually(10*time.Second, func() bool { return slices.Contains(rt.killedPods(), "tolerant") }) {
		t.Fatal("a replica tolerating 2 s kept running past its own FenceAfter: the leader replaces it at 2 s")
	}
	rt.mu.Lock()
	cut := rt.killedAt["tolerant"].Sub(lastContact)
	rt.mu.Unlock()
	if cut <= tolerantAfter {
		t.Fatalf("a replica tolerating 2 s was killed %v after the last contact, before its FenceAfter %v", cut, tolerantAfter)
	}
	if pods, _ := rt.state(); pods["forever"] == "" || pods["daemon"] == "" || pods["bare"] == "" {
		t.Fatalf("pods left %v: the fence stopped a pod tolerated for good, a DaemonSet's or a bare one", pods)
	}
	if killed := rt.killedPods(); len(killed) != 2 {
		t.Fatalf("killed %v, want plain and tolerant once each", killed)
	}
}
