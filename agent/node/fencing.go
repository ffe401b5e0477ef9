package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// Seat is this agent's Raft seat as fencing reads it (consensus.Raft with
// the state it applies to).
type Seat interface {
	IsLeader() bool
	Leader() (id, addr string)
	// LastContact is when this server last knew it was in touch with the
	// leader (on the leader: when a quorum last confirmed it).
	LastContact() time.Time
	// VerifyLeader confirms with a quorum that this server still leads.
	VerifyLeader(ctx context.Context) error
	// CaughtUp reports whether the local state may be served to a node.
	CaughtUp(ctx context.Context) bool
	// AppliedIndex is the index the local state has applied.
	AppliedIndex() uint64
}

// Fleet is how fencing learns whether this agent is in touch with the
// fleet's current state.
type Fleet interface {
	// Seat is this agent's Raft seat now: nil (an untyped nil) on a client.
	// A client may be given a seat while it runs.
	Seat() Seat
	// LeaderIndex asks the leader for the index its state has applied.
	LeaderIndex(ctx context.Context) (uint64, error)
	// PingServer reports whether a server answered a gossip ping just now
	// (within the probe timeout, which the liveness budget's check
	// timeout covers). Gossip's view of who is alive is no evidence: a
	// node cut off from everyone holds the servers alive long after the
	// fleet has declared it dead.
	PingServer() bool
	// ServerAnswered is when a server last acked one of gossip's own
	// probes of it, timed from when the probe was sent (zero: never).
	// It is the same round trip as PingServer's, made anyway four times
	// a second among the members, so a client whose probes reached a
	// server lately skips its own ping (fence_ping.go). A ping a server
	// sent this agent is no evidence: it crosses one way only.
	ServerAnswered() time.Time
}

// podKiller is what fencing needs of the pod runtime: a fenced pod is
// killed at once (SIGKILL, no stop grace), so that no container that
// ignores SIGTERM outlives the moment its replacement may start.
type podKiller interface {
	KillPod(ctx context.Context, podUID string) error
}

// FenceConfig is what fencing is told.
type FenceConfig struct {
	// Liveness is the fleet's liveness config (package agent/liveness).
	// Its budget gives the node's side of the fencing rule: a node out of
	// contact for longer than FenceAfter stops its controller-managed
	// pods, looking every FenceInterval and waiting at most CheckTimeout
	// for a check, so that it has begun stopping them before the leader
	// may replace them (docs/liveness.md). A follower that has not heard
	// from its leader for ContactWindow counts as out of contact.
	Liveness liveness.Config
	// ViewFile is where the fencer keeps the last view the node acted on
	// and, in its modification time, the last contact (fencing_view.go):
	// an agent restarted while cut off keeps and stops pods from it. ""
	// keeps nothing on disk.
	ViewFile string
	// PlannedStopFile is where an agent that stopped on purpose left its
	// restart grace for the next one (planned_stop.go). "" keeps none.
	PlannedStopFile string
	Log             *slog.Logger
}

// Fencer keeps a node from running a replica twice. The node reconciler
// acts only while the agent is in contact with the fleet's current state
// (lastContact); a node cut off for longer than a pod's FenceAfter stops
// that controller-managed pod itself, before the leader may run it
// elsewhere (agent/liveness: the budget's FenceAfter for a pod without a
// toleration of its node's loss, later for one with, never for one
// tolerated for good or a bare pod). When contact returns, the
// reconciler sees the fresh assignments: pods no longer bound here are
// removed as unclaimed, and only what is still bound here runs again.
type Fencer struct {
	budget liveness.Budget
	fleet  Fleet
	log    *slog.Logger

	// accepting serializes reconcileAllowed, which saves a view to disk
	// before it takes it: two views accepted at once must reach the disk
	// and the fencer in the same order.
	accepting sync.Mutex
	// disk serializes the view file's writes and holds onDisk, the last
	// contact the file's time records (fencing_view.go).
	disk   sync.Mutex
	onDisk time.Time

	mu          sync.Mutex
	runtime     podKiller                // the reconciler's, once it runs; nil before
	lastFetch   time.Time                // a server answered (assignments query, status write, gossip ping or probe)
	lastContact time.Time                // contactNow last held
	fenceAfter  map[string]time.Duration // by UID, the pods of the view the node acted on, stopped when cut off this long
	stopped     map[string]bool          // by UID, the pods stopped for lack of contact in this outage
	fenced      bool                     // pods were stopped for lack of contact
	cutOff      bool                     // the fence loop's last look found no contact
	view        []api.Pod                // the last view the node acted on, or restored from disk (cutoff.go keeps its pods running)
	viewFile    string                   // FenceConfig.ViewFile
	viewKey     string                   // viewKey of view
	restored    time.Time                // the last contact the view on disk recorded at start
	lastKeep    time.Time                // cutoff.go's last pass
	needIndex   uint64                   // a server trusts its state from this index on (0: ask the leader)
	// skippedStale: after an outage a client has dropped the first view.
	skippedStale bool
	// planned is the restart grace this agent started under after a
	// planned stop, until contact returns (planned_stop.go); 0: none.
	planned     time.Duration
	plannedFile string        // FenceConfig.PlannedStopFile
	plannedOver chan struct{} // PlannedRestartOver
}

// NewFencer builds the fencer of this node; Run starts its loop, and the
// Reconciler it is given to consults it before every pass.
func NewFencer(cfg FenceConfig, fleet Fleet) *Fencer {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Fencer{budget: cfg.Liveness.Budget(), fleet: fleet, log: log, viewFile: cfg.ViewFile,
		plannedFile: cfg.PlannedStopFile, plannedOver: make(chan struct{})}
	// Before the view: its pods are fenced by the planned restart's budget.
	f.restorePlanned()
	if f.viewFile != "" {
		pods, contact, err := loadView(f.viewFile)
		if err != nil {
			log.Warn("the node's saved view is unreadable: it keeps and stops nothing until contact", "err", err)
		}
		f.onDisk = contact
		if len(pods) > 0 {
			f.setView(pods)
			f.restored = contact
			f.viewKey = viewKey(pods)
			log.Info("restored the node's last view: keeping its pods until the fleet answers", "pods", len(pods), "last_contact", contact)
		}
	}
	return f
}

func (f *Fencer) setRuntime(rt podKiller) {
	f.mu.Lock()
	f.runtime = rt
	f.mu.Unlock()
}

func (f *Fencer) isFenced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fenced
}

// fetched records a successful read of this node's assignments: a
// client's evidence of contact. The view itself is taken only once the
// fence lets the node act on it (reconcileAllowed): a view refused, read
// from a server behind its leader or while out of contact, may still
// hold pods the node has removed since.
func (f *Fencer) fetched(*Assignments) {
	f.answered(time.Now())
}

// answered records that a server answered a request this agent sent at
// sent (an assignments query, a status write): a client's evidence of
// contact, timed from the request.
func (f *Fencer) answered(sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sent.After(f.lastFetch) {
		f.lastFetch = sent
	}
}

// setView takes pods as the node's view: when each of its pods must stop
// if the node is cut off (liveness.PodBudget, by the pod's tolerations of
// node.kubernetes.io/unreachable and not-ready, as the leader reads
// them). f.mu is held (or f unshared).
func (f *Fencer) setView(pods []api.Pod) {
	fenceAfter := map[string]time.Duration{}
	budget := f.budget.Restart(f.planned) // the node grace's when not restarting
	for i := range pods {
		p := &pods[i]
		if after := budget.ForPod(api.LostNodeTolerance(p)).FenceAfter; after != liveness.Forever {
			fenceAfter[string(p.ObjectMeta.UID)] = after
		}
	}
	f.fenceAfter = fenceAfter
	f.view = pods
}

// contact returns when this agent last knew it was in touch with the
// fleet's current state, and whether it trusts its view now. A server is
// in touch while a leader's heartbeats reach it (or, leading, while a
// quorum confirms it), and trusts its view only once its state has caught
// up with the leader's index as the leader reported it after contact
// returned: a server back from a partition or a restart must not act on
// its stale log. A client is in touch while a server answers what it
// sends (fence_ping.go). Whatever cannot be checked counts as out of touch.
func (f *Fencer) contact(ctx context.Context, now time.Time) (time.Time, bool) {
	seat := f.fleet.Seat()
	if seat == nil {
		t := f.clientEvidence() // fence_ping.go
		return t, !t.IsZero() && now.Sub(t) < f.budget.FenceAfter
	}
	since, ok := f.leaderContact(ctx, seat, now)
	if !ok {
		f.mu.Lock()
		f.needIndex = 0
		f.mu.Unlock()
		return since, false
	}
	if seat.IsLeader() {
		return since, true
	}
	f.mu.Lock()
	need := f.needIndex
	f.mu.Unlock()
	if need == 0 {
		idx, err := f.fleet.LeaderIndex(ctx)
		if err != nil {
			f.log.Debug("read the leader's index", "err", err)
			return since, false
		}
		f.mu.Lock()
		f.needIndex = idx
		f.mu.Unlock()
		need = idx
	}
	return since, seat.AppliedIndex() >= need
}

// leaderContact: a follower hears from the leader several times a second,
// so the contact window (three eighths of the grace, liveness.Budget,
// 2.5 times the longest gap between heartbeats) without a word is a lost
// leader, not a slow one.
// A leader is in contact only while a quorum confirms it leads: one cut
// off from the others believes it leads until its lease runs out, while
// the others elect a new leader and move its pods.
func (f *Fencer) leaderContact(ctx context.Context, seat Seat, now time.Time) (time.Time, bool) {
	if id, _ := seat.Leader(); id == "" {
		return time.Time{}, false
	}
	window := f.budget.ContactWindow
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
	vctx, cancel := context.WithTimeout(ctx, f.budget.CheckTimeout)
	defer cancel()
	if err := seat.VerifyLeader(vctx); err != nil {
		f.log.Warn("no quorum confirms this leader: out of contact until one does", "last_confirmed", last, "err", err)
		return last, false
	}
	return now, true
}

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
//
// A view it allows becomes the fencer's view (what a cut-off node keeps
// and fences, cutoff.go), and is saved to disk first: the caller removes
// what the view no longer holds once this returns, and a restart must
// never find on disk a view older than what the node did (issue 22: an
// agent restarted while cut off restarted, from a view saved a tick late,
// the containers of a pod it had removed, and its RC ran one replica
// more until contact returned). A view it refuses is neither kept nor
// saved: cut off, the node keeps the pods of the last view it acted on. A
// view that cannot be saved is refused (asked for again within a second,
// refused_view.go).
func (f *Fencer) reconcileAllowed(view *Assignments) bool {
	f.accepting.Lock()
	defer f.accepting.Unlock()
	since, ok := f.contact(context.Background(), time.Now())
	if !ok {
		return false
	}
	f.mu.Lock()
	if seat := f.fleet.Seat(); seat != nil && !seat.IsLeader() && (f.needIndex == 0 || view.Index < f.needIndex) {
		f.log.Debug("not acting on a view older than the leader's index", "view_index", view.Index, "leader_index", f.needIndex)
		f.mu.Unlock()
		return false
	}
	// The evidence's own time, not now: a follower's last word from its
	// leader may be most of the contact window old, and the fence's
	// deadline counts from it.
	if since.After(f.lastContact) {
		f.lastContact = since
	}
	f.endPlanned()
	// A client's first answer after the outage may have been on the
	// wire since before it, with pods the fleet has replaced since: only
	// a read started after contact returned is trusted.
	if f.fenced && f.fleet.Seat() == nil && !f.skippedStale {
		f.skippedStale = true
		f.mu.Unlock()
		return false
	}
	key := viewKey(view.Pods)
	save := key != f.viewKey && f.viewFile != ""
	contact := f.lastContact
	f.mu.Unlock()
	if save {
		if err := f.saveView(view.Pods, contact); err != nil {
			f.log.Warn("could not save the node's view: not acting on it, so that a restart cannot undo what it removes", "err", err)
			return false
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if key != f.viewKey {
		f.setView(view.Pods)
		f.viewKey = key
	}
	if f.fenced {
		f.fenced, f.skippedStale, f.stopped = false, false, nil
		f.log.Info("in contact with the fleet again; running what the state binds here")
	}
	return true
}

// saveView writes pods to the view file with contact as its time.
func (f *Fencer) saveView(pods []api.Pod, contact time.Time) error {
	f.disk.Lock()
	defer f.disk.Unlock()
	if err := saveView(f.viewFile, pods, contact); err != nil {
		return err
	}
	f.onDisk = contact
	return nil
}

// touchView moves the view file's time to contact, at most once per
// touchEvery (fencing_view.go).
func (f *Fencer) touchView(contact time.Time) {
	f.disk.Lock()
	defer f.disk.Unlock()
	if contact.Sub(f.onDisk) < touchEvery {
		return
	}
	if err := touchContact(f.viewFile, contact); err != nil {
		f.log.Warn("record the last contact", "err", err)
		return
	}
	f.onDisk = contact
}

// Run stops each of this node's controller-managed pods once it has been
// out of contact for longer than the pod's FenceAfter; it returns when ctx
// is done.
func (f *Fencer) Run(ctx context.Context) {
	tick := time.NewTicker(f.budget.FenceInterval)
	defer tick.Stop()
	f.mu.Lock()
	f.lastContact = time.Now()
	if !f.restored.IsZero() && f.restored.Before(f.lastContact) {
		// Restarted: the fence deadlines of the pods it kept count from
		// the last contact before the restart.
		f.lastContact = f.restored
	}
	f.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// A client's contact with the fleet is also checked apart from the
		// reconciler, whose reads wait behind slow container work: a
		// server's answer to a gossip ping, timed from when it was sent,
		// unless fresher evidence makes the ping moot (fence_ping.go).
		if f.fleet.Seat() == nil {
			f.pingIfDue(time.Now())
		}
		now := time.Now()
		// Bounded like every check, so the loop keeps its pace (the
		// budget's CheckTimeout); the reconciler's own check may wait
		// longer for the leader's index.
		cctx, cancel := context.WithTimeout(ctx, f.budget.CheckTimeout)
		since, ok := f.contact(cctx, now)
		cancel()
		f.mu.Lock()
		if ok || since.After(f.lastContact) {
			f.lastContact = since
		}
		if ok {
			f.endPlanned()
		}
		touch := ok && f.viewFile != ""
		contact := f.lastContact
		cutOff := now.Sub(f.lastContact)
		f.cutOff = !ok
		var uids []string
		if !ok {
			for uid, after := range f.fenceAfter {
				if cutOff > after && !f.stopped[uid] {
					uids = append(uids, uid)
				}
			}
		}
		for _, uid := range uids {
			if f.stopped == nil {
				f.stopped = map[string]bool{}
			}
			f.stopped[uid], f.fenced = true, true
		}
		f.mu.Unlock()
		if touch {
			f.touchView(contact)
		}
		if len(uids) == 0 {
			continue
		}
		f.log.Warn("cut off from the fleet for longer than the fence allows: killing controller-managed pods before the leader replaces them",
			"cut_off", cutOff.Round(time.Millisecond), "fence_after", f.budget.FenceAfter, "pods", len(uids))
		f.stopLocalPods(ctx, uids)
	}
}

func (f *Fencer) stopLocalPods(ctx context.Context, uids []string) {
	f.mu.Lock()
	rt := f.runtime
	f.mu.Unlock()
	if rt == nil {
		return
	}
	var wg sync.WaitGroup
	for _, uid := range uids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.KillPod(ctx, uid); err != nil {
				f.log.Warn("self-fence: remove pod", "uid", uid, "err", err)
			}
		}()
	}
	wg.Wait()
}
