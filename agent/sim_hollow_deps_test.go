package agent

import (
	"testing"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/agent/node/hollow"
)

// A hollow node's reconciler is given its runtime's changes, as a real
// node's is given containerd's: without them it re-reads its whole
// assignments view every Resync (2 s) instead of every steady resync.
func TestHollowNodeReconcilerFollowsItsRuntimesChanges(t *testing.T) {
	rt := hollow.NewRuntime()
	d := hollowNodeDeps(rt, hollow.NewNetwork(), node.Deps{})
	if d.Changes == nil {
		t.Fatal("the hollow node's reconciler has no runtime changes: it resyncs every Resync")
	}
	if d.Runtime != node.PodRuntime(rt) {
		t.Fatal("the reconciler does not run the backend's runtime")
	}
	select {
	case <-d.Changes.Changes():
		t.Fatal("a hollow runtime signalled a change of its own")
	default:
	}
}
