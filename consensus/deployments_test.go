package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func testDeployment(name string, replicas int32) *api.Deployment {
	return &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: name},
		Spec: api.DeploymentSpec{Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1"}}}}},
	}
}

func TestDeploymentLifecycle(t *testing.T) {
	h := newHarness(t)
	sub, err := h.f.Changes().Subscribe(KindDeployment, h.idx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	res, err := h.do(ApplyController{Deploy: testDeployment("web", 3), Create: true, UID: "d-1", Time: t0})
	if err != nil || !res.Created {
		t.Fatalf("create: %v %+v", err, res)
	}
	d := res.Controller.(*api.Deployment)
	if d.Generation != 1 || d.Spec.Strategy.Type != api.RollingUpdateDeploymentStrategyType || *d.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("stored deployment not defaulted: %+v", d)
	}
	// Annotations alone (the controller's revision) keep the generation.
	ann := testDeployment("web", 3)
	ann.Annotations = map[string]string{api.RevisionAnnotation: "1"}
	res = h.mustResult(ApplyController{Deploy: ann, Time: t0})
	if g := api.MetaOf(res.Controller).Generation; g != 1 || !res.Changed {
		t.Fatalf("annotation change: generation %d changed %v", g, res.Changed)
	}
	// A new template moves it.
	img := testDeployment("web", 3)
	img.Annotations = ann.Annotations
	img.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	res = h.mustResult(ApplyController{Deploy: img, Time: t0})
	if g := api.MetaOf(res.Controller).Generation; g != 2 {
		t.Fatalf("template change: generation %d, want 2", g)
	}
	res = h.mustResult(ScaleController{Kind: api.KindDeployment, Namespace: "default", Name: "web", Replicas: 5})
	if api.DesiredReplicas(res.Controller) != 5 || api.MetaOf(res.Controller).Generation != 3 {
		t.Fatalf("scale: %+v", res.Controller)
	}
	bad := testDeployment("web", 3)
	bad.Spec.Selector.MatchLabels["app"] = "db"
	if _, err := h.do(ApplyController{Deploy: bad, Time: t0}); !IsInvalid(err) {
		t.Fatalf("selector mismatch: want Invalid, got %v", err)
	}
	st := api.DeploymentStatus{ObservedGeneration: 3, Replicas: 5, UpdatedReplicas: 5,
		Conditions: []api.DeploymentCondition{{Type: api.DeploymentAvailable, Status: api.ConditionTrue, Reason: "MinimumReplicasAvailable"}}}
	if _, err := h.do(UpdateDeploymentStatus{Namespace: "default", Name: "web", UID: "wrong", Status: st}); !IsConflict(err) {
		t.Fatalf("status of another uid: want Conflict, got %v", err)
	}
	h.must(UpdateDeploymentStatus{Namespace: "default", Name: "web", UID: "d-1", Status: st})
	got, err := h.f.Controller(api.KindDeployment, "default", "web")
	if err != nil || got.(*api.Deployment).Status.UpdatedReplicas != 5 || len(got.(*api.Deployment).Status.Conditions) != 1 {
		t.Fatalf("status: %v %+v", err, got)
	}
	if rcs, _ := h.f.Controllers("", nil); len(rcs) != 0 {
		t.Fatalf("the replication controller's list must not hold Deployments: %d", len(rcs))
	}
	all, _ := snapshotRestored(t, h.f).Controllers(api.KindDeployment, nil)
	if len(all) != 1 || all[0].(*api.Deployment).Status.UpdatedReplicas != 5 {
		t.Fatalf("restored deployments: %+v", all)
	}
	changes, _ := received(sub)
	if len(changes) != 5 || changes[0].Prev != nil {
		t.Fatalf("change stream: %s", describe(changes))
	}
}

func TestDeleteDeploymentTakesItsReplicaSetsAndPods(t *testing.T) {
	for _, orphan := range []bool{false, true} {
		h := newHarness(t)
		res := h.mustResult(ApplyController{Deploy: testDeployment("web", 1), Create: true, UID: "d-1", Time: t0})
		rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-abc", OwnerReferences: []api.OwnerReference{api.NewControllerRef(res.Controller)}},
			Spec: api.ReplicaSetSpec{Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1"}}}}}}
		res = h.mustResult(ApplyController{RS: rs, Create: true, UID: "rs-1", Time: t0})
		h.must(ownedPod("web-abc-1", res.Controller), create("bare", "10Mi"))
		h.must(DeleteController{Kind: api.KindDeployment, Namespace: "default", Name: "web", Orphan: orphan})
		pods, _ := h.f.Pods(nil)
		rss, _ := h.f.Controllers(api.KindReplicaSet, nil)
		if orphan {
			if len(pods) != 2 || len(rss) != 1 || len(api.MetaOf(rss[0]).OwnerReferences) != 0 {
				t.Fatalf("orphan: pods %v, replica sets %+v", podNames(pods), rss)
			}
			continue
		}
		if len(pods) != 1 || pods[0].Name != "bare" || len(rss) != 0 {
			t.Fatalf("cascade left pods %v and %d replica sets", podNames(pods), len(rss))
		}
	}
}

func (h *harness) mustResult(cmd Command) *Result {
	h.t.Helper()
	res, err := h.do(cmd)
	if err != nil {
		h.t.Fatalf("%s: %v", cmd.Type(), err)
	}
	return res
}
