package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

func TestMissingNamespaces(t *testing.T) {
	have := []*api.Namespace{{ObjectMeta: api.ObjectMeta{Name: "default"}}, {ObjectMeta: api.ObjectMeta{Name: "team"}}}
	refs := []consensus.ObjectRef{{Namespace: "team"}, {Namespace: "custom-namespace"}, {Namespace: "default"}}
	got := missingNamespaces(have, refs)
	want := []string{"custom-namespace", "kube-node-lease", "kube-public", "kube-system"}
	if len(got) != len(want) {
		t.Fatalf("missing %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("missing %v, want %v", got, want)
		}
	}
}

// The controller stores the system namespaces and one for objects that
// live in a namespace with no Namespace (a state from before), and a
// deleted Namespace goes with everything in it.
func TestNamespaceControllerEnsuresAndFinalizes(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sec := api.Secret{ObjectMeta: api.ObjectMeta{Name: "old", Namespace: "legacy"}}
	apply(t, s, consensus.ApplySecret{Secret: sec, Create: true, UID: "s-old", Time: time.Now().UTC()})

	if !l.ensureNamespaces(ctx, s.FSM) {
		t.Fatal("ensureNamespaces failed")
	}
	for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease", "legacy"} {
		if n, err := s.FSM.Namespace(name); err != nil || n.Status.Phase != api.NamespaceActive {
			t.Fatalf("namespace %s: %+v, %v", name, n, err)
		}
	}
	if !l.ensureNamespaces(ctx, s.FSM) {
		t.Fatal("second ensureNamespaces failed")
	}

	apply(t, s, consensus.DeleteNamespace{Name: "legacy", Time: time.Now().UTC()})
	if n, _ := s.FSM.Namespace("legacy"); n.Status.Phase != api.NamespaceTerminating {
		t.Fatalf("after delete: %+v, want Terminating", n.Status)
	}
	l.finalizeNamespaces(ctx, s.FSM)
	if _, err := s.FSM.Namespace("legacy"); !consensus.IsNotFound(err) {
		t.Fatalf("after finalize: %v, want NotFound", err)
	}
	if _, err := s.FSM.Secret("legacy", "old"); !consensus.IsNotFound(err) {
		t.Fatalf("its secret: %v, want NotFound", err)
	}
	if _, err := s.FSM.Namespace("default"); err != nil {
		t.Fatalf("default: %v", err)
	}
}
