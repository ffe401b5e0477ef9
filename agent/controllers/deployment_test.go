package controllers

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// deployRig drives the real deployment and replication controllers on a
// one-seat cluster one pass at a time, with node n1 standing in for the
// kubelet: it binds new pods and makes at most readyPerStep of them Ready
// per step, so a rollout takes many steps and every step is sampled.
type deployRig struct {
	t            *testing.T
	l            *Leader
	s            *consensus.TestServer
	ctx          context.Context
	readyPerStep int
}

func newDeployRig(t *testing.T, readyPerStep int) *deployRig {
	t.Helper()
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	registerReady(t, s, Member{Name: "n1", Addr: "10.0.0.1", Pods: 1000, Memory: "1000Gi", CPU: "1000"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &deployRig{t: t, l: l, s: s, ctx: ctx, readyPerStep: readyPerStep}
}

func webDeployment(replicas int32, image string, strategy api.DeploymentStrategy) *api.Deployment {
	d := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: api.DeploymentSpec{Replicas: &replicas, Strategy: strategy,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: image}}}}}}
	d.APIVersion, d.Kind = api.AppsV1, api.KindDeployment
	return d
}

func (r *deployRig) deployment() *api.Deployment {
	r.t.Helper()
	obj, err := r.s.FSM.Controller(api.KindDeployment, "default", "web")
	if err != nil {
		r.t.Fatal(err)
	}
	return obj.(*api.Deployment)
}

// setImage changes the template as kubectl set image does: a PUT of the
// stored object with a new image.
func (r *deployRig) setImage(image string) {
	d := r.deployment()
	d.Spec.Template.Spec.Containers[0].Image = image
	apply(r.t, r.s, consensus.ApplyController{Deploy: d, Time: time.Now().UTC()})
}

// step runs one pass of each loop and then the kubelet.
func (r *deployRig) step() {
	t := r.t
	t.Helper()
	if err := r.l.syncDeployment(r.ctx, r.s.FSM, r.deployment(), time.Now().UTC()); err != nil {
		t.Fatalf("deployment pass: %v", err)
	}
	ctrls, _ := r.s.FSM.Controllers("", nil)
	known := map[string]bool{}
	for _, c := range ctrls {
		known[string(api.MetaOf(c).UID)] = true
	}
	for _, c := range ctrls {
		if err := r.l.syncReplicas(r.ctx, c, known); err != nil {
			t.Fatalf("replication pass: %v", err)
		}
	}
	pods, _ := r.s.FSM.Pods(nil)
	readied := 0
	for _, p := range pods {
		if !consensus.Bound(p) {
			ip, err := r.s.FSM.FreePodIP("n1")
			if err != nil {
				t.Fatal(err)
			}
			apply(t, r.s, consensus.BindPod{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Node: "n1", PodIP: ip.String(), Time: time.Now().UTC()})
			setReady(t, r.s, p.Namespace, p.Name, false)
			continue
		}
		if !podReady(p) && readied < r.readyPerStep {
			setReady(t, r.s, p.Namespace, p.Name, true)
			readied++
		}
	}
}

// census counts the live pods of each template by image, and the Ready ones.
type census struct {
	live, ready int
	byImage     map[string]int
}

func (r *deployRig) census() census {
	pods, _ := r.s.FSM.Pods(nil)
	c := census{byImage: map[string]int{}}
	for _, p := range pods {
		if consensus.Terminal(p) {
			continue
		}
		c.live++
		c.byImage[p.Spec.Containers[0].Image]++
		if podReady(p) {
			c.ready++
		}
	}
	return c
}

// done tells whether the rollout is complete as kubectl rollout status
// judges it.
func (r *deployRig) done() bool {
	d := r.deployment()
	st, want := d.Status, api.DesiredReplicas(d)
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want
}

// roll steps until the rollout is complete, checking check at every step.
func (r *deployRig) roll(what string, check func(step int, c census)) int {
	r.t.Helper()
	for i := 0; i < 500; i++ {
		r.step()
		check(i, r.census())
		if r.done() {
			return i
		}
	}
	r.t.Fatalf("%s never completed: %+v", what, r.deployment().Status)
	return 0
}

func (r *deployRig) replicaSets() map[string]string {
	out := map[string]string{}
	rss, _ := r.s.FSM.Controllers(api.KindReplicaSet, nil)
	for _, obj := range rss {
		rs := obj.(*api.ReplicaSet)
		out[rs.Spec.Template.Spec.Containers[0].Image] = fmt.Sprintf("replicas=%d revision=%s", api.DesiredReplicas(rs), rs.Annotations[api.RevisionAnnotation])
	}
	return out
}

func TestDeploymentRollingUpdateNeverDropsBelowMinAvailable(t *testing.T) {
	r := newDeployRig(t, 1)
	apply(t, r.s, consensus.ApplyController{Deploy: webDeployment(10, "web:1", api.DeploymentStrategy{}), Create: true, UID: "d-uid", Time: time.Now().UTC()})
	r.roll("first rollout", func(int, census) {})
	if got := r.replicaSets(); len(got) != 1 || got["web:1"] != "replicas=10 revision=1" {
		t.Fatalf("after the first rollout: %v", got)
	}
	rss, _ := r.s.FSM.Controllers(api.KindReplicaSet, nil)
	rs := rss[0].(*api.ReplicaSet)
	hash := rs.Spec.Template.Labels[api.PodTemplateHashLabel]
	if ref := api.ControllerOfMeta(&rs.ObjectMeta); ref == nil || ref.UID != "d-uid" || ref.Kind != api.KindDeployment ||
		rs.Name != "web-"+hash || rs.Spec.Selector.MatchLabels[api.PodTemplateHashLabel] != hash {
		t.Fatalf("replica set %s: owner %+v, selector %v, hash %q", rs.Name, rs.OwnerReferences, rs.Spec.Selector, hash)
	}

	// 25% of 10: at most 13 pods, at least 8 Ready, at every step.
	r.setImage("web:2")
	mixed := false
	steps := r.roll("rolling update", func(step int, c census) {
		if c.ready < 8 {
			t.Fatalf("step %d: %d Ready pods, below replicas - maxUnavailable = 8 (%v)", step, c.ready, c.byImage)
		}
		if c.live > 13 {
			t.Fatalf("step %d: %d pods, above replicas + maxSurge = 13 (%v)", step, c.live, c.byImage)
		}
		mixed = mixed || c.byImage["web:1"] > 0 && c.byImage["web:2"] > 0
	})
	if !mixed || steps < 5 {
		t.Fatalf("the update did not roll: %d steps, both templates side by side: %v", steps, mixed)
	}
	if got := r.replicaSets(); got["web:1"] != "replicas=0 revision=1" || got["web:2"] != "replicas=10 revision=2" {
		t.Fatalf("after the rolling update: %v", got)
	}
	d := r.deployment()
	if d.Annotations[api.RevisionAnnotation] != "2" || d.Status.ObservedGeneration != d.Generation {
		t.Fatalf("deployment revision %q, observed generation %d of %d", d.Annotations[api.RevisionAnnotation], d.Status.ObservedGeneration, d.Generation)
	}
	avail, prog := findCondition(d.Status.Conditions, api.DeploymentAvailable), findCondition(d.Status.Conditions, api.DeploymentProgressing)
	if avail == nil || avail.Status != api.ConditionTrue || prog == nil || prog.Reason != "NewReplicaSetAvailable" {
		t.Fatalf("conditions: %+v", d.Status.Conditions)
	}
	if c := r.census(); c.byImage["web:1"] != 0 || c.byImage["web:2"] != 10 {
		t.Fatalf("pods after the update: %v", c.byImage)
	}
}

func TestDeploymentRecreateStopsOldPodsBeforeStartingNew(t *testing.T) {
	r := newDeployRig(t, 3)
	apply(t, r.s, consensus.ApplyController{Deploy: webDeployment(3, "web:1", api.DeploymentStrategy{Type: api.RecreateDeploymentStrategyType}),
		Create: true, UID: "d-uid", Time: time.Now().UTC()})
	r.roll("first rollout", func(int, census) {})
	r.setImage("web:2")
	r.roll("recreate", func(step int, c census) {
		if c.byImage["web:1"] > 0 && c.byImage["web:2"] > 0 {
			t.Fatalf("step %d: old and new pods at once: %v", step, c.byImage)
		}
	})
	if got := r.replicaSets(); got["web:1"] != "replicas=0 revision=1" || got["web:2"] != "replicas=3 revision=2" {
		t.Fatalf("after recreate: %v", got)
	}
}

func TestDeploymentScaleResizesTheCurrentReplicaSet(t *testing.T) {
	r := newDeployRig(t, 5)
	apply(t, r.s, consensus.ApplyController{Deploy: webDeployment(3, "web:1", api.DeploymentStrategy{}), Create: true, UID: "d-uid", Time: time.Now().UTC()})
	r.roll("first rollout", func(int, census) {})
	for _, n := range []int32{5, 2} {
		apply(t, r.s, consensus.ScaleController{Kind: api.KindDeployment, Namespace: "default", Name: "web", Replicas: n})
		r.roll(fmt.Sprintf("scale to %d", n), func(int, census) {})
		if got := r.replicaSets(); len(got) != 1 || got["web:1"] != fmt.Sprintf("replicas=%d revision=1", n) {
			t.Fatalf("after scaling to %d: %v", n, got)
		}
		if c := r.census(); c.live != int(n) {
			t.Fatalf("after scaling to %d: %d pods", n, c.live)
		}
	}
}

func TestDeploymentPrunesEmptyReplicaSetsBeyondHistoryLimit(t *testing.T) {
	r := newDeployRig(t, 5)
	d := webDeployment(2, "web:1", api.DeploymentStrategy{})
	one := int32(1)
	d.Spec.RevisionHistoryLimit = &one
	apply(t, r.s, consensus.ApplyController{Deploy: d, Create: true, UID: "d-uid", Time: time.Now().UTC()})
	r.roll("first rollout", func(int, census) {})
	for _, img := range []string{"web:2", "web:3", "web:4"} {
		r.setImage(img)
		r.roll("update to "+img, func(int, census) {})
	}
	r.step() // the pass after the last old ReplicaSet emptied
	if got := r.replicaSets(); len(got) != 2 || got["web:3"] != "replicas=0 revision=3" || got["web:4"] != "replicas=2 revision=4" {
		t.Fatalf("history: %v", got)
	}
}

func TestDeploymentPausedDoesNotRoll(t *testing.T) {
	r := newDeployRig(t, 5)
	apply(t, r.s, consensus.ApplyController{Deploy: webDeployment(2, "web:1", api.DeploymentStrategy{}), Create: true, UID: "d-uid", Time: time.Now().UTC()})
	r.roll("first rollout", func(int, census) {})
	d := r.deployment()
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	apply(t, r.s, consensus.ApplyController{Deploy: d, Time: time.Now().UTC()})
	for i := 0; i < 5; i++ {
		r.step()
	}
	if got := r.replicaSets(); len(got) != 1 {
		t.Fatalf("a paused deployment rolled: %v", got)
	}
	if prog := findCondition(r.deployment().Status.Conditions, api.DeploymentProgressing); prog == nil || prog.Reason != "DeploymentPaused" {
		t.Fatalf("paused condition: %+v", r.deployment().Status.Conditions)
	}
	d = r.deployment()
	d.Spec.Paused = false
	apply(t, r.s, consensus.ApplyController{Deploy: d, Time: time.Now().UTC()})
	r.roll("resumed rollout", func(int, census) {})
	if got := r.replicaSets(); got["web:2"] != "replicas=2 revision=2" {
		t.Fatalf("after resume: %v", got)
	}
}

func TestDeploymentStuckRolloutExceedsItsProgressDeadline(t *testing.T) {
	r := newDeployRig(t, 0) // no pod ever becomes Ready
	apply(t, r.s, consensus.ApplyController{Deploy: webDeployment(2, "web:1", api.DeploymentStrategy{}), Create: true, UID: "d-uid", Time: time.Now().UTC()})
	for i := 0; i < 5; i++ {
		r.step()
	}
	prog := findCondition(r.deployment().Status.Conditions, api.DeploymentProgressing)
	if prog == nil || prog.Status != api.ConditionTrue {
		t.Fatalf("within the deadline: %+v", r.deployment().Status.Conditions)
	}
	later := time.Now().UTC().Add(api.DefaultProgressDeadlineSeconds*time.Second + time.Minute)
	if err := r.l.syncDeployment(r.ctx, r.s.FSM, r.deployment(), later); err != nil {
		t.Fatal(err)
	}
	st := r.deployment().Status
	prog, avail := findCondition(st.Conditions, api.DeploymentProgressing), findCondition(st.Conditions, api.DeploymentAvailable)
	if prog == nil || prog.Status != api.ConditionFalse || prog.Reason != "ProgressDeadlineExceeded" || avail == nil || avail.Status != api.ConditionFalse {
		t.Fatalf("past the deadline: %+v", st.Conditions)
	}
}

func TestDeploymentRollingBoundsAsNumbersAndPercents(t *testing.T) {
	cases := []struct {
		surge, unavailable string
		maxPods, minReady  int
		replicas           int32
	}{
		{surge: "0", unavailable: "2", maxPods: 6, minReady: 4, replicas: 6},
		{surge: "2", unavailable: "0", maxPods: 8, minReady: 6, replicas: 6},
		{surge: "50%", unavailable: "10%", maxPods: 9, minReady: 5, replicas: 5}, // 2.5 -> 3 up, 0.5 -> 0 down
		{surge: "0%", unavailable: "1%", maxPods: 3, minReady: 2, replicas: 3},   // both round to 0: unavailable 1
	}
	for _, c := range cases {
		t.Run("surge="+c.surge+",unavailable="+c.unavailable, func(t *testing.T) {
			r := newDeployRig(t, 1)
			parse := func(s string) *api.IntOrString {
				v := api.FromString(s)
				if n, err := strconv.Atoi(s); err == nil {
					v = api.FromInt(int32(n))
				}
				return &v
			}
			strategy := api.DeploymentStrategy{Type: api.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &api.RollingUpdateDeployment{MaxSurge: parse(c.surge), MaxUnavailable: parse(c.unavailable)}}
			apply(t, r.s, consensus.ApplyController{Deploy: webDeployment(c.replicas, "web:1", strategy), Create: true, UID: "d-uid", Time: time.Now().UTC()})
			r.roll("first rollout", func(int, census) {})
			r.setImage("web:2")
			r.roll("rolling update", func(step int, cs census) {
				if cs.ready < c.minReady || cs.live > c.maxPods {
					t.Fatalf("step %d: %d Ready (min %d), %d pods (max %d): %v", step, cs.ready, c.minReady, cs.live, c.maxPods, cs.byImage)
				}
			})
		})
	}
}

func TestDeploymentCountsAPodAvailableOnlyAfterMinReadySeconds(t *testing.T) {
	r := newDeployRig(t, 10)
	d := webDeployment(2, "web:1", api.DeploymentStrategy{})
	d.Spec.MinReadySeconds = 30
	apply(t, r.s, consensus.ApplyController{Deploy: d, Create: true, UID: "d-uid", Time: time.Now().UTC()})
	for i := 0; i < 4; i++ {
		r.step()
	}
	readyAt := time.Now().UTC().Truncate(time.Second)
	pods, _ := r.s.FSM.Pods(nil)
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	for _, p := range pods {
		st := api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: "Ready", Status: api.ConditionTrue, LastTransitionTime: api.TimeOf(readyAt)}}}
		apply(t, r.s, consensus.UpdatePodStatus{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Node: p.Spec.NodeName, Status: st, Time: time.Now().UTC()})
	}
	for _, c := range []struct {
		at        time.Duration
		available int32
		condition api.ConditionStatus
	}{{10 * time.Second, 0, api.ConditionFalse}, {31 * time.Second, 2, api.ConditionTrue}} {
		if err := r.l.syncDeployment(r.ctx, r.s.FSM, r.deployment(), readyAt.Add(c.at)); err != nil {
			t.Fatal(err)
		}
		st := r.deployment().Status
		if avail := findCondition(st.Conditions, api.DeploymentAvailable); st.ReadyReplicas != 2 || st.AvailableReplicas != c.available || avail == nil || avail.Status != c.condition {
			t.Fatalf("%v after Ready: ready %d, available %d (want %d), conditions %+v", c.at, st.ReadyReplicas, st.AvailableReplicas, c.available, st.Conditions)
		}
	}
}
