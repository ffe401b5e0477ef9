package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func testRC(name string, replicas int32) *api.ReplicationController {
	return &api.ReplicationController{
		ObjectMeta: api.ObjectMeta{Name: name},
		Spec: api.ReplicationControllerSpec{Replicas: &replicas, Template: &api.PodTemplateSpec{
			ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
			Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1"}}},
		}},
	}
}

func ownedPod(name string, owner api.Replicated) CreatePod {
	p := api.PodFromTemplate(owner)
	p.ObjectMeta.Name = name
	return CreatePod{Pod: *p, UID: api.UID("uid-" + name), Time: t0}
}

func TestControllerLifecycle(t *testing.T) {
	h := newHarness(t)
	res, err := h.do(ApplyController{RC: testRC("web", 2), Create: true, UID: "rc-1", Time: t0})
	if err != nil || !res.Created {
		t.Fatalf("create: %v %+v", err, res)
	}
	rc := res.Controller.(*api.ReplicationController)
	if rc.Spec.Selector["app"] != "web" || rc.ObjectMeta.Generation != 1 || rc.ObjectMeta.UID != "rc-1" {
		t.Fatalf("stored rc not defaulted: %+v", rc)
	}
	if _, err := h.do(ApplyController{RC: testRC("web", 2), Create: true, UID: "rc-2", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: want AlreadyExists, got %v", err)
	}
	res, err = h.do(ApplyController{RC: testRC("web", 2), UID: "rc-2", Time: t0})
	if err != nil || res.Changed {
		t.Fatalf("apply of the same manifest must change nothing: %v %+v", err, res)
	}
	bad := testRC("web", 2)
	bad.Spec.Selector = map[string]string{"app": "db"}
	if _, err := h.do(ApplyController{RC: bad, Time: t0}); !IsInvalid(err) {
		t.Fatalf("selector mismatch: want Invalid, got %v", err)
	}
	res, err = h.do(ScaleController{Kind: api.KindReplicationController, Namespace: "default", Name: "web", Replicas: 5})
	if err != nil || api.DesiredReplicas(res.Controller) != 5 || api.MetaOf(res.Controller).Generation != 2 {
		t.Fatalf("scale: %v %+v", err, res)
	}
	if _, err := h.do(ScaleController{Kind: api.KindReplicationController, Namespace: "default", Name: "web", Replicas: -1}); !IsInvalid(err) {
		t.Fatalf("negative scale: want Invalid, got %v", err)
	}
	h.must(UpdateControllerStatus{Kind: api.KindReplicationController, Namespace: "default", Name: "web", UID: "rc-1",
		Status: api.ReplicaCounts{Replicas: 2, ObservedGeneration: 2}})
	got, err := h.f.Controller(api.KindReplicationController, "default", "web")
	if err != nil || api.ReplicaStatus(got).Replicas != 2 {
		t.Fatalf("status: %v %+v", err, got)
	}
}

func TestDeleteControllerCascadesOrOrphans(t *testing.T) {
	h := newHarness(t)
	res, _ := h.do(ApplyController{RC: testRC("a", 2), Create: true, UID: "rc-a", Time: t0})
	a := res.Controller
	res, _ = h.do(ApplyController{RC: testRC("b", 1), Create: true, UID: "rc-b", Time: t0})
	b := res.Controller
	h.must(ownedPod("a-1", a), ownedPod("a-2", a), ownedPod("b-1", b), create("bare", "10Mi"))

	h.must(DeleteController{Kind: api.KindReplicationController, Namespace: "default", Name: "a"})
	pods, _ := h.f.Pods(nil)
	if len(pods) != 2 || pods[0].ObjectMeta.Name != "b-1" || pods[1].ObjectMeta.Name != "bare" {
		t.Fatalf("cascade left %v", podNames(pods))
	}
	h.must(DeleteController{Kind: api.KindReplicationController, Namespace: "default", Name: "b", Orphan: true})
	p, err := h.f.Pod("default", "b-1")
	if err != nil || api.ControllerOf(p) != nil {
		t.Fatalf("orphaned pod: %v %+v", err, p)
	}
	if _, err := h.f.Controller(api.KindReplicationController, "default", "b"); !IsNotFound(err) {
		t.Fatalf("deleted rc still there: %v", err)
	}
}

// A pass that read an RC just before its delete must not create or adopt
// a pod for it afterwards: nothing would ever remove that pod (found when
// an orphaning delete was undone by an adoption from the same pass).
func TestPodsAreNotCreatedOrAdoptedForAGoneController(t *testing.T) {
	h := newHarness(t)
	res, _ := h.do(ApplyController{RC: testRC("web", 1), Create: true, UID: "rc-1", Time: t0})
	rc := res.Controller
	h.must(create("bare", "10Mi"))
	h.must(DeleteController{Kind: api.KindReplicationController, Namespace: "default", Name: "web", Orphan: true})

	if _, err := h.do(ownedPod("web-late", rc)); !IsConflict(err) {
		t.Fatalf("pod created for a deleted RC: %v", err)
	}
	bare, _ := h.f.Pod("default", "bare")
	adopt := *bare
	adopt.ObjectMeta.OwnerReferences = api.PodFromTemplate(rc).ObjectMeta.OwnerReferences
	if _, err := h.do(ApplyPod{Pod: adopt, Time: t0}); !IsConflict(err) {
		t.Fatalf("pod adopted by a deleted RC: %v", err)
	}
	if p, _ := h.f.Pod("default", "bare"); api.ControllerOf(p) != nil {
		t.Fatalf("refused adoption stored an owner: %+v", p.ObjectMeta.OwnerReferences)
	}

	// The same RC name again, a new UID: the old UID is still gone, the
	// new controller may adopt.
	res, _ = h.do(ApplyController{RC: testRC("web", 1), Create: true, UID: "rc-2", Time: t0})
	bare, _ = h.f.Pod("default", "bare")
	adopt = *bare
	adopt.ObjectMeta.OwnerReferences = api.PodFromTemplate(res.Controller).ObjectMeta.OwnerReferences
	if _, err := h.do(ApplyPod{Pod: adopt, Time: t0}); err != nil {
		t.Fatalf("adoption by a live RC: %v", err)
	}
}

func TestSnapshotKeepsControllers(t *testing.T) {
	h := newHarness(t)
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "front"}, Spec: api.ReplicaSetSpec{
		Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "front"}},
		Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "front"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1"}}}}}}
	h.must(ApplyController{RC: testRC("web", 3), Create: true, UID: "rc-1", Time: t0},
		ApplyController{RS: rs, Create: true, UID: "rs-1", Time: t0})
	restored := snapshotRestored(t, h.f)
	all, _ := restored.Controllers("", nil)
	if len(all) != 2 || api.MetaOf(all[0]).Name != "web" || api.TypeMetaOf(all[1]).Kind != api.KindReplicaSet {
		t.Fatalf("restored controllers: %+v", all)
	}
}

func podNames(ps []*api.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ObjectMeta.Name)
	}
	return out
}
