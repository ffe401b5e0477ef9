package controllers

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// noExecuteResync is how often the NoExecute loop looks again without a
// change of state: the resolution of tolerationSeconds.
const noExecuteResync = time.Second

// noExecuteController deletes the pods bound to a node with a NoExecute
// taint they do not tolerate, as Kubernetes' taint eviction controller
// does: at once, or once the smallest tolerationSeconds of the
// tolerations that let them stay has run out since the taint's
// timeAdded. Their controllers re-create them; placement keeps the new
// ones off the tainted node.
func (l *Leader) noExecuteController(ctx context.Context) {
	l.onEachChange(ctx, noExecuteResync, func() { l.evictNoExecute(ctx, time.Now()) })
}

func (l *Leader) evictNoExecute(ctx context.Context, now time.Time) {
	// The stored nodes, read-only and not copied: this runs at every
	// change of state, and a copy of every Node each time was work of
	// nodes times changes on the leader (docs/scale.md).
	tainted := map[string][]api.Taint{}
	for _, in := range l.state.AppendNodeInfos(nil) {
		n := in.Node
		for _, t := range n.Spec.Taints {
			if t.Effect == api.TaintNoExecute {
				tainted[n.ObjectMeta.Name] = append(tainted[n.ObjectMeta.Name], t)
			}
		}
	}
	if len(tainted) == 0 {
		return
	}
	pods, _ := l.state.Pods(func(p *api.Pod) bool {
		return tainted[p.Spec.NodeName] != nil && consensus.Bound(p) && !consensus.Terminal(p)
	})
	var evict []*api.Pod
	for _, p := range pods {
		if due, ok := evictionDue(p, tainted[p.Spec.NodeName]); ok && !now.Before(due) {
			evict = append(evict, p)
		}
	}
	sideBySide(len(evict), leaderWrites, func(i int) {
		p := evict[i]
		_, err := l.seat.Apply(ctx, consensus.DeletePod{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			if ctx.Err() == nil {
				l.log.Warn("evict pod from NoExecute-tainted node", "pod", api.KeyOf(p), "node", p.Spec.NodeName, "err", err)
			}
			return
		}
		l.events.LeaderEvent(p, "Normal", "TaintManagerEviction", "Deleting pod: node "+p.Spec.NodeName+" has a NoExecute taint it does not tolerate")
		l.log.Info("evicted pod from NoExecute-tainted node", "pod", api.KeyOf(p), "node", p.Spec.NodeName)
	})
}

// evictionDue is when the pod must leave a node with these NoExecute
// taints: ok false while it tolerates them all for good; otherwise the
// moment, which is the zero time for a taint it does not tolerate.
func evictionDue(p *api.Pod, taints []api.Taint) (time.Time, bool) {
	var due time.Time
	bounded := false
	for i := range taints {
		t := &taints[i]
		var (
			tolerated bool
			forever   bool
			least     int64 = -1
		)
		for j := range p.Spec.Tolerations {
			tol := &p.Spec.Tolerations[j]
			if !api.ToleratesTaint(tol, t) {
				continue
			}
			tolerated = true
			if tol.TolerationSeconds == nil {
				forever = true
				continue
			}
			s := max(*tol.TolerationSeconds, 0)
			if least < 0 || s < least {
				least = s
			}
		}
		if !tolerated {
			return time.Time{}, true
		}
		// Kubernetes takes the smallest tolerationSeconds of the
		// tolerations that match; one without a bound keeps the pod only
		// when no matching toleration bounds it.
		if least < 0 && forever {
			continue
		}
		var added time.Time
		if t.TimeAdded != nil {
			added = t.TimeAdded.Time
		}
		at := added.Add(time.Duration(least) * time.Second)
		if !bounded || at.Before(due) {
			due, bounded = at, true
		}
	}
	return due, bounded
}
