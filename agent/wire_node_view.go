package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
	ctx, cancel := context.WithTimeout(ctx, wait+fetchSlack)
	defer cancel()
	q := url.Values{"index": {fmt.Sprint(after)}, "wait": {wait.String()}}
	if held != "" && after > 0 {
		q.Set("view", held)
	}
	u := "http://" + h.c.addr + "/shoal/v1/nodes/" + url.PathEscape(h.c.name) + "/assignments?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("assignments: HTTP %d", resp.StatusCode)
	}
	var v assignmentsView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("decode assignments: %w", err)
	}
	h.mu.Lock()
	h.last = v.View
	h.mu.Unlock()
	return &node.Assignments{Index: v.Index, Pods: v.Pods, Nodes: v.Nodes}, nil
}
