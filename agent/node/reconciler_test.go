package node

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// A node back from an outage removes the pods no longer bound to it before
// it starts the new ones: the state may have given a removed pod's IP to a
// new pod here, and both must never hold it at once.
func TestReconcileRemovesUnclaimedBeforeStartingNewPods(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	pods := []api.Pod{{ObjectMeta: api.ObjectMeta{UID: "new-1"}}, {ObjectMeta: api.ObjectMeta{UID: "new-2"}}}
	reconcilePods(context.Background(), pods,
		func(_ context.Context, want, wantNet map[string]bool) {
			if !want["new-1"] || !want["new-2"] || len(want) != 2 || len(wantNet) != 2 {
				t.Errorf("want %v wantNet %v: not the bound pods", want, wantNet)
			}
			mu.Lock()
			calls = append(calls, "remove")
			mu.Unlock()
		},
		func(_ context.Context, p *api.Pod) {
			mu.Lock()
			calls = append(calls, "sync "+string(p.ObjectMeta.UID))
			mu.Unlock()
		})
	if len(calls) != 3 || calls[0] != "remove" {
		t.Fatalf("calls %v: want the removal first, then both syncs", calls)
	}
}

// condition is the status's condition of type typ, nil when it has none.
func condition(st api.PodStatus, typ api.PodConditionType) *api.PodCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			return &st.Conditions[i]
		}
	}
	return nil
}

func TestMergeStatusKeepsWhatTheFleetDecided(t *testing.T) {
	old := api.PodStatus{PodIP: "10.244.1.2", HostIP: "10.0.0.1", Conditions: []api.PodCondition{{Type: "PodScheduled", Status: "True"}}}
	seen := api.PodStatus{Phase: api.PodRunning, ContainerStatuses: []api.ContainerStatus{{Name: "a", Ready: true}}}
	got := mergeStatus(old, seen)
	if got.PodIP != old.PodIP || got.HostIP != old.HostIP || got.StartTime == nil {
		t.Fatalf("merged %+v", got)
	}
	if c := condition(got, "Ready"); c == nil || c.Status != "True" {
		t.Fatalf("Ready condition %+v", c)
	}
	if c := condition(got, "PodScheduled"); c == nil {
		t.Fatal("PodScheduled dropped")
	}
	again := mergeStatus(got, seen)
	if !statusEqual(got, again) {
		t.Fatal("merging the same observation twice changed the status")
	}
}

func TestMergeStatusCarriesInitialized(t *testing.T) {
	old := api.PodStatus{PodIP: "10.244.1.2", Conditions: []api.PodCondition{{Type: "PodScheduled", Status: "True"}}}
	seen := api.PodStatus{Phase: api.PodPending, Conditions: []api.PodCondition{
		{Type: "Initialized", Status: "False", Reason: "ContainersNotInitialized", Message: "containers with incomplete status: [setup]"},
		{Type: "ContainersReady", Status: "False"},
		{Type: "Ready", Status: "False"},
	}}
	got := mergeStatus(old, seen)
	c := condition(got, "Initialized")
	if c == nil || c.Status != "False" || c.Reason != "ContainersNotInitialized" || !strings.Contains(c.Message, "setup") {
		t.Fatalf("Initialized while an init container runs: %+v", c)
	}
	if r := condition(got, "Ready"); r == nil || r.Status != "False" {
		t.Fatalf("Ready while initializing: %+v", r)
	}
	seen.Phase = api.PodRunning
	seen.Conditions[0] = api.PodCondition{Type: "Initialized", Status: "True"}
	seen.ContainerStatuses = []api.ContainerStatus{{Name: "app", Ready: true}}
	done := mergeStatus(got, seen)
	if c := condition(done, "Initialized"); c == nil || c.Status != "True" || c.Reason != "" {
		t.Fatalf("Initialized after the init chain: %+v", c)
	}
	if r := condition(done, "Ready"); r == nil || r.Status != "True" {
		t.Fatalf("Ready after the init chain: %+v", r)
	}
}

// A sidecar's readiness counts in the pod's, as in Kubernetes; a
// completed init container is Ready and holds nothing back.
func TestMergeStatusCountsSidecarReadiness(t *testing.T) {
	old := api.PodStatus{PodIP: "10.244.1.2", Conditions: []api.PodCondition{{Type: "PodScheduled", Status: "True"}}}
	seen := api.PodStatus{Phase: api.PodRunning,
		InitContainerStatuses: []api.ContainerStatus{{Name: "setup", Ready: true}, {Name: "proxy", Ready: false}},
		ContainerStatuses:     []api.ContainerStatus{{Name: "app", Ready: true}}}
	got := mergeStatus(old, seen)
	if r := condition(got, "Ready"); r == nil || r.Status != "False" {
		t.Fatalf("Ready with the sidecar not ready: %+v", r)
	}
	seen.InitContainerStatuses[1].Ready = true
	if r := condition(mergeStatus(got, seen), "Ready"); r == nil || r.Status != "True" {
		t.Fatalf("Ready with the sidecar ready: %+v", r)
	}
}

// One pass: what the state no longer binds here goes (its containers and
// its network), what it binds runs in its own network with the IP the
// fleet gave it, the other nodes' pod blocks are routed, and the pod's
// status goes back to the fleet with what the fleet decided kept.
func TestReconcilerRunsWhatIsBoundHereAndRemovesTheRest(t *testing.T) {
	rt := newMemRuntime("gone-pod")
	netw := &memNetwork{pods: map[string]net.IP{podNetID("gone-pod"): net.ParseIP("10.244.1.5")}}
	status := &statusLog{}
	passes := &passCount{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	pod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "new-pod"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.5", HostIP: "10.0.0.1", Conditions: []api.PodCondition{{Type: "PodScheduled", Status: "True"}}}}
	peer := func(name, cidr, addr string) api.Node {
		n := api.Node{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodeSpec{PodCIDR: cidr}}
		n.Status.Addresses = []api.NodeAddress{{Type: "InternalIP", Address: addr}}
		return n
	}
	views := newViewQueue(&Assignments{Index: 7, Pods: []api.Pod{pod},
		Nodes: []api.Node{peer("n1", "10.244.1.0/24", "10.0.0.1"), peer("n2", "10.244.2.0/24", "10.0.0.2"), peer("n3", "", "10.0.0.3")}})
	r, err := New(Config{Name: "n1", Resync: time.Minute},
		Deps{Assignments: views, Status: status, Runtime: rt, Network: netw, Fence: fence, Metrics: passes})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	if !eventually(5*time.Second, func() bool { return views.idleAfter(1) }) {
		t.Fatal("the reconciler never finished its pass")
	}
	cancel()
	<-done
	if len(status.of("new-pod")) != 1 {
		t.Fatalf("statuses reported for the pod bound here: %v, want one", status.of("new-pod"))
	}

	pods, removed := rt.state()
	if len(removed) != 1 || removed[0] != "gone-pod" {
		t.Errorf("removed %v, want the pod no longer bound here", removed)
	}
	if got, want := pods["new-pod"], "/run/netns/test-"+podNetID("new-pod"); got != want {
		t.Errorf("new pod synced with netns %q, want %q", got, want)
	}
	netw.mu.Lock()
	if len(netw.pods) != 1 || !netw.pods[podNetID("new-pod")].Equal(net.ParseIP("10.244.1.5")) {
		t.Errorf("pod networks %v, want only the new pod's with its IP", netw.pods)
	}
	if len(netw.peers) != 1 || netw.peers[0].Block.String() != "10.244.2.0/24" || !netw.peers[0].Via.Equal(net.ParseIP("10.0.0.2")) {
		t.Errorf("peer routes %v, want n2's block via n2 only", netw.peers)
	}
	netw.mu.Unlock()
	st := status.of("new-pod")[0]
	if st.Phase != api.PodRunning || st.PodIP != "10.244.1.5" || st.HostIP != "10.0.0.1" {
		t.Errorf("reported %+v", st)
	}
	if c := condition(st, "Ready"); c == nil || c.Status != "True" {
		t.Errorf("Ready condition %+v", c)
	}
	if c := condition(st, "PodScheduled"); c == nil {
		t.Error("PodScheduled dropped")
	}
	passes.mu.Lock()
	if passes.n != 1 {
		t.Errorf("%d passes observed, want 1", passes.n)
	}
	passes.mu.Unlock()
}

// A reconciler that cannot trust its view does nothing with it: a server
// that knows no leader (its fencer says so) leaves the node's pods alone.
func TestReconcilerDoesNotActWithoutContact(t *testing.T) {
	rt := newMemRuntime("running-pod")
	netw := &memNetwork{pods: map[string]net.IP{}}
	views := newViewQueue(&Assignments{Index: 3}) // binds nothing here: acted on, it would remove running-pod
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{seat: seatAt{leader: ""}})
	r, err := New(Config{Name: "n1", Resync: time.Minute},
		Deps{Assignments: views, Status: &statusLog{}, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	if !eventually(5*time.Second, func() bool { return views.idleAfter(1) }) {
		t.Fatal("the reconciler never got past its view")
	}
	cancel()
	<-done
	if pods, removed := rt.state(); len(removed) != 0 || pods["running-pod"] == "" {
		t.Fatalf("a server with no leader acted on its view: removed %v", removed)
	}
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	full := Deps{Assignments: newViewQueue(), Status: &statusLog{}, Runtime: newMemRuntime(), Network: &memNetwork{}, Fence: fence}
	if _, err := New(Config{Resync: time.Minute}, full); err == nil || !strings.Contains(err.Error(), "node name") {
		t.Errorf("no name: %v", err)
	}
	noFence := full
	noFence.Fence = nil
	if _, err := New(Config{Name: "n1", Resync: time.Minute}, noFence); err == nil || !strings.Contains(err.Error(), "fence") {
		t.Errorf("no fence: %v", err)
	}
}

// A view that changed only in the fleet's nodes (a peer turned NotReady,
// a new peer joined) updates the routes to peers and asks the runtime
// about no pod: every node gets such a view at once whenever a node is
// lost, just when the nodes given its replacements need the runtime.
func TestReconcilerPassesOverPodsOnlyWhenTheyChanged(t *testing.T) {
	rt := newMemRuntime()
	netw := &memNetwork{pods: map[string]net.IP{}}
	passes := &passCount{}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})
	pod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "p"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.5", Phase: api.PodRunning}}
	peer := func(name, cidr, addr, ready string) api.Node {
		n := api.Node{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodeSpec{PodCIDR: cidr}}
		n.Status.Addresses = []api.NodeAddress{{Type: "InternalIP", Address: addr}}
		n.Status.Conditions = []api.NodeCondition{{Type: "Ready", Status: api.ConditionStatus(ready)}}
		return n
	}
	first := &Assignments{Index: 7, Pods: []api.Pod{pod}, Nodes: []api.Node{peer("n2", "10.244.2.0/24", "10.0.0.2", "True")}}
	second := &Assignments{Index: 9, Pods: []api.Pod{pod}, Nodes: []api.Node{peer("n2", "10.244.2.0/24", "10.0.0.2", "False"), peer("n3", "10.244.3.0/24", "10.0.0.3", "True")}}
	views := newViewQueue(first, second)
	r, err := New(Config{Name: "n1", Resync: time.Minute},
		Deps{Assignments: views, Status: &statusLog{}, Runtime: rt, Network: netw, Fence: fence, Metrics: passes})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	if !eventually(5*time.Second, func() bool { return views.idleAfter(2) }) {
		t.Fatal("the reconciler never took both views")
	}
	cancel()
	<-done
	passes.mu.Lock()
	if passes.n != 1 {
		t.Errorf("%d passes over the pods, want 1: the second view changed only the nodes", passes.n)
	}
	passes.mu.Unlock()
	netw.mu.Lock()
	if len(netw.peers) != 2 {
		t.Errorf("peer routes %v, want n2's and the new n3's", netw.peers)
	}
	netw.mu.Unlock()
}
