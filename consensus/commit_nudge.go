package consensus

import (
	"github.com/hashicorp/raft"
)

// A follower learns that an entry committed only from the leader's next
// AppendEntries: hashicorp/raft's heartbeats carry no commit index (they
// must not wait on a follower's disk), so the leader sends every follower
// an AppendEntries with nothing new each CommitTimeout (drawn from 1-2x
// it) in case commits stopped flowing. At 50 ms that was about 13 RPCs a
// second to each follower in an idle fleet, with a log read and an
// encoding each, about half an idle leader's CPU (docs/performance.md).
//
// Instead the leader pushes the commit index out as soon as a write it
// made commits: it appends a barrier, an entry with no command, whose
// AppendEntries carries the commit index of every entry before it. The
// followers then learn a commit one round trip after the leader (sooner
// than the 50-100 ms of before), and CommitTimeout (500 ms by default) is
// only the safety net for entries this server did not wait for itself
// (an election's no-op, a write whose caller stopped waiting).
//
// Nudges coalesce: while a barrier is on its way, further nudges become
// one more barrier after it, so a burst of writes adds at most one entry
// per round of replication, and an idle fleet (a Lease entry every 10 s)
// one entry per write.

// nudgeCommit asks for the commit index to be pushed to the followers
// now; it never blocks.
func (r *Raft) nudgeCommit() {
	select {
	case r.nudge <- struct{}{}:
	default:
	}
}

// runCommitNudges appends a barrier for each nudge while this server
// leads, until stop closes.
func (r *Raft) runCommitNudges(stop <-chan struct{}) {
	defer close(r.nudged)
	for {
		select {
		case <-stop:
			return
		case <-r.nudge:
		}
		if r.raft.State() != raft.Leader {
			continue
		}
		// A barrier still queued when the server shuts down is never
		// answered: stop waits for it no longer.
		f := r.raft.Barrier(r.cfg.TransportTimeout)
		done := make(chan error, 1)
		go func() { done <- f.Error() }()
		select {
		case err := <-done:
			if err != nil {
				r.log.Debug("commit nudge", "err", err)
			}
		case <-stop:
			return
		}
	}
}
