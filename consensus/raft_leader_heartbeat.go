package consensus

import (
	"time"

	"github.com/hashicorp/raft"
)

// hashicorp/raft ties two things to one setting, HeartbeatTimeout: how
// long a follower waits without a word from its leader before it stands
// for election, and how often the leader sends each follower a heartbeat
// (a tenth of it, drawn from 1-2x). The heartbeats were a quarter of an
// idle leader's CPU and of a follower's (docs/performance.md). So a
// server runs with LeaderHeartbeatTimeout while it leads and with
// HeartbeatTimeout otherwise: the leader heartbeats less often, the
// followers' election timers (and so the recovery from a lost leader)
// stay as they were. hashicorp/raft reads HeartbeatTimeout afresh at
// every heartbeat and every follower timer (ReloadConfig); the longest
// gap between two heartbeats, LeaderHeartbeatTimeout/5, must fit in the
// lease and in the fence's contact window with a margin, which
// agent/liveness.Budget.Raft ensures.
//
// Raft's election timer is ElectionTimeout as a candidate; hashicorp/raft
// wants it no shorter than HeartbeatTimeout, so the leader's is raised
// with it (a leader runs no election timer).

// runLeaderHeartbeat switches this server's HeartbeatTimeout between
// LeaderHeartbeatTimeout while it leads and HeartbeatTimeout otherwise,
// at every change of its Raft state, until stop closes.
func (r *Raft) runLeaderHeartbeat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	// Non-blocking, so Raft never waits on this goroutine: a dropped
	// observation only means the buffer was full, and every observation
	// makes the loop read the state afresh.
	obs := make(chan raft.Observation, 8)
	o := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.RaftState)
		return ok
	})
	r.raft.RegisterObserver(o)
	defer r.raft.DeregisterObserver(o)
	leading := false
	for {
		if now := r.raft.State() == raft.Leader; now != leading {
			if err := r.setHeartbeat(now); err != nil {
				r.log.Warn("set the heartbeat timeout for this server's role", "leading", now, "err", err)
			} else {
				leading = now
			}
		}
		select {
		case <-stop:
			return
		case <-obs:
		}
	}
}

// setHeartbeat gives Raft the heartbeat timeout of a leader or of a
// follower.
func (r *Raft) setHeartbeat(leading bool) error {
	rc := r.raft.ReloadableConfig()
	rc.HeartbeatTimeout, rc.ElectionTimeout = r.cfg.HeartbeatTimeout, r.cfg.ElectionTimeout
	if leading {
		rc.HeartbeatTimeout = r.cfg.LeaderHeartbeatTimeout
		rc.ElectionTimeout = max(r.cfg.ElectionTimeout, r.cfg.LeaderHeartbeatTimeout)
	}
	return r.raft.ReloadConfig(rc)
}

// HeartbeatTimeout is the heartbeat timeout Raft runs with now.
func (r *Raft) HeartbeatTimeout() time.Duration {
	return r.raft.ReloadableConfig().HeartbeatTimeout
}
