package apiserver

import (
	"context"
	"net/http"
)

// A write's answer is linearizable only if whatever the leader read to
// give it was current. Writes that reach Raft are decided by the state
// machine in log order, but a handler also reads the leader's own state
// first (a delete looks the object up for its UID precondition) and may
// answer from that read alone. Two states were stale there, both found by
// the chaos history checker (seed 68, kill-two-seats: a delete answered
// 404 for a Secret that an acknowledged create had made and every later
// read returned):
//   - a new leader's: it leads before its state machine has applied the
//     entries of the term it inherited (a server restarted from disk
//     replays its log only once it learns the commit index), so viaLeader
//     passes a Barrier of its term before it runs any write handler;
//   - a leader cut off from its quorum: it believes it leads until its
//     lease runs out while a newer leader acknowledges writes it has not
//     seen, so an answer read from the state alone ("not found") is
//     confirmed current first (readBarrier: VerifyLeader).

// NotWrittenHeader, set to "true" on an error answer, says the agent
// wrote nothing for the request: it reached no leader, or the leader
// refused it before proposing anything. Without it a 5xx (or a request
// with no answer) may or may not have been applied, as in Kubernetes. The
// header passes back unchanged through the agents that forwarded the
// request; one that fails itself while forwarding answers without it.
const NotWrittenHeader = "X-Shoal-Not-Written"

// leaderCurrent makes sure the leader's state holds everything committed
// before its term began: once per term, the first write waits for a
// Barrier (which the leader's controllers also pass before they act).
func (srv *Server) leaderCurrent(ctx context.Context) error {
	seat := srv.raft()
	if seat.LeaderReady() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readIndexWait)
	defer cancel()
	return seat.Barrier(ctx)
}

// writeNotWritten answers 503 with Retry-After for a write refused before
// anything was proposed, saying so in NotWrittenHeader.
func writeNotWritten(w http.ResponseWriter, msg string) {
	w.Header().Set(NotWrittenHeader, "true")
	writeRetryLater(w, http.StatusServiceUnavailable, "ServiceUnavailable", msg+"; nothing was written, retry in a moment")
}
