package agent

import (
	"context"
	"errors"
	"time"
)

// handoverTimeout bounds how long a stopping leader waits for another
// seat to take over; hashicorp/raft gives a transfer one election timeout.
const handoverTimeout = 3 * time.Second

// handOverLeadership hands leadership to the most current other voter
// when the leader stops on purpose (systemctl restart during an upgrade,
// docs/operations.md), as Consul and Nomad servers do on a graceful
// leave. Without it the other seats hear nothing until Raft's heartbeat
// timeout and an election have passed, which is longer than a node's
// FenceAfter at the default grace: every follower seat found itself cut
// off and stopped its controller-managed pods during a leader's restart
// (the machines lab's rolling upgrade). A crash (ctx's cause ErrCrash) has
// no chance to do this, and a failed hand-over only leaves the election
// to Raft, as before.
func (a *Agent) handOverLeadership(ctx context.Context, seat raftLog) {
	if errors.Is(context.Cause(ctx), ErrCrash) || !seat.IsLeader() {
		return
	}
	tctx, cancel := context.WithTimeout(context.Background(), handoverTimeout)
	defer cancel()
	if err := seat.TransferLeadership(tctx, ""); err != nil {
		a.log.Info("could not hand leadership on before stopping; the seats will elect a leader", "err", err)
		return
	}
	a.log.Info("handed leadership on before stopping")
}
