package agent

import (
	"context"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/agent/node"
)

// heldView is the reconciler's source of assignments: it names the view
// it last received (agent/apiserver/assignments_view.go), so the server
// holds the query past changes elsewhere in the fleet and the node wakes
// only when what it runs or routes changed, or when its resync is due.
// The Services follower keeps the plain query: it wakes on every change.
type heldView struct {
	c    nodeAPIClient
	mu   sync.Mutex
	last string // the view the last answer named
}

func (h *heldView) Assignments(ctx context.Context, after uint64, wait time.Duration) (*node.Assignments, error) {
	h.mu.Lock()
	held := h.last
	h.mu.Unlock()
	if after == 0 {
		held = "" // a first query takes the fleet as it is
	}
	v, err := h.c.fetchAssignments(ctx, after, wait, held)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.last = v.View
	h.mu.Unlock()
	return &node.Assignments{Index: v.Index, Pods: v.Pods, Nodes: v.Nodes}, nil
}
