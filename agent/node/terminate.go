package node

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// A pod deleted gracefully stays bound here, Terminating (a
// metadata.deletionTimestamp), until this node has stopped it: the
// reconciler no longer syncs it and, in the background so that other pods
// do not wait for its grace period, runs its preStop hooks, sends SIGTERM,
// SIGKILLs what still runs when the grace (counted from when this node
// noticed, as the kubelet counts it) is up, removes its network, and then
// deletes it for good through the API. A step that fails is tried again
// by a later pass, which finds the pod still Terminating.

// terminate starts stopping p unless that is already under way.
func (n *Reconciler) terminate(ctx context.Context, p *api.Pod) {
	uid := string(p.ObjectMeta.UID)
	n.mu.Lock()
	if n.stopping[uid] != nil {
		n.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	n.stopping[uid] = cancel
	n.mu.Unlock()
	grace := time.Duration(api.TerminationGracePeriod(p)) * time.Second
	if g := p.ObjectMeta.DeletionGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	pod := p.DeepCopy()
	n.stops.Add(1)
	go func() {
		defer n.stops.Done()
		defer func() {
			n.mu.Lock()
			delete(n.stopping, uid)
			n.mu.Unlock()
			cancel()
		}()
		log := n.cfg.Log.With("pod", api.KeyOf(pod), "uid", uid)
		log.Info("stopping pod deleted gracefully", "grace", grace)
		if err := n.d.Runtime.TerminatePod(ctx, pod, grace); err != nil {
			if ctx.Err() == nil {
				log.Warn("stop pod", "err", err)
			}
			return
		}
		if err := n.d.Network.TeardownPod(ctx, podNetID(uid)); err != nil {
			log.Warn("remove pod network", "err", err)
			return
		}
		if err := n.d.Status.FinishDeletion(ctx, pod); err != nil {
			if ctx.Err() == nil {
				log.Warn("finish deletion of pod", "err", err)
			}
			return
		}
		n.mu.Lock()
		delete(n.reported, uid)
		n.mu.Unlock()
		log.Info("pod stopped and deleted")
	}()
}

// cancelTerminations cancels the terminations of pods the state no longer
// holds (removed at once meanwhile: forced, with their owner, or with their
// node): the removal of unclaimed pods takes them, with the short stop
// grace, and must not wait for a long grace period while every other pod
// of the node waits for it, nor leave running a pod whose IP is free again.
func (n *Reconciler) cancelTerminations(want map[string]bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for uid, cancel := range n.stopping {
		if !want[uid] {
			cancel()
		}
	}
}
