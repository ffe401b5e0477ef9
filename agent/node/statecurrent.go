package node

import (
	"context"
	"log/slog"
)

// StateCurrent says whether this server's state may be served to a node
// as its assignments: a node removes what they do not list, so a state
// that lacks recent pods (a server just restarted, a leader that has not
// yet applied what its predecessor committed) would stop pods that are
// still bound to it. consensus.Raft.CaughtUp decides; anything this agent
// cannot check counts as not current: seat is nil on an agent without a
// Raft seat. Once current, a follower stays so; a server cut off from the
// leader is kept from acting by the Fencer.
func StateCurrent(ctx context.Context, seat Seat, log *slog.Logger) bool {
	if seat == nil {
		log.Debug("state not current: this agent holds no Raft seat")
		return false
	}
	return seat.CaughtUp(ctx)
}
