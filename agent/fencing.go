package agent

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// fencer keeps a node from running a replica twice. The node reconciler
// acts only while the agent is in contact with the fleet's current state
// (lastContact); a node cut off for longer than the grace period stops its
// controller-managed pods itself, because by then the leader has declared
// it lost and its replicas run elsewhere. When contact returns, the
// reconciler sees the fresh assignments: pods no longer bound here are
// removed as unclaimed, and only what is still bound here runs again.
type fencer struct {
	mu          sync.Mutex
	lastFetch   time.Time       // a server answered the assignments query
	lastContact time.Time       // contactNow last held
	managed     map[string]bool // UIDs of controller-managed pods in the last view
	fenced      bool            // managed pods were stopped for lack of contact
}

// fetched records a successful read of this node's assignments.
func (f *fencer) fetched(view *assignmentsView) {
	managed := map[string]bool{}
	for i := range view.Pods {
		if api.ControllerOf(&view.Pods[i]) != nil {
			managed[view.Pods[i].Metadata.UID] = true
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastFetch = time.Now()
	f.managed = managed
}

// raftStats is what fencing reads of a Raft seat.
type raftStats interface {
	Stats() map[string]string
	AppliedIndex() uint64
}

// lastContact returns when this agent last knew it was in touch with the
// fleet's current state, and whether it trusts its view now. A server is
// in touch while a leader's heartbeats reach it (or it leads), and trusts
// its view once it has applied everything known to be committed, so a
// server back from a partition or a restart does not act on its stale
// log. A client is in touch while a server answers its assignments query.
func (a *Agent) lastContact(now time.Time) (time.Time, bool) {
	grace := a.cfg.nodeGrace()
	if seat := a.raftSeat(); seat != nil {
		if id, _ := seat.Leader(); id == "" {
			return time.Time{}, false
		}
		if seat.IsLeader() {
			return now, true
		}
		st, ok := seat.(raftStats)
		if !ok {
			return now, true
		}
		stats := st.Stats()
		d, err := time.ParseDuration(stats["last_contact"])
		if err != nil {
			return time.Time{}, false
		}
		commit, err := strconv.ParseUint(stats["commit_index"], 10, 64)
		// Followers hear from the leader many times a second: a quarter of
		// the grace without a word is a lost leader, not a slow one.
		return now.Add(-d), d < grace/4 && err == nil && st.AppliedIndex() >= commit
	}
	a.fence.mu.Lock()
	defer a.fence.mu.Unlock()
	t := a.fence.lastFetch
	return t, !t.IsZero() && now.Sub(t) < grace
}

// raftSeat is this agent's Raft seat, nil on a client.
func (a *Agent) raftSeat() raftLog {
	if !a.cfg.Server || a.raft == nil {
		return nil
	}
	return a.raft
}

// reconcileAllowed gates the node reconciler: it acts only on a view it
// can trust.
func (a *Agent) reconcileAllowed() bool {
	if _, ok := a.lastContact(time.Now()); !ok {
		return false
	}
	a.fence.mu.Lock()
	defer a.fence.mu.Unlock()
	a.fence.lastContact = time.Now()
	if a.fence.fenced {
		a.fence.fenced = false
		a.log.Info("in contact with the fleet again; running what the state binds here")
	}
	return true
}

// fenceLoop stops this node's controller-managed pods once it has been
// out of contact for longer than the grace period.
func (a *Agent) fenceLoop(ctx context.Context) {
	grace := a.cfg.nodeGrace()
	tick := time.NewTicker(grace / 4)
	defer tick.Stop()
	a.fence.mu.Lock()
	a.fence.lastContact = time.Now()
	a.fence.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		since, ok := a.lastContact(now)
		a.fence.mu.Lock()
		if ok || since.After(a.fence.lastContact) {
			a.fence.lastContact = since
		}
		cutOff := now.Sub(a.fence.lastContact)
		var uids []string
		if !ok && cutOff > grace && !a.fence.fenced {
			for uid := range a.fence.managed {
				uids = append(uids, uid)
			}
			a.fence.managed = map[string]bool{}
			a.fence.fenced = true
		}
		a.fence.mu.Unlock()
		if len(uids) == 0 {
			continue
		}
		a.log.Warn("cut off from the fleet for longer than the grace period: stopping controller-managed pods (they run elsewhere now)",
			"cut_off", cutOff.Round(time.Millisecond), "pods", len(uids))
		a.stopLocalPods(ctx, uids)
	}
}

func (a *Agent) stopLocalPods(ctx context.Context, uids []string) {
	rt := a.runtime.get()
	if rt == nil {
		return
	}
	var wg sync.WaitGroup
	for _, uid := range uids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.RemovePod(ctx, uid); err != nil {
				a.log.Warn("self-fence: remove pod", "uid", uid, "err", err)
			}
		}()
	}
	wg.Wait()
}
