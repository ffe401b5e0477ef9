package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	lastFetch   time.Time       // a server answered (assignments query or readiness probe)
	lastContact time.Time       // contactNow last held
	managed     map[string]bool // UIDs of controller-managed pods in the last view
	fenced      bool            // managed pods were stopped for lack of contact
	needIndex   uint64          // a server trusts its state from this index on (0: ask the leader)
	// skippedStale: after an outage a client has dropped the first view.
	skippedStale bool
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

// lastContact returns when this agent last knew it was in touch with the
// fleet's current state, and whether it trusts its view now. A server is
// in touch while a leader's heartbeats reach it (or, leading, while a
// quorum confirms it), and trusts its view only once its state has caught
// up with the leader's index as the leader reported it after contact
// returned: a server back from a partition or a restart must not act on
// its stale log. A client is in touch while a server answers its
// assignments query. Whatever cannot be checked counts as out of touch.
func (a *Agent) lastContact(ctx context.Context, now time.Time) (time.Time, bool) {
	grace := a.cfg.nodeGrace()
	seat := a.raftSeat()
	if seat == nil {
		a.fence.mu.Lock()
		defer a.fence.mu.Unlock()
		t := a.fence.lastFetch
		return t, !t.IsZero() && now.Sub(t) < grace
	}
	since, ok := a.leaderContact(ctx, seat, now, grace)
	if !ok {
		a.fence.mu.Lock()
		a.fence.needIndex = 0
		a.fence.mu.Unlock()
		return since, false
	}
	if seat.IsLeader() {
		return since, true
	}
	a.fence.mu.Lock()
	need := a.fence.needIndex
	a.fence.mu.Unlock()
	if need == 0 {
		idx, err := a.leaderIndex()
		if err != nil {
			a.log.Debug("read the leader's index", "err", err)
			return since, false
		}
		a.fence.mu.Lock()
		a.fence.needIndex = idx
		a.fence.mu.Unlock()
		need = idx
	}
	return since, a.fsm().Index() >= need
}

// leaderContact: a follower hears from the leader many times a second, so
// a quarter of the grace without a word is a lost leader, not a slow one.
// A leader is in contact only while a quorum confirms it leads: one cut
// off from the others believes it leads until its lease runs out, while
// the others elect a new leader and move its pods.
func (a *Agent) leaderContact(ctx context.Context, seat raftLog, now time.Time, grace time.Duration) (time.Time, bool) {
	if id, _ := seat.Leader(); id == "" {
		return time.Time{}, false
	}
	window := grace / 4
	last := seat.LastContact()
	if !seat.IsLeader() {
		if last.IsZero() {
			return time.Time{}, false
		}
		return last, now.Sub(last) < window
	}
	if !last.IsZero() && now.Sub(last) < window {
		return last, true
	}
	vctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	if err := seat.VerifyLeader(vctx); err != nil {
		a.log.Warn("no quorum confirms this leader: out of contact until one does", "last_confirmed", last, "err", err)
		return last, false
	}
	return now, true
}

// leaderIndex asks the leader for the index its state has applied.
func (a *Agent) leaderIndex() (uint64, error) {
	target := a.leaderAPI()
	if target == "" {
		return 0, fmt.Errorf("no leader address known")
	}
	resp, err := a.internalClient(time.Second).Get("http://" + target + "/shoal/v1/raft")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("leader %s: HTTP %d", target, resp.StatusCode)
	}
	var v struct {
		Index uint64 `json:"index"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, err
	}
	if v.Index == 0 {
		return 0, fmt.Errorf("leader %s reported no index", target)
	}
	return v.Index, nil
}

// raftSeat is this agent's Raft seat, nil on a client.
func (a *Agent) raftSeat() raftLog { return a.raft() }

// reconcileAllowed gates the node reconciler: it acts only on a view it
// can trust. A server's view must also be as new as the leader's index it
// had to catch up with: the view was read before that check, and a server
// restarted after the fleet declared it lost serves, for a moment, a state
// that still binds its old pods here; acting on it restarted those pods
// (their tasks died with the node) only to stop them again, each for the
// whole stop grace, while their replacements waited (seen in the failover
// benchmark: 5 to 10 s instead of under 1).
//
// It fails closed: a follower that does not know the leader's index (it
// was reset while this ran) does not act either.
func (a *Agent) reconcileAllowed(viewIndex uint64) bool {
	if _, ok := a.lastContact(context.Background(), time.Now()); !ok {
		return false
	}
	a.fence.mu.Lock()
	defer a.fence.mu.Unlock()
	if seat := a.raftSeat(); seat != nil && !seat.IsLeader() && (a.fence.needIndex == 0 || viewIndex < a.fence.needIndex) {
		a.log.Debug("not acting on a view older than the leader's index", "view_index", viewIndex, "leader_index", a.fence.needIndex)
		return false
	}
	a.fence.lastContact = time.Now()
	if a.fence.fenced {
		// A client's first answer after the outage may have been on the
		// wire since before it, with pods the fleet has replaced since:
		// only a read started after contact returned is trusted.
		if a.raftSeat() == nil && !a.fence.skippedStale {
			a.fence.skippedStale = true
			return false
		}
		a.fence.fenced, a.fence.skippedStale = false, false
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
		if a.raftSeat() == nil && a.serverReachable() {
			a.fence.mu.Lock()
			a.fence.lastFetch = time.Now()
			a.fence.mu.Unlock()
		}
		now := time.Now()
		since, ok := a.lastContact(ctx, now)
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

// serverReachable reports whether gossip holds a server alive: a client's
// contact with the fleet, checked apart from the reconciler, whose reads
// wait behind slow container work. Gossip is also how the leader decides
// the node is lost, so both sides of a partition notice it alike.
func (a *Agent) serverReachable() bool {
	for _, m := range a.members.members() {
		if m.Alive && m.Meta.Server && m.Name != a.cfg.Name {
			return true
		}
	}
	return false
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
