package node

import (
	"context"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// reconcileWatching is a pass over view that keeps reading the node's
// assignments while it runs and starts, at once, the pods bound here
// meanwhile. A pass waits for every pod it syncs, and a pod that starts
// takes a second or more, so on a failover the replacements bound to a
// node one after the other queued behind each other's passes: on a
// 20-node lab a node given five replacements started the last of them
// seconds after its bind. It answers the last view read during the pass,
// which the caller acts on as a whole next (the pods' status, deletions,
// the routes); nil when none came.
//
// A pod starts early only when nothing the pass acts on left the view:
// the pass removes what is no longer bound here before it starts
// anything, since a pod removed frees its IP for the next pod bound here
// (reconcilePods), and that removal waits for the next pass. Nor does it
// when the view cannot be trusted (fencing.go), or when the pod is being
// deleted.
func (n *Reconciler) reconcileWatching(ctx context.Context, view *Assignments, wait time.Duration) *Assignments {
	if !n.startsAny(view) {
		// A pass over pods that run already is short: the query after it
		// comes soon enough, and a node's passes each cost the fleet a
		// query less.
		n.reconcile(ctx, view, nil)
		return nil
	}
	removed := make(chan struct{})
	wctx, stopWatch := context.WithCancel(ctx)
	var (
		latest  *Assignments
		early   sync.WaitGroup
		watched = make(chan struct{})
	)
	go func() {
		defer close(watched)
		known := map[string]bool{} // the pods the pass or an early start took, by UID
		for i := range view.Pods {
			known[string(view.Pods[i].ObjectMeta.UID)] = true
		}
		after := view.Index
		for wctx.Err() == nil {
			v, err := n.d.Assignments.Assignments(wctx, after, wait)
			if err != nil {
				return // the loop after the pass asks again
			}
			after, latest = v.Index, v
			n.d.Fence.fetched(v)
			select {
			case <-removed:
			case <-wctx.Done():
				return
			}
			for _, p := range n.startable(v, known) {
				known[string(p.ObjectMeta.UID)] = true
				early.Add(1)
				go func() {
					defer early.Done()
					n.syncOne(ctx, p)
				}()
			}
		}
	}()
	n.reconcile(ctx, view, removed)
	stopWatch()
	<-watched
	early.Wait()
	return latest
}

// startsAny tells whether a pass over view starts a pod: one this node
// has not reported on yet.
func (n *Reconciler) startsAny(view *Assignments) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range view.Pods {
		p := &view.Pods[i]
		if _, ok := n.reported[string(p.ObjectMeta.UID)]; !ok && p.ObjectMeta.DeletionTimestamp == nil {
			return true
		}
	}
	return false
}

// startable picks the pods of v to start before the pass ends: those not
// in known, not being deleted, when every pod in known is still bound
// here and the view may be acted on.
func (n *Reconciler) startable(v *Assignments, known map[string]bool) []*api.Pod {
	in := map[string]bool{}
	for i := range v.Pods {
		in[string(v.Pods[i].ObjectMeta.UID)] = true
	}
	for uid := range known {
		if !in[uid] {
			return nil
		}
	}
	var out []*api.Pod
	for i := range v.Pods {
		p := &v.Pods[i]
		if !known[string(p.ObjectMeta.UID)] && p.ObjectMeta.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 || n.d.Fence.isFenced() || !n.d.Fence.reconcileAllowed(v) {
		return nil
	}
	return out
}
