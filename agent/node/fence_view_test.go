package node

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// cuttableSeat is a follower, caught up at index 20, whose leader's
// heartbeats stop when the test cuts it off.
type cuttableSeat struct {
	Seat
	cut atomic.Bool
}

func (*cuttableSeat) IsLeader() bool           { return false }
func (*cuttableSeat) Leader() (string, string) { return "n1", "10.0.0.1:7081" }
func (*cuttableSeat) AppliedIndex() uint64     { return 20 }
func (s *cuttableSeat) LastContact() time.Time {
	if s.cut.Load() {
		return time.Now().Add(-time.Hour)
	}
	return time.Now().Add(-10 * time.Millisecond)
}

// scriptedSource answers the view the test sets: at once when it is not
// the one last answered, else when the test sets another or the query's
// wait is up (a held query).
type scriptedSource struct {
	mu      sync.Mutex
	cur     *Assignments
	served  *Assignments
	changed chan struct{} // closed and replaced by set
	holding atomic.Int64  // the index a held query now asks to be after, -1 while none waits
}

func (s *scriptedSource) set(v *Assignments) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = v
	if s.changed != nil {
		close(s.changed)
	}
	s.changed = make(chan struct{})
}

func (s *scriptedSource) Assignments(ctx context.Context, after uint64, wait time.Duration) (*Assignments, error) {
	s.mu.Lock()
	v, fresh, changed := s.cur, s.cur != s.served, s.changed
	s.served = v
	s.mu.Unlock()
	if fresh {
		return v, nil
	}
	s.holding.Store(int64(after))
	defer s.holding.Store(-1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-changed:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served = s.cur
	return s.cur, nil
}

// syncCounting is memRuntime that counts each pod's syncs.
type syncCounting struct {
	*memRuntime
	mu    sync.Mutex
	syncs map[string]int
}

func (r *syncCounting) SyncPod(ctx context.Context, p *api.Pod, netnsPath string) error {
	r.mu.Lock()
	r.syncs[string(p.ObjectMeta.UID)]++
	r.mu.Unlock()
	return r.memRuntime.SyncPod(ctx, p, netnsPath)
}

func (r *syncCounting) synced(uid string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.syncs[uid]
}

// Issue 22, seen in chaos runs: a node cut off took as its view the one
// its server read from a state behind the leader's, a view the fence did
// not let it act on, and kept its pods running: among them a replica the
// fleet had deleted and the node had removed, whose containers it started
// again, so its RC ran one replica more until contact returned. Cut off,
// a node keeps the pods of the last view it acted on, and neither keeps
// nor saves a view it refused.
func TestCutOffNodeKeepsNoPodOfAViewItRefused(t *testing.T) {
	yes := true
	secs := int64(600) // kept while cut off, as a tolerant replica is
	tol := api.Toleration{Key: api.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: api.TaintNoExecute, TolerationSeconds: &secs}
	replica := func(uid, ip string) api.Pod {
		return api.Pod{ObjectMeta: api.ObjectMeta{Name: uid, Namespace: "default", UID: api.UID(uid), ResourceVersion: "1",
			OwnerReferences: []api.OwnerReference{{Kind: "ReplicationController", Name: "rc", UID: "rc", Controller: &yes}}},
			Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}, Tolerations: []api.Toleration{tol}},
			Status: api.PodStatus{PodIP: ip, Phase: api.PodRunning}}
	}
	a, b := replica("a", "10.244.1.2"), replica("b", "10.244.1.3")
	path := filepath.Join(t.TempDir(), "node", "view.json")
	seat := &cuttableSeat{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(2 * time.Second), ViewFile: path, Log: slog.New(slog.DiscardHandler)},
		&fleetAt{seat: seat, leaderIndex: 20})
	rt := &syncCounting{memRuntime: newMemRuntime(), syncs: map[string]int{}}
	src := &scriptedSource{}
	src.holding.Store(-1)
	src.set(&Assignments{Index: 20, Pods: []api.Pod{a, b}})
	r, err := New(Config{Name: "n1", Resync: time.Hour, SteadyResync: time.Hour},
		Deps{Assignments: src, Status: &statusLog{}, Runtime: rt, Network: &memNetwork{pods: map[string]net.IP{}}, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, fence.Run, r.Run)
	if !eventually(10*time.Second, func() bool { return rt.has("a") && rt.has("b") }) {
		t.Fatal("the node did not start the pods bound to it")
	}

	// b is deleted: the node acts on the view without it and removes it.
	src.set(&Assignments{Index: 21, Pods: []api.Pod{a}})
	if !eventually(10*time.Second, func() bool { _, removed := rt.state(); return slices.Contains(removed, "b") }) {
		t.Fatal("the node did not remove the pod no longer bound to it")
	}
	// Its pass is over once it waits for what comes after that view.
	if !eventually(10*time.Second, func() bool { return src.holding.Load() == 21 }) {
		t.Fatal("the reconciler did not ask again after its pass")
	}

	// Cut off, its server serves a state from before b's deletion.
	seat.cut.Store(true)
	src.set(&Assignments{Index: 19, Pods: []api.Pod{a, b}})
	bSyncs, aSyncs := rt.synced("b"), rt.synced("a")
	// Two of the cut-off node's passes over what it keeps (cutoff.go):
	// the first is over once the second begins.
	if !eventually(10*time.Second, func() bool { return rt.synced("a") >= aSyncs+2 }) {
		t.Fatal("the cut-off node did not keep the pod of the view it acted on")
	}
	if rt.synced("b") != bSyncs || rt.has("b") {
		t.Fatal("the cut-off node started again a removed pod, from a view it had refused")
	}
	pods, _, err := loadView(path)
	if err != nil || len(pods) != 1 || pods[0].ObjectMeta.UID != "a" {
		t.Fatalf("view on disk %v (%v): want the view the node acted on, a alone", pods, err)
	}
}

// removalWatch is memRuntime that reads, at each removal, whether the
// view on disk still holds the pod removed.
type removalWatch struct {
	*memRuntime
	path     string
	mu       sync.Mutex
	stillHad map[string]bool // by UID: the view file (or its absence) would bring the pod back
}

func (r *removalWatch) RemovePod(ctx context.Context, uid string) error {
	pods, _, err := loadView(r.path)
	held := err != nil || len(pods) == 0 // no view on disk: a restart keeps what runs and fences nothing
	for i := range pods {
		held = held || string(pods[i].ObjectMeta.UID) == uid
	}
	r.mu.Lock()
	r.stillHad[uid] = held
	r.mu.Unlock()
	return r.memRuntime.RemovePod(ctx, uid)
}

// Issue 22: the view file lagged what the node did (the fence loop saved
// a new view at its next tick, after the reconciler had acted on it), so
// an agent restarted while cut off could restore a view that still held
// a pod it had removed, and start it again. The view the node acts on
// is on disk before anything is removed, and a restart restores it.
func TestViewIsOnDiskBeforeTheNodeRemovesWhatItNoLongerHolds(t *testing.T) {
	pod := func(uid, ip string) api.Pod {
		return api.Pod{ObjectMeta: api.ObjectMeta{Name: uid, Namespace: "default", UID: api.UID(uid), ResourceVersion: "1"},
			Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
			Status: api.PodStatus{PodIP: ip, Phase: api.PodRunning}}
	}
	a, b := pod("a", "10.244.1.2"), pod("b", "10.244.1.3")
	path := filepath.Join(t.TempDir(), "node", "view.json")
	// A client; its fence loop is not running, so nothing saves the view
	// but the reconciler's own acting on it.
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(2 * time.Second), ViewFile: path, Log: slog.New(slog.DiscardHandler)}, &fleetAt{})
	rt := &removalWatch{memRuntime: newMemRuntime(), path: path, stillHad: map[string]bool{}}
	src := newViewQueue(&Assignments{Index: 1, Pods: []api.Pod{a, b}}, &Assignments{Index: 2, Pods: []api.Pod{a}})
	r, err := New(Config{Name: "n1", Resync: time.Hour, SteadyResync: time.Hour},
		Deps{Assignments: src, Status: &statusLog{}, Runtime: rt, Network: &memNetwork{pods: map[string]net.IP{}}, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, r.Run)
	if !eventually(10*time.Second, func() bool { _, removed := rt.state(); return slices.Contains(removed, "b") }) {
		t.Fatal("the node did not remove the pod no longer bound to it")
	}
	rt.mu.Lock()
	stillHad := rt.stillHad["b"]
	rt.mu.Unlock()
	if stillHad {
		t.Fatal("the node removed a pod while the view on disk would bring it back on a restart")
	}

	// Restarted while cut off: the saved view is the one it acted on.
	restarted := NewFencer(FenceConfig{Liveness: liveness.WithGrace(2 * time.Second), ViewFile: path, Log: slog.New(slog.DiscardHandler)}, &fleetAt{})
	if len(restarted.view) != 1 || restarted.view[0].ObjectMeta.UID != "a" {
		t.Fatalf("restored view %v: want a alone", restarted.view)
	}
}
