package agent

import (
	"context"
)

// stateCurrent says whether this server's state may be served to a node
// as its assignments: a node removes what they do not list, so a state
// that lacks recent pods (a server just restarted, a leader that has not
// yet applied what its predecessor committed) would stop pods that are
// still bound to it. consensus.Raft.CaughtUp decides; anything this agent
// cannot check counts as not current. Once current, a follower stays so;
// a server cut off from the leader is kept from acting by
// agent/fencing.go.
func (a *Agent) stateCurrent(ctx context.Context) bool {
	seat := a.raftSeat()
	if seat == nil || a.fsm() == nil {
		a.log.Debug("state not current: this agent holds no Raft seat")
		return false
	}
	return seat.CaughtUp(ctx)
}
