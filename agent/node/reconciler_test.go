package node

import (
	"context"
	"strings"
	"sync"
	"testing"

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
