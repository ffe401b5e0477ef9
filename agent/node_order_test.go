package agent

import (
	"context"
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
