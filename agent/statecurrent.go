package agent

import (
	"strconv"
	"sync"
)

// committedIndex is the Raft commit index this server knows, and whether
// it may serve the state as current at all. A server just restarted
// restores its last snapshot and replays its log only once a leader tells
// it what is committed; until its state machine has applied that far, its
// state lacks recent pods, and a node reconciling from it would stop pods
// that are still bound to it. Raft learns the leader a moment before the
// leader's commit index, so the commit index must also have reached the
// log this server had on disk when it started (logFloor).
func (a *Agent) committedIndex() (uint64, bool) {
	seat := a.raftSeat()
	if seat == nil {
		return 0, false
	}
	if id, _ := seat.Leader(); id == "" {
		return 0, false
	}
	st, ok := seat.(raftStats)
	if !ok {
		return 0, true
	}
	stats := st.Stats()
	commit, err := strconv.ParseUint(stats["commit_index"], 10, 64)
	if err != nil {
		return 0, false
	}
	last, err := strconv.ParseUint(stats["last_log_index"], 10, 64)
	if err != nil {
		return 0, false
	}
	return commit, commit >= a.logFloor.at(last)
}

// logFloor remembers the last log index seen first; a leader truncating an
// uncommitted tail lowers it, so it never waits for entries that will not
// commit.
type logFloor struct {
	mu    sync.Mutex
	set   bool
	floor uint64
}

func (f *logFloor) at(last uint64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.set || last < f.floor {
		f.set, f.floor = true, last
	}
	return f.floor
}
