package controllers

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// fakeFleet is gossip's view, set by the test; the real one is package
// agent's membership (wire_controllers.go), which the e2e fleets run.
type fakeFleet struct {
	mu      sync.Mutex
	members []Member
	joins   []string
	changed chan struct{} // made by Changes, closed by set
	// onJoin, when set, is what gossip does when the leader invites
	// addr; it runs without the lock held.
	onJoin func(addr string) error
}

func (f *fakeFleet) Members() []Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.members)
}

func (f *fakeFleet) Changes() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// set replaces gossip's view and tells those waiting on Changes.
func (f *fakeFleet) set(members ...Member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members = members
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// member is gossip's view of one member, and whether it knows it.
func (f *fakeFleet) member(name string) (Member, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.members {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

func (f *fakeFleet) Join(addrs []string) error {
	f.mu.Lock()
	f.joins = append(f.joins, addrs...)
	onJoin := f.onJoin
	f.mu.Unlock()
	if onJoin == nil {
		return nil
	}
	var errs []error
	for _, a := range addrs {
		errs = append(errs, onJoin(a))
	}
	return errors.Join(errs...)
}

func (f *fakeFleet) joined(addr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.joins, addr)
}

// testLeader is the controllers on the leader of a one-seat in-memory
// cluster.
func testLeader(t testing.TB, cfg Config, deps Deps) (*Leader, *consensus.TestServer) {
	t.Helper()
	s := consensus.NewTestCluster(t, 1).Leader()
	cfg.Log = slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		cfg.Log = slog.Default()
	}
	deps.State, deps.Seat = s.FSM, s.Raft
	l, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return l, s
}

func apply(t testing.TB, s *consensus.TestServer, cmd consensus.Command) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Raft.Apply(ctx, cmd); err != nil {
		t.Fatalf("apply %T: %v", cmd, err)
	}
}

// registerReady registers m's node as the node controller does and marks
// it Ready.
func registerReady(t testing.TB, s *consensus.TestServer, m Member) {
	t.Helper()
	apply(t, s, consensus.RegisterNode{Node: *nodeFromMember(m, "test"), Time: time.Now().UTC()})
	apply(t, s, consensus.SetNodeCondition{Name: m.Name, Ready: true, Reason: "AgentReady", Time: time.Now().UTC()})
}

// boundPod creates a pod and binds it to node; owner "" is a bare pod.
func boundPod(t *testing.T, s *consensus.TestServer, name, owner, node string) {
	t.Helper()
	boundPodTolerating(t, s, name, owner, node, nil)
}

// boundPodTolerating is boundPod with the pod's tolerations.
func boundPodTolerating(t *testing.T, s *consensus.TestServer, name, owner, node string, tolerations []api.Toleration) {
	t.Helper()
	p := api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}, Tolerations: tolerations}}
	p.APIVersion, p.Kind = "v1", "Pod"
	if owner != "" {
		// The state refuses a pod for a controller it does not hold.
		if _, err := s.FSM.Controller(api.KindReplicationController, "default", owner); consensus.IsNotFound(err) {
			replicas := int32(0)
			rc := &api.ReplicationController{ObjectMeta: api.ObjectMeta{Name: owner, Namespace: "default"},
				Spec: api.ReplicationControllerSpec{Replicas: &replicas, Selector: map[string]string{"app": owner}, Template: &api.PodTemplateSpec{
					ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": owner}},
					Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}}}
			apply(t, s, consensus.ApplyController{RC: rc, Create: true, UID: api.UID(owner + "-uid"), Time: time.Now().UTC()})
		}
		yes := true
		p.ObjectMeta.OwnerReferences = []api.OwnerReference{{APIVersion: "v1", Kind: api.KindReplicationController, Name: owner, UID: api.UID(owner + "-uid"), Controller: &yes}}
	}
	uid := api.UID("uid-" + name)
	apply(t, s, consensus.CreatePod{Pod: p, UID: uid, Time: time.Now().UTC()})
	ip, err := s.FSM.FreePodIP(node)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, consensus.BindPod{Namespace: "default", Name: name, UID: uid, Node: node, PodIP: ip.String(), Time: time.Now().UTC()})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
