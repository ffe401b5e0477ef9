package controllers

import (
	"context"
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// replicationResync bounds how long the controller trusts that nothing
// changed: a lost write or a failed create is retried at the latest then.
const replicationResync = 2 * time.Second

// replicationController runs every RC and ReplicaSet while this server
// leads: it counts the live pods each selects and creates or deletes pods
// until the count is spec.replicas. It reads the state after each of its
// own writes has applied (Apply returns then on the leader), so it never
// counts a pod twice or misses one it just made.
func (l *Leader) replicationController(ctx context.Context) {
	cs, _ := l.state.(ReplicaStore)
	if cs == nil {
		return
	}
	l.onEachChange(ctx, replicationResync, func() {
		ctrls, _ := cs.Controllers("", nil)
		known := map[string]bool{}
		for _, c := range ctrls {
			known[string(api.MetaOf(c).UID)] = true
		}
		l.addJobUIDs(known)                          // job.go
		if dss, ok := l.state.(DaemonSetStore); ok { // a DaemonSet's pods are no orphans
			sets, _ := dss.DaemonSets(nil)
			for _, ds := range sets {
				known[string(ds.UID)] = true
			}
		}
		snap := l.newReplicaSnapshot()
		for _, c := range ctrls {
			if err := l.syncReplicasFrom(ctx, c, known, snap); err != nil && ctx.Err() == nil {
				l.log.Warn("replication", "kind", api.TypeMetaOf(c).Kind, "name", api.Key(api.MetaOf(c).Namespace, api.MetaOf(c).Name), "err", err)
			}
		}
	})
}

// replicaPlan is what one pass decided for one controller: pure, so that
// it is tested without Raft.
type replicaPlan struct {
	release []*api.Pod // owned but no longer selected: drop our reference
	adopt   []*api.Pod // selected orphans: take them
	live    []*api.Pod // owned, selected and counted
	create  int
	remove  []*api.Pod // surplus, in the order to delete
}

// planReplicas decides what to do for ctrl given the pods of its namespace.
// known holds the UIDs of every existing controller: a pod whose
// controller is gone counts as an orphan. notReady names the nodes the
// fleet has declared not ready.
func planReplicas(ctrl api.Replicated, sel labels.Selector, pods []*api.Pod, known, notReady map[string]bool) replicaPlan {
	var plan replicaPlan
	uid := api.MetaOf(ctrl).UID
	for _, p := range pods {
		ref := api.ControllerOf(p)
		selected := sel.Matches(labels.Set(p.ObjectMeta.Labels))
		switch {
		case ref != nil && ref.UID == uid:
			if !selected {
				plan.release = append(plan.release, p)
				continue
			}
		case ref == nil || !known[string(ref.UID)]:
			if !selected || consensus.Terminal(p) || p.ObjectMeta.DeletionTimestamp != nil {
				continue
			}
			plan.adopt = append(plan.adopt, p)
		default:
			continue
		}
		if countsLive(p, notReady) {
			plan.live = append(plan.live, p)
		}
	}
	want := int(api.DesiredReplicas(ctrl))
	switch {
	case len(plan.live) < want:
		plan.create = want - len(plan.live)
	case len(plan.live) > want:
		surplus := append([]*api.Pod(nil), plan.live...)
		sort.SliceStable(surplus, func(i, j int) bool { return deleteFirst(surplus[i], surplus[j]) })
		plan.remove = surplus[:len(plan.live)-want]
	}
	return plan
}

// countsLive: a finished pod is not a replica, nor is a terminating one
// (its node is stopping it: Kubernetes makes the replacement at once),
// nor a pod the fleet lost with its node (unless it tolerates that). Any other pod is, even one
// whose node is merely slow, so that no replacement ever runs beside a
// live original.
func countsLive(p *api.Pod, notReady map[string]bool) bool {
	if consensus.Terminal(p) || consensus.Terminating(p) {
		return false
	}
	// A pod that tolerates its node's loss (issue 25) still runs there
	// and stays a replica until the node lifecycle deletes it.
	if p.Status.Phase == api.PodUnknown && notReady[p.Spec.NodeName] && api.LostNodeTolerance(p) == 0 {
		return false
	}
	return true
}

// deleteFirst orders surplus pods as Kubernetes does: unplaced before
// placed, pending before running, not ready before ready, newer before older.
func deleteFirst(a, b *api.Pod) bool {
	if ba, bb := consensus.Bound(a), consensus.Bound(b); ba != bb {
		return !ba
	}
	if ra, rb := a.Status.Phase == api.PodRunning, b.Status.Phase == api.PodRunning; ra != rb {
		return !ra
	}
	if ra, rb := podReady(a), podReady(b); ra != rb {
		return !ra
	}
	ta, tb := creationTime(a), creationTime(b)
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return a.ObjectMeta.Name > b.ObjectMeta.Name
}

func creationTime(p *api.Pod) time.Time {
	if p.ObjectMeta.CreationTimestamp.IsZero() {
		return time.Time{}
	}
	return p.ObjectMeta.CreationTimestamp.Time
}

func podReady(p *api.Pod) bool {
	c := podCondition(p, "Ready")
	return c != nil && c.Status == "True"
}

// replicaSnapshot is the state one replication pass plans every
// controller from: each namespace's pods read once, when a controller of
// it is first planned, and the nodes not ready. Each controller read its
// namespace's pods (a JSON copy of each) and every node again: at every
// change of state, work of controllers times pods, which at 100 nodes and
// 1,000 pods already held creates to 0.8 s and at 10,000 pods grows a
// hundredfold (docs/scale.md). A pass plans each controller once; what
// its writes change, the next pass (at the next index) reads.
type replicaSnapshot struct {
	l        *Leader
	pods     map[string][]*api.Pod
	notReady map[string]bool
}

func (l *Leader) newReplicaSnapshot() *replicaSnapshot {
	notReady := map[string]bool{}
	for _, in := range l.state.AppendNodeInfos(nil) { // stored, read-only
		if !placement.NodeReady(in.Node) {
			notReady[in.Node.ObjectMeta.Name] = true
		}
	}
	return &replicaSnapshot{l: l, pods: map[string][]*api.Pod{}, notReady: notReady}
}

// podsIn is the namespace's pods as stored: read-only, shared, not
// copied (the state stores a changed pod as a new one and never changes a
// stored pod in place). Whoever changes one copies it first
// (syncReplicasFrom's release and adoption).
func (s *replicaSnapshot) podsIn(ns string) []*api.Pod {
	pods, ok := s.pods[ns]
	if !ok {
		pods = []*api.Pod{}
		s.l.state.Pods(func(p *api.Pod) bool {
			if p.ObjectMeta.Namespace == ns {
				pods = append(pods, p)
			}
			return false // nothing copied
		})
		s.pods[ns] = pods
	}
	return pods
}

// syncReplicas plans and writes one controller from the state as it is.
func (l *Leader) syncReplicas(ctx context.Context, ctrl api.Replicated, known map[string]bool) error {
	return l.syncReplicasFrom(ctx, ctrl, known, l.newReplicaSnapshot())
}

func (l *Leader) syncReplicasFrom(ctx context.Context, ctrl api.Replicated, known map[string]bool, snap *replicaSnapshot) error {
	meta := api.MetaOf(ctrl)
	sel, err := api.PodSelector(ctrl)
	if err != nil {
		return fmt.Errorf("selector: %w", err)
	}
	plan := planReplicas(ctrl, sel, snap.podsIn(meta.Namespace), known, snap.notReady)
	ref := api.NewControllerRef(ctrl)
	for _, p := range plan.release {
		p = p.DeepCopy() // the snapshot's pods are the stored ones
		var refs []api.OwnerReference
		for _, r := range p.ObjectMeta.OwnerReferences {
			if r.UID != meta.UID {
				refs = append(refs, r)
			}
		}
		p.ObjectMeta.OwnerReferences = refs
		if err := l.writePodMeta(ctx, p); err != nil {
			return fmt.Errorf("release pod %s: %w", p.ObjectMeta.Name, err)
		}
		l.log.Info("released pod whose labels left the selector", "owner", meta.Name, "pod", p.ObjectMeta.Name)
	}
	for _, p := range plan.adopt {
		p = p.DeepCopy()
		var refs []api.OwnerReference
		for _, r := range p.ObjectMeta.OwnerReferences {
			if r.Controller == nil || !*r.Controller {
				refs = append(refs, r)
			}
		}
		p.ObjectMeta.OwnerReferences = append(refs, ref)
		if err := l.writePodMeta(ctx, p); err != nil {
			return fmt.Errorf("adopt pod %s: %w", p.ObjectMeta.Name, err)
		}
		l.log.Info("adopted matching pod", "owner", meta.Name, "pod", p.ObjectMeta.Name)
	}
	created, createErr := l.createReplicas(ctx, ctrl, plan.create) // replication_batch.go
	if createErr != nil {
		return fmt.Errorf("create replica: %w", createErr)
	}
	removed := 0
	for _, p := range plan.remove {
		_, err := l.seat.Apply(ctx, consensus.DeletePod{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID})
		if err != nil && !consensus.IsNotFound(err) {
			return fmt.Errorf("delete surplus replica %s: %w", p.ObjectMeta.Name, err)
		}
		removed++
		l.log.Info("deleted surplus replica", "owner", meta.Name, "pod", p.ObjectMeta.Name)
	}
	return l.writeReplicaStatus(ctx, ctrl, plan, created, removed)
}

// writePodMeta stores changed ownerReferences through ApplyPod, guarded by
// the resourceVersion read, so a concurrent change wins and the next pass
// decides again.
func (l *Leader) writePodMeta(ctx context.Context, p *api.Pod) error {
	_, err := l.seat.Apply(ctx, consensus.ApplyPod{Pod: *p, Time: time.Now().UTC()})
	return err
}

func (l *Leader) writeReplicaStatus(ctx context.Context, ctrl api.Replicated, plan replicaPlan, created, removed int) error {
	st := api.ReplicaCounts{ObservedGeneration: api.MetaOf(ctrl).Generation}
	removing := map[string]bool{}
	for _, p := range plan.remove {
		removing[string(p.ObjectMeta.UID)] = true
	}
	for _, p := range plan.live {
		if removing[string(p.ObjectMeta.UID)] {
			continue
		}
		st.Replicas++
		st.FullyLabeledReplicas++
		if podReady(p) {
			st.ReadyReplicas++
			st.AvailableReplicas++
		}
	}
	st.Replicas += int32(created)
	st.FullyLabeledReplicas += int32(created)
	if api.ReplicaStatus(ctrl) == st {
		return nil
	}
	meta := api.MetaOf(ctrl)
	_, err := l.seat.Apply(ctx, consensus.UpdateControllerStatus{Kind: api.TypeMetaOf(ctrl).Kind, Namespace: meta.Namespace, Name: meta.Name, UID: meta.UID, Status: st})
	if consensus.IsNotFound(err) || consensus.IsConflict(err) {
		return nil // deleted or replaced meanwhile
	}
	return err
}
