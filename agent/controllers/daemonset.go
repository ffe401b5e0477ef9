package controllers

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// DaemonSetStore is the part of the state that holds DaemonSets; a State
// without it runs no daemon set controller.
type DaemonSetStore interface {
	DaemonSets(filter func(*api.DaemonSet) bool) ([]*api.DaemonSet, uint64)
}

var _ DaemonSetStore = (*consensus.FSM)(nil)

// daemonSetController runs every DaemonSet while this server leads, as
// Kubernetes' daemon set controller does (pkg/controller/daemon): one
// pod of the template on every registered node its nodeSelector matches,
// pinned there by spec.nodeName, so placement binds it to that node or
// nowhere. A node that stops matching loses its pod; a node that joins
// gets one. A node the fleet loses keeps its pod: it turns Unknown and is
// neither deleted (nodelifecycle.go leaves daemon pods alone) nor made
// again elsewhere. RollingUpdate replaces old pods at most maxUnavailable
// nodes at a time; OnDelete makes new pods only where the old ones were
// deleted. Each pass reads the state and takes one step.
func (l *Leader) daemonSetController(ctx context.Context) {
	dss, _ := l.state.(DaemonSetStore)
	if dss == nil {
		return
	}
	l.onEachChange(ctx, replicationResync, func() {
		sets, _ := dss.DaemonSets(nil)
		if len(sets) == 0 {
			return
		}
		nodes, _ := l.state.Nodes()
		for _, ds := range sets {
			if err := l.syncDaemonSet(ctx, ds, nodes, time.Now().UTC()); err != nil && ctx.Err() == nil {
				l.log.Warn("daemon set", "name", api.Key(ds.Namespace, ds.Name), "err", err)
			}
		}
	})
}

// daemonPlan is what one pass decided for one DaemonSet: pure, so that it
// is tested without Raft.
type daemonPlan struct {
	adopt  []*api.Pod // selected orphans on a node: take them
	create []string   // nodes to get a new pod, by name
	remove []*api.Pod // pods to delete
	status api.DaemonSetStatus
}

// planDaemonSet decides the step of ds given the nodes and pods (those of
// other controllers are left out) at now; sel is its selector and hash the
// hash of its current template. An orphan the selector matches that is on
// (or pinned to) a node is adopted, as Kubernetes does, and counts as the
// DaemonSet's own in the same pass.
func planDaemonSet(ds *api.DaemonSet, sel labels.Selector, hash string, nodes []*api.Node, pods []*api.Pod, now time.Time) daemonPlan {
	var plan daemonPlan
	byNode := map[string][]*api.Pod{}
	// A node whose pod is terminating gets its new one once it is gone,
	// as in Kubernetes: never two at once.
	terminating := map[string]bool{}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			if ref := api.ControllerOf(p); ref != nil && ref.UID == ds.UID {
				terminating[p.Spec.NodeName] = true
			}
			continue
		}
		switch ref := api.ControllerOf(p); {
		case ref == nil:
			if consensus.Terminal(p) || p.Spec.NodeName == "" || !sel.Matches(labels.Set(p.Labels)) {
				continue
			}
			plan.adopt = append(plan.adopt, p)
		case ref.UID != ds.UID:
			continue
		}
		if consensus.Terminal(p) {
			// A daemon pod restarts in place; one that finished anyway
			// (Failed) is replaced, as in Kubernetes.
			plan.remove = append(plan.remove, p)
			continue
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
	}
	minReady := time.Duration(ds.Spec.MinReadySeconds) * time.Second
	sorted := append([]*api.Node(nil), nodes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	st := api.DaemonSetStatus{ObservedGeneration: ds.Generation}
	var (
		unavailable int32
		oldReady    []*api.Pod // old pods that are available: the rollout's candidates
	)
	for _, n := range sorted {
		on := byNode[n.Name]
		delete(byNode, n.Name)
		shouldRun, mayStay := api.DaemonNodeFit(ds, n)
		if !shouldRun {
			if len(on) > 0 {
				st.NumberMisscheduled++
				if !mayStay {
					plan.remove = append(plan.remove, on...)
				}
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(on) == 0 {
			if !terminating[n.Name] {
				plan.create = append(plan.create, n.Name)
			}
			unavailable++
			continue
		}
		// More than one (a pass that raced its own write): the oldest
		// stays, as in Kubernetes.
		sort.SliceStable(on, func(i, j int) bool { return olderPod(on[i], on[j]) })
		plan.remove = append(plan.remove, on[1:]...)
		p := on[0]
		st.CurrentNumberScheduled++
		updated := p.Labels[api.ControllerRevisionHashLabel] == hash
		available := podAvailable(p, minReady, now)
		if podReady(p) {
			st.NumberReady++
		}
		if available {
			st.NumberAvailable++
		}
		if updated {
			st.UpdatedNumberScheduled++
		}
		switch {
		case updated && !available:
			unavailable++
		case updated:
		case !available:
			// An old pod that is not available costs nothing to replace.
			if ds.Spec.UpdateStrategy.Type == api.RollingUpdateDaemonSetStrategyType {
				plan.remove = append(plan.remove, p)
			}
		default:
			oldReady = append(oldReady, p)
		}
	}
	// Pods of nodes the state no longer holds.
	gone := make([]string, 0, len(byNode))
	for name := range byNode {
		gone = append(gone, name)
	}
	sort.Strings(gone)
	for _, name := range gone {
		plan.remove = append(plan.remove, byNode[name]...)
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	if ds.Spec.UpdateStrategy.Type == api.RollingUpdateDaemonSetStrategyType {
		budget := api.DaemonMaxUnavailable(ds, st.DesiredNumberScheduled) - unavailable
		if budget > 0 {
			plan.remove = append(plan.remove, oldReady[:min(int(budget), len(oldReady))]...)
		}
	}
	plan.status = st
	return plan
}

// podAvailable: Ready (on a node the fleet has not lost) for at least
// minReady.
func podAvailable(p *api.Pod, minReady time.Duration, now time.Time) bool {
	if p.Status.Phase != api.PodRunning {
		return false
	}
	c := podCondition(p, "Ready")
	if c == nil || c.Status != api.ConditionTrue {
		return false
	}
	return minReady == 0 || !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(minReady).After(now)
}

// olderPod orders a node's daemon pods: the oldest first, by name when
// they were made in the same second.
func olderPod(a, b *api.Pod) bool {
	ta, tb := creationTime(a), creationTime(b)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

func (l *Leader) syncDaemonSet(ctx context.Context, ds *api.DaemonSet, nodes []*api.Node, now time.Time) error {
	hash := templateHash(&ds.Spec.Template) // deployment.go
	sel, err := api.SelectorOf(ds.Spec.Selector)
	if err != nil {
		return fmt.Errorf("selector: %w", err)
	}
	// Only its own pods and orphans are copied out of the state: the pass
	// runs at every index, and the namespace may hold many others.
	pods, _ := l.state.Pods(func(p *api.Pod) bool {
		ref := api.ControllerOf(p)
		return p.Namespace == ds.Namespace && (ref == nil || ref.UID == ds.UID)
	})
	if err := l.syncHistory(ctx, ds, hash, pods); err != nil { // daemonset_history.go
		return err
	}
	plan := planDaemonSet(ds, sel, hash, nodes, pods, now)
	for _, p := range plan.adopt {
		p.OwnerReferences = append(p.OwnerReferences, api.NewControllerRef(ds))
		if err := l.writePodMeta(ctx, p); err != nil { // replication.go
			return fmt.Errorf("adopt pod %s: %w", p.Name, err)
		}
		l.log.Info("adopted matching pod", "daemonSet", ds.Name, "pod", p.Name, "node", p.Spec.NodeName)
	}
	for _, p := range plan.remove {
		_, err := l.seat.Apply(ctx, consensus.DeletePod{Namespace: p.Namespace, Name: p.Name, UID: p.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			return fmt.Errorf("delete daemon pod %s: %w", p.Name, err)
		}
		l.log.Info("deleted daemon pod", "daemonSet", ds.Name, "pod", p.Name, "node", p.Spec.NodeName)
	}
	var (
		mu        sync.Mutex
		createErr error
	)
	// Side by side (parallel.go): a new DaemonSet on a large fleet makes
	// a pod per node at once.
	sideBySide(len(plan.create), leaderWrites, func(i int) {
		node := plan.create[i]
		p := api.PodFromDaemonSet(ds, node, hash)
		p.Name = ds.Name + "-" + utilrand.String(5)
		_, err := l.seat.Apply(ctx, consensus.CreatePod{Pod: *p, UID: uuid.NewUUID(), Time: time.Now().UTC()})
		if consensus.IsAlreadyExists(err) || consensus.IsConflict(err) {
			return // a clash of suffixes, or the DaemonSet just went: the next pass decides
		}
		if err != nil {
			mu.Lock()
			createErr = cmp.Or(createErr, err)
			mu.Unlock()
			return
		}
		l.log.Info("created daemon pod", "daemonSet", ds.Name, "pod", p.Name, "node", node)
	})
	if createErr != nil {
		return fmt.Errorf("create daemon pod: %w", createErr)
	}
	return l.writeDaemonSetStatus(ctx, ds, plan.status)
}

func (l *Leader) writeDaemonSetStatus(ctx context.Context, ds *api.DaemonSet, st api.DaemonSetStatus) error {
	if reflect.DeepEqual(st, ds.Status) {
		return nil
	}
	_, err := l.seat.Apply(ctx, consensus.UpdateDaemonSetStatus{Namespace: ds.Namespace, Name: ds.Name, UID: ds.UID, Status: st})
	if consensus.IsNotFound(err) || consensus.IsConflict(err) {
		return nil // deleted or replaced meanwhile
	}
	return err
}
