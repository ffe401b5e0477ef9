package agent

import (
	"context"
	"errors"
	"time"
)

// ErrCrash, as the cause of the context an agent runs under
// (context.WithCancelCause), stops the agent as a killed process stops:
// it leaves gossip without a goodbye, so the fleet finds it failed by
// probing, as it finds a machine that lost power. The sim kills hollow
// nodes this way; every other stop leaves gracefully.
var ErrCrash = errors.New("agent crashed")

// stopGossip leaves the fleet when the agent stops, unless it crashed.
func (a *Agent) stopGossip(ctx context.Context) {
	defer a.members.stopRemembering() // membership_peers.go
	if !errors.Is(context.Cause(ctx), ErrCrash) {
		a.members.leave(2 * time.Second)
		return
	}
	if err := a.members.list.Shutdown(); err != nil {
		a.log.Warn("stop gossip", "err", err)
	}
}
