package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// readiness is what a server learned about how current its state is.
type readiness struct {
	mu sync.Mutex
	// floor is the last log index this server held when it opened,
	// lowered when a leader truncates an uncommitted tail (so it never
	// waits for entries that will not commit).
	floor uint64
	// caughtUp: the state machine once reached the floor's commit. A
	// follower stays caught up afterwards; the agent's fencing keeps a
	// server cut off later from acting.
	caughtUp bool

	// leaderTerm is the term in which a Barrier last succeeded while this
	// server led: its state holds everything committed before it led.
	leaderTerm atomic.Uint64
	// verified is when (unix nanoseconds) a quorum last confirmed this
	// server's leadership (VerifyLeader, Barrier).
	verified atomic.Int64
}

// Barrier waits until every entry committed before it is applied to the
// local state machine. A new leader calls it before its controllers act:
// until then its state may lack entries the previous leader committed.
// Leader only.
func (r *Raft) Barrier(ctx context.Context) error {
	term := r.raft.CurrentTerm()
	defer r.nudgeCommit()
	if err := waitFuture(ctx, r.raft.Barrier(timeoutOf(ctx))); err != nil {
		return fmt.Errorf("barrier in term %d: %w", term, err)
	}
	// The barrier entry was committed by a quorum in term: if this server
	// still leads that term, its state holds all the term inherited.
	if r.raft.State() == raft.Leader && r.raft.CurrentTerm() == term {
		r.ready.leaderTerm.Store(term)
		r.ready.verified.Store(time.Now().UnixNano())
	}
	return nil
}

// LeaderReady reports whether this server leads and a Barrier succeeded
// in its current term, so its state is as new as the fleet's.
func (r *Raft) LeaderReady() bool {
	if r.raft.State() != raft.Leader {
		return false
	}
	t := r.ready.leaderTerm.Load()
	return t != 0 && t == r.raft.CurrentTerm()
}

// VerifyLeader confirms with a quorum that this server still leads: a
// leader cut off from the others keeps believing it leads until its lease
// runs out, and must not act on that belief.
func (r *Raft) VerifyLeader(ctx context.Context) error {
	if err := waitFuture(ctx, r.raft.VerifyLeader()); err != nil {
		return fmt.Errorf("verify leadership of %s: %w", r.cfg.ID, err)
	}
	r.ready.verified.Store(time.Now().UnixNano())
	return nil
}

// LastContact is when this server last knew itself in touch with the
// leader: on a follower, when the leader's last message reached it; on
// the leader, when a quorum last confirmed its leadership (VerifyLeader or
// Barrier). Zero when never, and on a candidate or a stopped server.
func (r *Raft) LastContact() time.Time {
	switch r.raft.State() {
	case raft.Follower:
		if id, _ := r.Leader(); id == "" {
			return time.Time{}
		}
		return r.raft.LastContact()
	case raft.Leader:
		if ns := r.ready.verified.Load(); ns != 0 {
			return time.Unix(0, ns)
		}
	}
	return time.Time{}
}

// CaughtUp reports whether this server's state machine holds every entry
// known to be committed, so that its state may be served to a node as its
// assignments (a node removes what they do not list). A server just
// restarted restores its last snapshot and replays its log only once a
// leader tells it what is committed; until then its state lacks recent
// pods.
//
// A follower is caught up when a leader is known, the commit index the
// leader sent has reached the log this server had when it opened (Raft
// learns the leader a moment before the commit index, which would
// otherwise be stale), Raft has handed every committed entry to the state
// machine, and the state machine has applied the last command among them
// (entries that are not commands, like a new leader's no-op, never reach
// it). CaughtUp waits for that last step at most until ctx ends. Once
// caught up, a follower stays so. A leader is caught up only once a
// Barrier of its current term succeeded (LeaderReady). A candidate, a
// stopped server, or a log it cannot read is never caught up.
func (r *Raft) CaughtUp(ctx context.Context) bool {
	switch r.raft.State() {
	case raft.Leader:
		return r.LeaderReady()
	case raft.Follower:
	default:
		return false
	}
	if id, _ := r.Leader(); id == "" {
		return false
	}
	r.ready.mu.Lock()
	done := r.ready.caughtUp
	if last := r.raft.LastIndex(); last < r.ready.floor {
		r.ready.floor = last
	}
	floor := r.ready.floor
	r.ready.mu.Unlock()
	if done {
		return true
	}
	commit, applied := r.raft.CommitIndex(), r.raft.AppliedIndex()
	if commit < floor || applied < commit {
		return false
	}
	need, err := r.lastCommand(applied, r.fsm.Index())
	if err != nil {
		r.log.Warn("not caught up: cannot read the log", "applied_index", applied, "err", err)
		return false
	}
	if need > r.fsm.Index() {
		if _, err := r.fsm.WaitIndex(ctx, need-1); err != nil {
			return false
		}
	}
	r.ready.mu.Lock()
	r.ready.caughtUp = true
	r.ready.mu.Unlock()
	return true
}

// lastCommand is the index of the last command entry in (above, upTo],
// 0 when there is none. Entries the log no longer holds were compacted
// into a snapshot, which the state machine restored before Raft counted
// them applied.
func (r *Raft) lastCommand(upTo, above uint64) (uint64, error) {
	var l raft.Log
	for i := upTo; i > above; i-- {
		err := r.stores.Log.GetLog(i, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read log entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand {
			return i, nil
		}
	}
	return 0, nil
}

// TransferLeadership hands leadership to the server id, or to the most
// current other voter when id is empty: a leader that cannot make its
// state current (its Barrier fails) steps back this way. Leader only.
func (r *Raft) TransferLeadership(ctx context.Context, id string) error {
	var f raft.Future
	if id == "" {
		f = r.raft.LeadershipTransfer()
	} else {
		servers, err := r.Servers()
		if err != nil {
			return err
		}
		var addr string
		for _, s := range servers {
			if s.ID == id {
				addr = s.Address
			}
		}
		if addr == "" {
			return fmt.Errorf("transfer leadership to %s: not in the configuration", id)
		}
		f = r.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(addr))
	}
	if err := waitFuture(ctx, f); err != nil {
		return fmt.Errorf("transfer leadership from %s to %q: %w", r.cfg.ID, id, err)
	}
	return nil
}
