package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

func TestGarbageDecisions(t *testing.T) {
	live := map[api.UID]bool{"rs-1": true}
	ref := func(kind, apiVersion string, uid api.UID) api.OwnerReference {
		return api.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: "o", UID: uid}
	}
	refs := []consensus.ObjectRef{
		{Name: "bare"},
		{Name: "owned", OwnerReferences: []api.OwnerReference{ref("ReplicaSet", "apps/v1", "rs-1")}},
		{Name: "dangling", OwnerReferences: []api.OwnerReference{ref("ReplicaSet", "apps/v1", "rs-gone")}},
		{Name: "half", OwnerReferences: []api.OwnerReference{ref("ReplicaSet", "apps/v1", "rs-gone"), ref("ReplicaSet", "apps/v1", "rs-1")}},
		{Name: "foreign", OwnerReferences: []api.OwnerReference{ref("Job", "batch/v1", "job-gone")}},
		{Name: "both-gone", OwnerReferences: []api.OwnerReference{ref("Pod", "v1", "p-gone"), ref("Secret", "v1", "s-gone")}},
	}
	got := garbage(refs, live)
	if len(got) != 2 || got[0].Name != "dangling" || got[1].Name != "both-gone" {
		t.Fatalf("garbage %+v, want dangling and both-gone", got)
	}
}

// An object whose owner never existed (or went before deletes cascaded)
// is deleted by the collector; one whose owner lives stays.
func TestGarbageCollectorDeletesObjectsOfGoneOwners(t *testing.T) {
	l, s := testLeader(t, Config{NodeGrace: time.Second}, Deps{Members: &fakeFleet{}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	owner := api.Secret{ObjectMeta: api.ObjectMeta{Name: "owner", Namespace: "default"}}
	apply(t, s, consensus.ApplySecret{Secret: owner, Create: true, UID: "s-owner", Time: time.Now().UTC()})
	kept := api.Secret{ObjectMeta: api.ObjectMeta{Name: "kept", Namespace: "default",
		OwnerReferences: []api.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: "owner", UID: "s-owner"}}}}
	apply(t, s, consensus.ApplySecret{Secret: kept, Create: true, UID: "s-kept", Time: time.Now().UTC()})
	gone := api.Secret{ObjectMeta: api.ObjectMeta{Name: "gone", Namespace: "default",
		OwnerReferences: []api.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "never-was"}}}}
	apply(t, s, consensus.ApplySecret{Secret: gone, Create: true, UID: "s-gone", Time: time.Now().UTC()})

	if n := l.collectGarbage(ctx, s.FSM); n != 1 {
		t.Fatalf("collected %d objects, want 1", n)
	}
	if _, err := s.FSM.Secret("default", "gone"); !consensus.IsNotFound(err) {
		t.Fatalf("gone: %v, want NotFound", err)
	}
	if _, err := s.FSM.Secret("default", "kept"); err != nil {
		t.Fatalf("kept: %v", err)
	}
	if n := l.collectGarbage(ctx, s.FSM); n != 0 {
		t.Fatalf("second pass collected %d, want 0", n)
	}
}
