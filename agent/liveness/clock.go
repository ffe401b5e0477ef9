package liveness

import (
	"sync"
	"time"
)

// Clock is the leader's reckoning of how long each agent has been out of
// contact: since when a condition (gossip holds it failed, a voter runs
// without its seat) has held without a break. A blip that ends before the
// grace resets it, so it moves nothing.
type Clock struct {
	mu    sync.Mutex
	since map[string]time.Time
	// seen marks agents observed in good standing since the last Reset:
	// only the transition from there is gossip's fresh verdict, for which
	// the silence before it can be credited.
	seen map[string]bool
}

// Down returns how long the named agent has been down by the clock: 0 when
// it is up (its clock stops), otherwise the time since it was first seen
// down, plus credit when this call is the first to see it down after it
// was seen up (the silence gossip's verdict proves, Config.VerdictCredit).
func (c *Clock) Down(name string, up bool, credit time.Duration, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.since == nil {
		c.since, c.seen = map[string]time.Time{}, map[string]bool{}
	}
	if up {
		delete(c.since, name)
		c.seen[name] = true
		return 0
	}
	t, ok := c.since[name]
	if !ok {
		t = now
		if c.seen[name] {
			t = now.Add(-credit)
		}
		c.since[name] = t
		delete(c.seen, name)
	}
	return now.Sub(t)
}

// Reset forgets every clock. A leader calls it when its term begins: what
// it last saw while it led before may be stale by now (the agent may have
// come back and gone again), and a clock that starts late only delays a
// replacement, while one that starts early could replace a node's pods
// before the node has stopped them.
func (c *Clock) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since, c.seen = nil, nil
}
