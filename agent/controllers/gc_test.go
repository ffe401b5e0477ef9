package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// An object whose owner never existed (or went before deletes cascaded)
// is deleted by the collector; one whose owner lives stays, and so does
// one whose owner is of a kind shoal does not store, or whose owner's name
// holds another object now.
func TestGarbageCollectorDeletesObjectsOfGoneOwners(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	secret := func(name string, owners ...api.OwnerReference) {
		t.Helper()
		sec := api.Secret{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", OwnerReferences: owners}}
		apply(t, s, consensus.ApplySecret{Secret: sec, Create: true, UID: api.UID("s-" + name), Time: time.Now().UTC()})
	}
	secret("owner")
	secret("kept", api.OwnerReference{APIVersion: "v1", Kind: "Secret", Name: "owner", UID: "s-owner"})
	secret("foreign", api.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "never-was"})
	secret("gone", api.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "never-was"})
	// the name holds an object, but not the owner it names
	secret("renamed", api.OwnerReference{APIVersion: "v1", Kind: "Secret", Name: "owner", UID: "an-older-owner"})
	secret("half", api.OwnerReference{APIVersion: "v1", Kind: "Secret", Name: "owner", UID: "s-owner"},
		api.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "never-was"})

	if n := l.collectGarbage(ctx, s.FSM); n != 2 {
		t.Fatalf("collected %d objects, want 2", n)
	}
	for _, name := range []string{"gone", "renamed"} {
		if _, err := s.FSM.Secret("default", name); !consensus.IsNotFound(err) {
			t.Fatalf("%s: %v, want NotFound", name, err)
		}
	}
	for _, name := range []string{"owner", "kept", "foreign", "half"} {
		if _, err := s.FSM.Secret("default", name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if n := l.collectGarbage(ctx, s.FSM); n != 0 {
		t.Fatalf("second pass collected %d, want 0", n)
	}
}
