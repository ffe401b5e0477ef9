package agent

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// stateCurrent says whether this server's state may be served to a node
// as its assignments. A server just restarted restores its last snapshot
// and replays its log only once a leader tells it what is committed; until
// then its state lacks recent pods, and a node reconciling from it would
// stop pods that are still bound to it.
//
// Current means: a leader is known; the commit index the leader sent has
// reached the log this server had when it started (Raft learns the leader
// a moment before the commit index, which would otherwise be stale); Raft
// has handed every committed entry to the state machine; and the state
// machine has applied them. The last step has no direct signal, because
// entries that are not commands (a new leader's no-op) never reach the
// state machine and its index stays below the commit index: the state
// machine counts as caught up when it reached the commit index or stopped
// moving for settleTime. Once current, a server stays so; a server cut off
// from the leader is kept from acting by agent/fencing.go.
func (a *Agent) stateCurrent(ctx context.Context) bool {
	seat := a.raftSeat()
	if seat == nil || a.fsm() == nil {
		return false
	}
	if id, _ := seat.Leader(); id == "" {
		return false
	}
	if a.logFloor.current() {
		return true
	}
	st, ok := seat.(raftStats)
	if !ok {
		return true
	}
	stats := st.Stats()
	commit, err1 := strconv.ParseUint(stats["commit_index"], 10, 64)
	last, err2 := strconv.ParseUint(stats["last_log_index"], 10, 64)
	applied, err3 := strconv.ParseUint(stats["applied_index"], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || commit < a.logFloor.at(last) || applied < commit {
		return false
	}
	for a.fsm().Index() < commit {
		before := a.fsm().Index()
		wctx, cancel := context.WithTimeout(ctx, settleTime)
		_, err := a.fsm().WaitIndex(wctx, before)
		cancel()
		if ctx.Err() != nil {
			return false
		}
		if err != nil && a.fsm().Index() == before {
			break // settled: the rest are not commands
		}
	}
	a.logFloor.markCurrent()
	return true
}

// settleTime is how long the state machine must stand still, with every
// committed entry handed to it, to count as caught up.
const settleTime = 300 * time.Millisecond

// logFloor remembers the last log index seen first; a leader truncating an
// uncommitted tail lowers it, so it never waits for entries that will not
// commit.
type logFloor struct {
	mu      sync.Mutex
	set     bool
	floor   uint64
	reached bool
}

func (f *logFloor) at(last uint64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.set || last < f.floor {
		f.set, f.floor = true, last
	}
	return f.floor
}

func (f *logFloor) current() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reached
}

func (f *logFloor) markCurrent() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reached = true
}
