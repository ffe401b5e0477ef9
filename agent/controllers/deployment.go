package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// deploymentController runs every Deployment while this server leads, as
// Kubernetes' deployment controller does (pkg/controller/deployment): one
// ReplicaSet per pod template, named <deployment>-<pod-template-hash>; the
// current template's scaled up and the others down, within maxSurge and
// maxUnavailable counted from the pods' readiness (RollingUpdate), or the
// others to 0 first (Recreate). The replication controller turns each
// ReplicaSet into pods. Each pass reads the state and takes one step, so
// a pass repeated after a crash or a lost write does no harm.
func (l *Leader) deploymentController(ctx context.Context) {
	cs, _ := l.state.(ReplicaStore)
	if cs == nil {
		return
	}
	l.onEachChange(ctx, replicationResync, func() {
		deploys, _ := cs.Controllers(api.KindDeployment, nil)
		for _, obj := range deploys {
			d := obj.(*api.Deployment)
			if err := l.syncDeployment(ctx, cs, d, time.Now().UTC()); err != nil && ctx.Err() == nil {
				l.log.Warn("deployment", "name", api.Key(d.Namespace, d.Name), "err", err)
			}
		}
	})
}

// rsView is one ReplicaSet of a Deployment with what its pods show.
type rsView struct {
	rs        *api.ReplicaSet
	spec      int32 // spec.replicas
	live      int32 // pods that run or will
	ready     int32
	available int32 // ready for at least minReadySeconds
	revision  int64
}

// usable is how many of the ReplicaSet's available pods stay: the
// replication controller removes the pods over spec.replicas, not-ready
// ones first, so available pods beyond spec.replicas are about to go.
func (v *rsView) usable() int32 { return min(v.available, v.spec) }

// footprint is how many pods the ReplicaSet may hold at once.
func (v *rsView) footprint() int32 { return max(v.spec, v.live) }

// deploymentView is a Deployment's ReplicaSets: the one of its current
// template (nil until created) and the older ones, oldest first.
type deploymentView struct {
	current *rsView
	old     []*rsView
}

func (dv *deploymentView) all() []*rsView {
	out := append([]*rsView(nil), dv.old...)
	if dv.current != nil {
		out = append(out, dv.current)
	}
	return out
}

// viewDeployment sorts the ReplicaSets d controls into current and old
// and counts their pods at now.
func viewDeployment(d *api.Deployment, rss []api.Replicated, pods []*api.Pod, now time.Time) *deploymentView {
	byUID := map[api.UID]*rsView{}
	dv := &deploymentView{}
	for _, obj := range rss {
		rs := obj.(*api.ReplicaSet)
		if ref := api.ControllerOfMeta(&rs.ObjectMeta); ref == nil || ref.UID != d.UID || rs.Namespace != d.Namespace {
			continue
		}
		v := &rsView{rs: rs, spec: api.DesiredReplicas(rs), revision: revisionOf(&rs.ObjectMeta)}
		byUID[rs.UID] = v
		if dv.current == nil && sameTemplate(&d.Spec.Template, &rs.Spec.Template) {
			dv.current = v
			continue
		}
		dv.old = append(dv.old, v)
	}
	sort.SliceStable(dv.old, func(i, j int) bool {
		a, b := dv.old[i], dv.old[j]
		if a.revision != b.revision {
			return a.revision < b.revision
		}
		return a.rs.Name < b.rs.Name
	})
	minReady := time.Duration(d.Spec.MinReadySeconds) * time.Second
	for _, p := range pods {
		ref := api.ControllerOf(p)
		if ref == nil {
			continue
		}
		v := byUID[ref.UID]
		if v == nil || consensus.Terminal(p) || p.DeletionTimestamp != nil {
			continue
		}
		v.live++
		c := podCondition(p, "Ready")
		if c == nil || c.Status != api.ConditionTrue {
			continue
		}
		v.ready++
		if minReady == 0 || !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(minReady).After(now) {
			v.available++
		}
	}
	return dv
}

// sameTemplate tells whether a ReplicaSet's template is the Deployment's,
// its pod-template-hash label aside.
func sameTemplate(dt, rt *api.PodTemplateSpec) bool {
	r := rt.DeepCopy()
	delete(r.Labels, api.PodTemplateHashLabel)
	if len(r.Labels) == 0 {
		r.Labels = nil
	}
	a, err1 := json.Marshal(dt)
	b, err2 := json.Marshal(r)
	return err1 == nil && err2 == nil && string(a) == string(b)
}

// templateHash is the pod-template-hash of a template, as Kubernetes
// spells it (an FNV-32a hash in the alphabet of generated names).
func templateHash(t *api.PodTemplateSpec) string {
	h := fnv.New32a()
	js, _ := json.Marshal(t) // a stored template always encodes
	h.Write(js)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func revisionOf(m *api.ObjectMeta) int64 {
	n, _ := strconv.ParseInt(m.Annotations[api.RevisionAnnotation], 10, 64)
	return n
}

// rolloutStep is what one pass decides: pure, so that it is tested
// without Raft. scale maps a ReplicaSet's name to its new spec.replicas.
type rolloutStep struct {
	scale map[string]int32
}

// planRollout decides the next step of a Deployment whose current
// ReplicaSet exists.
func planRollout(d *api.Deployment, dv *deploymentView) rolloutStep {
	step := rolloutStep{scale: map[string]int32{}}
	want := api.DesiredReplicas(d)
	cur := dv.current
	if d.Spec.Strategy.Type == api.RecreateDeploymentStrategyType {
		oldLive := int32(0)
		for _, v := range dv.old {
			if v.spec > 0 {
				step.scale[v.rs.Name] = 0
			}
			oldLive += v.live
		}
		// The new template's pods start only once every old pod is gone.
		if len(step.scale) == 0 && oldLive == 0 && cur.spec != want {
			step.scale[cur.rs.Name] = want
		}
		return step
	}
	surge, unavailable := api.RollingBounds(d)
	newSpec := cur.spec
	switch {
	case cur.spec > want:
		newSpec = want
	case cur.spec < want:
		var total int32
		for _, v := range dv.all() {
			total += v.footprint()
		}
		if room := want + surge - total; room > 0 {
			newSpec = cur.spec + min(want-cur.spec, room)
		}
	}
	if newSpec != cur.spec {
		step.scale[cur.rs.Name] = newSpec
	}
	// Old pods that are not available go without costing availability
	// (the replication controller removes not-ready pods first); available
	// ones only while enough stay available.
	var usable int32
	for _, v := range dv.all() {
		usable += v.usable()
	}
	budget := usable - (want - unavailable)
	for _, v := range dv.old {
		if v.spec == 0 {
			continue
		}
		keep := v.usable()
		if cut := min(keep, max(budget, 0)); cut > 0 {
			keep -= cut
			budget -= cut
		}
		if keep != v.spec {
			step.scale[v.rs.Name] = keep
		}
	}
	return step
}

func (l *Leader) syncDeployment(ctx context.Context, cs ReplicaStore, d *api.Deployment, now time.Time) error {
	rss, _ := cs.Controllers(api.KindReplicaSet, func(o api.Replicated) bool { return api.MetaOf(o).Namespace == d.Namespace })
	if claimed, err := l.claimReplicaSets(ctx, d, rss); err != nil { // deployment_adopt.go
		return err
	} else if claimed {
		rss, _ = cs.Controllers(api.KindReplicaSet, func(o api.Replicated) bool { return api.MetaOf(o).Namespace == d.Namespace })
	}
	pods, _ := l.state.Pods(func(p *api.Pod) bool { return p.Namespace == d.Namespace })
	dv := viewDeployment(d, rss, pods, now)
	created := false
	if dv.current == nil && !d.Spec.Paused {
		if err := l.createReplicaSet(ctx, d, dv); err != nil {
			return err
		}
		created = true
		rss, _ = cs.Controllers(api.KindReplicaSet, func(o api.Replicated) bool { return api.MetaOf(o).Namespace == d.Namespace })
		dv = viewDeployment(d, rss, pods, now)
		if dv.current == nil {
			return fmt.Errorf("replica set for the current template not found after creating it")
		}
	}
	if err := l.markRevision(ctx, d, dv); err != nil {
		return err
	}
	progressed := created
	if dv.current != nil && !d.Spec.Paused {
		step := planRollout(d, dv)
		for _, v := range dv.all() {
			n, ok := step.scale[v.rs.Name]
			if !ok {
				continue
			}
			_, err := l.seat.Apply(ctx, consensus.ScaleController{Kind: api.KindReplicaSet, Namespace: d.Namespace,
				Name: v.rs.Name, Replicas: n, ResourceVersion: v.rs.ResourceVersion})
			if consensus.IsConflict(err) || consensus.IsNotFound(err) {
				continue // changed meanwhile: the next pass decides again
			}
			if err != nil {
				return fmt.Errorf("scale replica set %s to %d: %w", v.rs.Name, n, err)
			}
			l.log.Info("scaled replica set", "deployment", d.Name, "replicaSet", v.rs.Name, "from", v.spec, "to", n)
			v.spec = n
			progressed = true
		}
	}
	if err := l.pruneHistory(ctx, d, dv); err != nil {
		return err
	}
	return l.writeDeploymentStatus(ctx, d, dv, created, progressed, now)
}

// createReplicaSet makes the ReplicaSet of the Deployment's template,
// empty: the next steps scale it.
func (l *Leader) createReplicaSet(ctx context.Context, d *api.Deployment, dv *deploymentView) error {
	hash := templateHash(&d.Spec.Template)
	var rev int64
	for _, v := range dv.old {
		rev = max(rev, v.revision)
	}
	tmpl := d.Spec.Template.DeepCopy()
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[api.PodTemplateHashLabel] = hash
	sel := d.Spec.Selector.DeepCopy()
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[api.PodTemplateHashLabel] = hash
	zero := int32(0)
	rs := &api.ReplicaSet{
		TypeMeta: api.TypeMeta{APIVersion: api.AppsV1, Kind: api.KindReplicaSet},
		ObjectMeta: api.ObjectMeta{Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: tmpl.Labels,
			Annotations:     map[string]string{api.RevisionAnnotation: strconv.FormatInt(rev+1, 10)},
			OwnerReferences: []api.OwnerReference{api.NewControllerRef(d)}},
		Spec: api.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: *tmpl},
	}
	_, err := l.seat.Apply(ctx, consensus.ApplyController{RS: rs, Create: true, UID: uuid.NewUUID(), Time: time.Now().UTC()})
	if err != nil && !consensus.IsAlreadyExists(err) {
		return fmt.Errorf("create replica set %s: %w", rs.Name, err)
	}
	l.log.Info("created replica set", "deployment", d.Name, "replicaSet", rs.Name, "revision", rev+1)
	return nil
}

// markRevision numbers the current ReplicaSet after every older one (a
// template rolled back to gets a new number, as in Kubernetes) and gives
// the Deployment the same number.
func (l *Leader) markRevision(ctx context.Context, d *api.Deployment, dv *deploymentView) error {
	if dv.current == nil {
		return nil
	}
	var oldest int64
	for _, v := range dv.old {
		oldest = max(oldest, v.revision)
	}
	cur := dv.current
	if cur.revision <= oldest || cur.revision == 0 {
		rs := cur.rs.DeepCopy()
		if rs.Annotations == nil {
			rs.Annotations = map[string]string{}
		}
		cur.revision = oldest + 1
		rs.Annotations[api.RevisionAnnotation] = strconv.FormatInt(cur.revision, 10)
		out, err := l.seat.Apply(ctx, consensus.ApplyController{RS: rs, Time: time.Now().UTC()})
		if err != nil {
			return fmt.Errorf("number replica set %s: %w", rs.Name, err)
		}
		cur.rs = out.Controller.(*api.ReplicaSet)
	}
	want := strconv.FormatInt(cur.revision, 10)
	if d.Annotations[api.RevisionAnnotation] == want {
		return nil
	}
	nd := d.DeepCopy()
	if nd.Annotations == nil {
		nd.Annotations = map[string]string{}
	}
	nd.Annotations[api.RevisionAnnotation] = want
	_, err := l.seat.Apply(ctx, consensus.ApplyController{Deploy: nd, Time: time.Now().UTC()})
	if consensus.IsConflict(err) || consensus.IsNotFound(err) {
		return nil // changed meanwhile: the next pass decides again
	}
	if err != nil {
		return fmt.Errorf("annotate revision %s: %w", want, err)
	}
	return nil
}

// pruneHistory deletes the oldest emptied ReplicaSets beyond
// revisionHistoryLimit.
func (l *Leader) pruneHistory(ctx context.Context, d *api.Deployment, dv *deploymentView) error {
	limit := api.DefaultRevisionHistoryLimit
	if d.Spec.RevisionHistoryLimit != nil {
		limit = int(*d.Spec.RevisionHistoryLimit)
	}
	var empty []*rsView
	for _, v := range dv.old {
		if v.spec == 0 && v.live == 0 {
			empty = append(empty, v)
		}
	}
	var kept []*rsView
	for i, v := range empty {
		if i >= len(empty)-limit {
			kept = append(kept, v)
			continue
		}
		_, err := l.seat.Apply(ctx, consensus.DeleteController{Kind: api.KindReplicaSet, Namespace: d.Namespace, Name: v.rs.Name, UID: v.rs.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			return fmt.Errorf("prune replica set %s: %w", v.rs.Name, err)
		}
		l.log.Info("pruned old replica set", "deployment", d.Name, "replicaSet", v.rs.Name, "revision", v.revision)
	}
	var old []*rsView
	for _, v := range dv.old {
		if v.spec != 0 || v.live != 0 {
			old = append(old, v)
		}
	}
	dv.old = append(old, kept...)
	return nil
}

// deploymentStatus is the status Kubernetes' controller would write for
// the view, its conditions' times carried over from prev unless they
// changed.
func deploymentStatus(d *api.Deployment, dv *deploymentView, created, progressed bool, now time.Time) api.DeploymentStatus {
	want := api.DesiredReplicas(d)
	_, unavailable := api.RollingBounds(d)
	st := api.DeploymentStatus{ObservedGeneration: d.Generation}
	var total int32
	for _, v := range dv.all() {
		st.Replicas += v.live
		st.ReadyReplicas += v.ready
		st.AvailableReplicas += v.available
		total += v.spec
	}
	if dv.current != nil {
		st.UpdatedReplicas = dv.current.live
	}
	st.UnavailableReplicas = max(total-st.AvailableReplicas, 0)

	prev := d.Status.Conditions
	avail := api.DeploymentCondition{Type: api.DeploymentAvailable, Status: api.ConditionTrue,
		Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability."}
	if st.AvailableReplicas < want-unavailable {
		avail.Status, avail.Reason, avail.Message = api.ConditionFalse, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
	}
	rsName := ""
	if dv.current != nil {
		rsName = dv.current.rs.Name
	}
	prog := api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue}
	complete := dv.current != nil && st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas >= want && dv.current.spec == want
	old := findCondition(prev, api.DeploymentProgressing)
	deadline := time.Duration(api.DefaultProgressDeadlineSeconds) * time.Second
	if d.Spec.ProgressDeadlineSeconds != nil {
		deadline = time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	}
	switch {
	case d.Spec.Paused:
		prog.Status, prog.Reason, prog.Message = api.ConditionUnknown, "DeploymentPaused", "Deployment is paused"
	case complete:
		prog.Reason, prog.Message = "NewReplicaSetAvailable", fmt.Sprintf("ReplicaSet %q has successfully progressed.", rsName)
	case created:
		prog.Reason, prog.Message = "NewReplicaSetCreated", fmt.Sprintf("Created new replica set %q", rsName)
	case progressed || old == nil || countsMoved(&d.Status, &st):
		prog.Reason, prog.Message = "ReplicaSetUpdated", fmt.Sprintf("ReplicaSet %q is progressing.", rsName)
		progressed = true
	case old.Reason == "ProgressDeadlineExceeded" || !old.LastUpdateTime.IsZero() && now.Sub(old.LastUpdateTime.Time) > deadline:
		prog.Status, prog.Reason, prog.Message = api.ConditionFalse, "ProgressDeadlineExceeded", fmt.Sprintf("ReplicaSet %q has timed out progressing.", rsName)
	default:
		prog = *old
	}
	st.Conditions = []api.DeploymentCondition{
		stamp(findCondition(prev, api.DeploymentAvailable), avail, false, now),
		stamp(old, prog, progressed, now),
	}
	return st
}

// countsMoved tells whether the rollout moved since the stored status.
func countsMoved(a, b *api.DeploymentStatus) bool {
	return a.UpdatedReplicas != b.UpdatedReplicas || a.AvailableReplicas != b.AvailableReplicas ||
		a.Replicas != b.Replicas || a.ReadyReplicas != b.ReadyReplicas
}

func findCondition(cs []api.DeploymentCondition, t api.DeploymentConditionType) *api.DeploymentCondition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// stamp gives c its times: the transition time moves when the status
// does, the update time when the reason or message does, or when touch.
func stamp(prev *api.DeploymentCondition, c api.DeploymentCondition, touch bool, now time.Time) api.DeploymentCondition {
	t := api.TimeOf(now.Truncate(time.Second))
	c.LastUpdateTime, c.LastTransitionTime = t, t
	if prev == nil {
		return c
	}
	if prev.Status == c.Status {
		c.LastTransitionTime = prev.LastTransitionTime
	}
	if prev.Status == c.Status && prev.Reason == c.Reason && prev.Message == c.Message && !touch {
		c.LastUpdateTime = prev.LastUpdateTime
	}
	return c
}

func (l *Leader) writeDeploymentStatus(ctx context.Context, d *api.Deployment, dv *deploymentView, created, progressed bool, now time.Time) error {
	st := deploymentStatus(d, dv, created, progressed, now)
	a, _ := json.Marshal(st)
	b, _ := json.Marshal(d.Status)
	if string(a) == string(b) {
		return nil
	}
	_, err := l.seat.Apply(ctx, consensus.UpdateDeploymentStatus{Namespace: d.Namespace, Name: d.Name, UID: d.UID, Status: st})
	if consensus.IsNotFound(err) || consensus.IsConflict(err) {
		return nil
	}
	return err
}
