package apiserver

import (
	"context"
	"errors"
	"sync"
)

// errTargetGone cuts a forwarded request whose target gossip declared
// failed.
var errTargetGone = errors.New("gossip declared the agent this request was forwarded to failed")

// errNoAnswerInTime cuts a forwarded write whose leader sent no answer
// within leaderAnswerWait.
var errNoAnswerInTime = errors.New("no answer in time")

// inFlight is the requests this agent has forwarded and not yet answered,
// by target. A target cut off from this agent (packets dropped, no reset)
// never answers: without this, a client's assignments query, its watches
// and its writes to its home server waited out their own timeouts (10-15
// s) after gossip had declared that server failed, and the node started
// the replicas the leader gave it late by as much (chaos seed 14,
// kill-client+partition-server: 16.7 s).
type inFlight struct {
	mu       sync.Mutex
	byTarget map[string]map[*context.CancelCauseFunc]struct{}
}

// add records a request forwarded to target; the returned func forgets it.
func (f *inFlight) add(target string, cancel context.CancelCauseFunc) (done func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byTarget == nil {
		f.byTarget = map[string]map[*context.CancelCauseFunc]struct{}{}
	}
	set := f.byTarget[target]
	if set == nil {
		set = map[*context.CancelCauseFunc]struct{}{}
		f.byTarget[target] = set
	}
	key := &cancel
	set[key] = struct{}{}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(set, key)
		if cur, ok := f.byTarget[target]; ok && len(cur) == 0 {
			delete(f.byTarget, target)
		}
	}
}

// cut cancels every request in flight to the given targets, and answers
// how many it cut.
func (f *inFlight) cut(targets []string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, target := range targets {
		for c := range f.byTarget[target] {
			(*c)(errTargetGone)
			n++
		}
		delete(f.byTarget, target)
	}
	return n
}

// CutForwardsTo cancels the requests this agent forwarded to the given
// API addresses, of agents gossip declared failed: each caller gets the
// 502 of a target that did not answer (a write's outcome unknown, as
// ever) and retries, on a live server. It answers how many it cut.
func (srv *Server) CutForwardsTo(targets ...string) int {
	n := srv.inflight.cut(targets)
	if n > 0 {
		srv.log.Info("cut requests forwarded to an agent gossip declared failed", "requests", n, "to", targets)
	}
	return n
}
