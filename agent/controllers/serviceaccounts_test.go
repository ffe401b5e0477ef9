package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// Every active Namespace gets a `default` ServiceAccount, also one made
// later and again after the default is deleted; a Terminating one gets
// none, and its finalization takes the one it had.
func TestServiceAccountControllerKeepsADefaultInEveryNamespace(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"default", "team"} {
		apply(t, s, consensus.ApplyNamespace{Namespace: api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}, Create: true, UID: api.UID("ns-" + name), Time: time.Now().UTC()})
	}
	done := make(chan struct{})
	go func() { l.serviceAccountController(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitDefault := func(ns string) *api.ServiceAccount {
		t.Helper()
		for ctx.Err() == nil {
			if sa, err := s.FSM.ServiceAccount(ns, "default"); err == nil {
				return sa
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("namespace %s has no default ServiceAccount", ns)
		return nil
	}
	waitDefault("default")
	first := waitDefault("team")
	apply(t, s, consensus.ApplyNamespace{Namespace: api.Namespace{ObjectMeta: api.ObjectMeta{Name: "later"}}, Create: true, UID: "ns-later", Time: time.Now().UTC()})
	waitDefault("later")
	apply(t, s, consensus.DeleteObject{Kind: consensus.KindServiceAccount, Namespace: "team", Name: "default"})
	if again := waitDefault("team"); again.UID == first.UID {
		t.Fatalf("re-made default kept the deleted one's UID %s", again.UID)
	}

	apply(t, s, consensus.DeleteNamespace{Name: "team", Time: time.Now().UTC()})
	apply(t, s, consensus.FinalizeNamespace{Name: "team", UID: "ns-team"})
	if _, err := s.FSM.ServiceAccount("team", "default"); !consensus.IsNotFound(err) {
		t.Fatalf("default of a deleted namespace: %v, want NotFound", err)
	}
	if got := missingDefaultServiceAccounts(s.FSM, s.FSM); len(got) != 0 {
		t.Fatalf("missing after the namespace went: %v", got)
	}
}
