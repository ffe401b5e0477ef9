// Package node is what every agent runs for its own machine: the
// reconciler that makes the node run exactly the pods the fleet's state
// binds to it (pod networks through netplane, containers through
// podruntime), the status reports of those pods, and fencing, which stops
// the node's controller-managed pods when it has been cut off from the
// fleet for longer than the grace period.
//
// The package reaches the rest of the agent only through the small
// interfaces it defines here and in fencing.go; package agent wires the
// real ones (agent/wire_node.go).
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/netplane"
)

// Assignments is what the fleet's state binds to this node at a state
// index: its pods, and the fleet's nodes (for the routes to their pod
// blocks).
type Assignments struct {
	Index uint64
	Pods  []api.Pod
	Nodes []api.Node
}

// AssignmentSource reads this node's assignments. It is a blocking query:
// it answers at once when the state is newer than index after, else when
// it becomes so or wait has passed. An answer the source cannot vouch for
// (a server that has not caught up, see StateCurrent) is an error.
type AssignmentSource interface {
	Assignments(ctx context.Context, after uint64, wait time.Duration) (*Assignments, error)
}

// StatusWriter records a pod's status as this node observed it and, once
// the node has stopped a pod being deleted gracefully, makes the deletion
// final (terminate.go).
type StatusWriter interface {
	WritePodStatus(ctx context.Context, pod *api.Pod, status api.PodStatus) error
	FinishDeletion(ctx context.Context, pod *api.Pod) error
}

// PodRuntime runs a pod's containers (podruntime.Runtime).
type PodRuntime interface {
	SyncPod(ctx context.Context, pod *api.Pod, netnsPath string) error
	PodStatus(ctx context.Context, pod *api.Pod) (api.PodStatus, error)
	// ListPods returns the UIDs of the pods the runtime holds.
	ListPods(ctx context.Context) ([]string, error)
	RemovePod(ctx context.Context, podUID string) error
	// KillPod is RemovePod without the stop grace (fencing.go).
	KillPod(ctx context.Context, podUID string) error
	// TerminatePod stops a pod being deleted gracefully (preStop hooks,
	// SIGTERM, SIGKILL once grace is up) and removes it.
	TerminatePod(ctx context.Context, pod *api.Pod, grace time.Duration) error
}

// Network wires pods into the fleet's network (netplane.Plane).
type Network interface {
	SetupPod(ctx context.Context, podID string, ip net.IP) (netnsPath string, err error)
	TeardownPod(ctx context.Context, podID string) error
	// ListPods returns the IDs of the pod networks on this node.
	ListPods(ctx context.Context) ([]string, error)
	SyncPeerRoutes(ctx context.Context, peers []netplane.Peer) error
}

// RuntimeChanges signals changes on this node that the fleet's state does
// not show: a container exited, a probe changed its verdict
// (podruntime.Runtime.Changes).
type RuntimeChanges interface {
	Changes() <-chan struct{}
}

// Metrics observes the reconciler's passes.
type Metrics interface {
	Reconciled(d time.Duration)
}

// Config is what the reconciler needs to know about its node.
type Config struct {
	// Name is this node's name, as pods are bound to it.
	Name string
	// Resync is the longest the reconciler goes without a pass over its
	// pods: it notices containers that exited on their own.
	Resync time.Duration
	// SteadyResync replaces Resync while every pod is settled (settle.go)
	// and the runtime signals its changes (Deps.Changes); 0 is
	// DefaultSteadyResync.
	SteadyResync time.Duration
	Log          *slog.Logger
}

// Deps are the parts the reconciler works through. Metrics may be nil.
type Deps struct {
	Assignments AssignmentSource
	Status      StatusWriter
	Runtime     PodRuntime
	Network     Network
	Fence       *Fencer
	Metrics     Metrics
	// Changes may be nil: then every pass is at most Resync apart.
	Changes RuntimeChanges
}

// Reconciler makes this node run exactly what the state binds to it and
// reports each pod's status back to the fleet.
type Reconciler struct {
	cfg      Config
	d        Deps
	mu       sync.Mutex
	reported map[string]api.PodStatus // by pod UID: the last status the fleet accepted
	stopping map[string]func()        // by pod UID: terminations under way, and how to cancel each (terminate.go)
	stops    sync.WaitGroup
	// unsettled counts, during a pass, the pods that pass left unsettled
	// (settle.go).
	unsettled atomic.Int32
}

// New builds a reconciler; Run starts it.
func New(cfg Config, d Deps) (*Reconciler, error) {
	switch {
	case cfg.Name == "":
		return nil, fmt.Errorf("node reconciler: no node name")
	case d.Assignments == nil || d.Status == nil || d.Runtime == nil || d.Network == nil || d.Fence == nil:
		return nil, fmt.Errorf("node reconciler: assignments, status, runtime, network and fence are all required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SteadyResync <= 0 {
		cfg.SteadyResync = DefaultSteadyResync
	}
	return &Reconciler{cfg: cfg, d: d, reported: map[string]api.PodStatus{}, stopping: map[string]func(){}}, nil
}

// Run is the reconcile loop: a blocking query on the state wakes it at
// once on any change, and at the latest after the resync interval to look
// at containers that exited on their own. It returns when ctx is done.
// From now on the fencer stops pods through this reconciler's runtime.
func (n *Reconciler) Run(ctx context.Context) {
	defer n.stops.Wait()
	n.d.Fence.setRuntime(n.d.Runtime)
	var after uint64
	gate := passGate{ours: n.reportedAs} // agent/node/pass.go
	var pending *Assignments             // the last view read during a pass, not yet acted on as a whole
	resync := n.cfg.Resync
	refused := false // the last view read may not be acted on yet (refused_view.go)
	for ctx.Err() == nil {
		if pending != nil {
			view := pending
			pending = nil
			after = view.Index
			fenced := n.d.Fence.isFenced()
			if refused = !n.d.Fence.reconcileAllowed(view); refused {
				gate.reset()
				n.keepCutOff(ctx) // cutoff.go
				continue
			}
			if fenced {
				gate.reset()
			}
			pending, resync = n.maybePass(ctx, &gate, view, resync)
			continue
		}
		view, woken, err := n.fetch(ctx, after, queryWait(resync, refused)) // settle.go
		if woken {
			gate.reset() // the runtime changed: look at every pod
		}
		if err != nil && woken && ctx.Err() == nil {
			after = 0         // the wake cut the query short: ask for the view as it is
			n.keepCutOff(ctx) // cutoff.go: a container exited while cut off
			continue
		}
		if err != nil {
			gate.reset()
			if ctx.Err() == nil {
				n.cfg.Log.Debug("read assignments", "err", err)
				n.keepCutOff(ctx) // cutoff.go: cut off, keep what it keeps
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		after = view.Index
		n.d.Fence.fetched(view)
		fenced := n.d.Fence.isFenced() // the pods it stopped must start again
		if refused = !n.d.Fence.reconcileAllowed(view); refused {
			gate.reset()
			n.keepCutOff(ctx) // cutoff.go
			continue          // agent/node/fencing.go: the view may be stale
		}
		if fenced {
			gate.reset()
		}
		pending, resync = n.maybePass(ctx, &gate, view, resync)
	}
}

// maybePass acts on view as the gate finds it needs (pass.go): nothing,
// the routes to peers, or a pass over the pods, which starts the pods
// bound here during it as they come (early.go). It answers the last view
// read during the pass, if any, and the wait for the next query.
func (n *Reconciler) maybePass(ctx context.Context, gate *passGate, view *Assignments, resync time.Duration) (*Assignments, time.Duration) {
	start := time.Now()
	if !gate.need(view, start, resync) {
		return nil, resync
	}
	if gate.peersOnly(view, start, resync) { // agent/node/pass.go
		gate.peersSynced(view)
		n.syncPeers(ctx, view.Nodes)
		return nil, resync
	}
	gate.passed(view, start)
	n.unsettled.Store(0)
	latest := n.reconcileWatching(ctx, view, resync) // early.go
	resync = n.nextResync()
	if n.d.Metrics != nil {
		n.d.Metrics.Reconciled(time.Since(start))
	}
	return latest, resync
}

// reconcile is one pass over view; removed, when not nil, is closed once
// the pods and networks no longer bound here are gone, before any pod
// starts.
func (n *Reconciler) reconcile(ctx context.Context, view *Assignments, removed chan<- struct{}) {
	n.syncPeers(ctx, view.Nodes)
	removeUnclaimed := n.removeUnclaimed
	if removed != nil {
		removeUnclaimed = func(ctx context.Context, want, wantNet map[string]bool) {
			defer close(removed)
			n.removeUnclaimed(ctx, want, wantNet)
		}
	}
	reconcilePods(ctx, view.Pods, removeUnclaimed, n.syncOne)
}

// syncOne brings one pod of a view to its spec, or stops it when it is
// being deleted.
func (n *Reconciler) syncOne(ctx context.Context, p *api.Pod) {
	if p.ObjectMeta.DeletionTimestamp != nil {
		n.unsettled.Add(1)
		n.terminate(ctx, p) // terminate.go: in the background
		return
	}
	if err := n.syncPod(ctx, p); err != nil {
		n.unsettled.Add(1)
		if ctx.Err() == nil {
			n.cfg.Log.Warn("sync pod", "pod", api.KeyOf(p), "err", err)
		}
	}
}

// reconcilePods removes what is no longer bound here before it starts
// anything: a pod deleted while this node was away frees its IP in the
// state, and the fleet may have given that IP to a new pod bound here; were
// the new pod wired first, both network namespaces would hold the IP at
// once (found by `shoal lab chaos`, seed 3: a bare pod deleted while its
// node was down, and its IP reused on that node before it came back).
func reconcilePods(ctx context.Context, pods []api.Pod, removeUnclaimed func(ctx context.Context, want, wantNet map[string]bool), syncPod func(context.Context, *api.Pod)) {
	want := map[string]bool{}
	wantNet := map[string]bool{}
	for i := range pods {
		want[string(pods[i].ObjectMeta.UID)] = true
		wantNet[podNetID(string(pods[i].ObjectMeta.UID))] = true
	}
	removeUnclaimed(ctx, want, wantNet)
	var wg sync.WaitGroup
	for i := range pods {
		p := &pods[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			syncPod(ctx, p)
		}()
	}
	wg.Wait()
}

// syncPod brings one pod to its spec and reports its status when it changed.
func (n *Reconciler) syncPod(ctx context.Context, p *api.Pod) error {
	nsPath, err := n.podNetwork(ctx, p) // hostnetwork.go
	if err != nil {
		return err
	}
	syncErr := n.d.Runtime.SyncPod(ctx, p, nsPath)
	st, err := n.d.Runtime.PodStatus(ctx, p)
	if syncErr != nil {
		// What the failed sync left is reported too, with why (sync_failure.go).
		if err == nil && ctx.Err() == nil {
			_ = n.reportObserved(ctx, p, withSyncError(st, syncErr))
		}
		return fmt.Errorf("containers: %w", syncErr)
	}
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return n.reportObserved(ctx, p, st)
}

// reportObserved reports the status the runtime observed when it differs
// from the one last reported and from the fleet's.
func (n *Reconciler) reportObserved(ctx context.Context, p *api.Pod, st api.PodStatus) error {
	st = mergeStatus(p.Status, st)
	if !settled(st) { // settle.go
		n.unsettled.Add(1)
	}
	n.mu.Lock()
	last, ok := n.reported[string(p.ObjectMeta.UID)]
	n.mu.Unlock()
	if ok && reflect.DeepEqual(last, st) {
		return nil
	}
	if statusEqual(p.Status, st) {
		return nil
	}
	return n.report(ctx, p, st)
}

// mergeStatus keeps what the fleet decided (IPs, scheduling condition,
// start time) and takes what the node observed (phase, containers, readiness).
func mergeStatus(old, seen api.PodStatus) api.PodStatus {
	out := seen
	out.PodIP, out.PodIPs, out.HostIP = old.PodIP, old.PodIPs, old.HostIP
	out.StartTime = old.StartTime
	if out.StartTime == nil && out.Phase != api.PodPending {
		out.StartTime = api.NewTime(time.Now())
	}
	ready := out.Phase == api.PodRunning
	for _, cs := range out.ContainerStatuses {
		ready = ready && cs.Ready
	}
	for _, cs := range out.InitContainerStatuses { // a sidecar's readiness counts; a finished init container is Ready
		ready = ready && cs.Ready
	}
	conds := []api.PodCondition{}
	for _, c := range old.Conditions {
		if c.Type == "PodScheduled" {
			conds = append(conds, c)
		}
	}
	// Initialized is the runtime's word (False while init containers run or
	// fail); an observation without it comes from a pod with nothing to init.
	initialized := api.PodCondition{Type: "Initialized", Status: "True"}
	for _, c := range seen.Conditions {
		if c.Type == "Initialized" {
			initialized = api.PodCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
		}
	}
	ready = ready && initialized.Status == "True"
	for _, typ := range []api.PodConditionType{"Initialized", "ContainersReady", "Ready"} {
		c := api.PodCondition{Type: typ, Status: "True"}
		if typ == "Initialized" {
			c = initialized
		} else if !ready {
			c.Status = "False"
		}
		status := c.Status
		for _, o := range old.Conditions {
			if o.Type == typ && o.Status == status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = api.TimeOf(time.Now())
		}
		conds = append(conds, c)
	}
	out.Conditions = conds
	return out
}

// statusEqual ignores transition times, which a node re-stamps.
func statusEqual(a, b api.PodStatus) bool {
	strip := func(s api.PodStatus) api.PodStatus {
		c := s
		c.Conditions = nil
		for _, cond := range s.Conditions {
			cond.LastTransitionTime = api.Time{}
			c.Conditions = append(c.Conditions, cond)
		}
		return c
	}
	ja, _ := json.Marshal(strip(a))
	jb, _ := json.Marshal(strip(b))
	return string(ja) == string(jb)
}

func (n *Reconciler) report(ctx context.Context, p *api.Pod, st api.PodStatus) error {
	sent := time.Now()
	if err := n.d.Status.WritePodStatus(ctx, p, st); err != nil {
		return fmt.Errorf("report status: %w", err)
	}
	n.d.Fence.answered(sent) // a client's evidence of contact (fence_ping.go)
	n.mu.Lock()
	last, had := n.reported[string(p.ObjectMeta.UID)]
	n.reported[string(p.ObjectMeta.UID)] = st
	n.mu.Unlock()
	// Once per phase: the failover bench reads when a pod's start reached
	// the fleet (e2e/bench_failover_fleet_test.go).
	if !had || last.Phase != st.Phase {
		n.cfg.Log.Info("pod phase reported", "pod", api.KeyOf(p), "uid", string(p.ObjectMeta.UID), "phase", string(st.Phase))
	}
	return nil
}

// reportedAs tells whether p's status is the one this node last reported
// on it.
func (n *Reconciler) reportedAs(p *api.Pod) bool {
	n.mu.Lock()
	last, ok := n.reported[string(p.ObjectMeta.UID)]
	n.mu.Unlock()
	return ok && statusEqual(last, p.Status)
}

// removeUnclaimed stops pods and networks the state no longer binds here:
// deleted pods, and pods of this node that the fleet moved elsewhere.
func (n *Reconciler) removeUnclaimed(ctx context.Context, want, wantNet map[string]bool) {
	n.cancelTerminations(want) // terminate.go
	uids, err := n.d.Runtime.ListPods(ctx)
	if err != nil {
		n.unsettled.Add(1)
		n.cfg.Log.Warn("list local pods", "err", err)
	}
	// Side by side: each removal may wait out its containers' stop grace,
	// and pods bound here meanwhile wait for all of them.
	var wg sync.WaitGroup
	for _, uid := range uids {
		if want[uid] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.cfg.Log.Info("removing pod no longer bound here", "uid", uid)
			if err := n.d.Runtime.RemovePod(ctx, uid); err != nil {
				n.cfg.Log.Warn("remove pod", "uid", uid, "err", err)
			}
			n.mu.Lock()
			delete(n.reported, uid)
			n.mu.Unlock()
		}()
	}
	wg.Wait()
	ids, err := n.d.Network.ListPods(ctx)
	if err != nil {
		n.cfg.Log.Warn("list pod networks", "err", err)
	}
	for _, id := range ids {
		if wantNet[id] {
			continue
		}
		if err := n.d.Network.TeardownPod(ctx, id); err != nil {
			n.cfg.Log.Warn("remove pod network", "id", id, "err", err)
		}
	}
}

// syncPeers routes every other node's pod block via that node's address.
func (n *Reconciler) syncPeers(ctx context.Context, nodes []api.Node) {
	var peers []netplane.Peer
	for _, node := range nodes {
		if node.ObjectMeta.Name == n.cfg.Name || node.Spec.PodCIDR == "" {
			continue
		}
		_, block, err := net.ParseCIDR(node.Spec.PodCIDR)
		if err != nil {
			continue
		}
		var via net.IP
		for _, addr := range node.Status.Addresses {
			if addr.Type == "InternalIP" {
				via = net.ParseIP(addr.Address)
			}
		}
		if via == nil {
			continue
		}
		peers = append(peers, netplane.Peer{Block: block, Via: via})
	}
	if err := n.d.Network.SyncPeerRoutes(ctx, peers); err != nil {
		n.cfg.Log.Warn("peer routes", "err", err)
	}
}

// podNetID names a pod's network namespace: short, unique, stable.
func podNetID(uid string) string {
	id := strings.ReplaceAll(uid, "-", "")
	if len(id) > 16 {
		id = id[:16]
	}
	return id
}
