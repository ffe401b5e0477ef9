package consensus

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/shoal-dev/shoal/api"
)

func testDaemonSet(name string) *api.DaemonSet {
	return &api.DaemonSet{
		ObjectMeta: api.ObjectMeta{Name: name},
		Spec: api.DaemonSetSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1"}}}}},
	}
}

func daemonPod(name, node string, ds *api.DaemonSet) CreatePod {
	p := api.PodFromDaemonSet(ds, node, "h1")
	p.Name = name
	return CreatePod{Pod: *p, UID: api.UID("uid-" + name), Time: t0}
}

func TestDaemonSetLifecycle(t *testing.T) {
	h := newHarness(t)
	sub, err := h.f.Changes().Subscribe(KindDaemonSet, h.idx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	res, err := h.do(ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Create: true, UID: "ds-1", Time: t0})
	if err != nil || !res.Created {
		t.Fatalf("create: %v %+v", err, res)
	}
	ds := res.DaemonSet
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Generation != 1 || ds.Spec.UpdateStrategy.Type != api.RollingUpdateDaemonSetStrategyType || ru == nil ||
		ru.MaxUnavailable.IntValue() != 1 || *ds.Spec.RevisionHistoryLimit != 10 || ds.Labels["app"] != "agent" {
		t.Fatalf("stored daemon set not defaulted: %+v", ds)
	}
	if _, err := h.do(ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Create: true, UID: "ds-2", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	res = h.mustResult(ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Time: t0})
	if res.Changed {
		t.Fatalf("same manifest again changed it: %+v", res.DaemonSet)
	}
	img := testDaemonSet("agent")
	img.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	res = h.mustResult(ApplyDaemonSet{DaemonSet: *img, Time: t0})
	if res.DaemonSet.Generation != 2 || res.DaemonSet.UID != "ds-1" {
		t.Fatalf("template change: generation %d uid %s, want 2 ds-1", res.DaemonSet.Generation, res.DaemonSet.UID)
	}
	moved := testDaemonSet("agent")
	moved.Spec.Selector.MatchLabels["tier"] = "x"
	moved.Spec.Template.Labels["tier"] = "x"
	if _, err := h.do(ApplyDaemonSet{DaemonSet: *moved, Time: t0}); !IsInvalid(err) {
		t.Fatalf("selector change: %v, want Invalid (immutable)", err)
	}
	bad := testDaemonSet("bad")
	bad.Spec.Template.Labels["app"] = "other"
	if _, err := h.do(ApplyDaemonSet{DaemonSet: *bad, UID: "ds-b", Time: t0}); !IsInvalid(err) {
		t.Fatalf("selector not matching the template: %v, want Invalid", err)
	}
	st := api.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, ObservedGeneration: 2}
	if _, err := h.do(UpdateDaemonSetStatus{Namespace: "default", Name: "agent", UID: "wrong", Status: st}); !IsConflict(err) {
		t.Fatalf("status of another uid: %v, want Conflict", err)
	}
	h.must(UpdateDaemonSetStatus{Namespace: "default", Name: "agent", UID: "ds-1", Status: st})
	got, err := h.f.DaemonSet("default", "agent")
	if err != nil || got.Status.DesiredNumberScheduled != 3 || got.Generation != 2 {
		t.Fatalf("status: %v %+v", err, got)
	}
	restored := snapshotRestored(t, h.f)
	if all, _ := restored.DaemonSets(nil); len(all) != 1 || all[0].Status.DesiredNumberScheduled != 3 {
		t.Fatalf("restored daemon sets: %+v", all)
	}
	h.must(DeleteDaemonSet{Namespace: "default", Name: "agent", UID: "ds-1"})
	if _, err := h.f.DaemonSet("default", "agent"); !IsNotFound(err) {
		t.Fatalf("after delete: %v, want NotFound", err)
	}
	changes, _ := received(sub)
	if len(changes) != 4 || changes[0].Prev != nil || changes[3].Object != nil {
		t.Fatalf("change stream: %s", describe(changes))
	}
}

func TestDeleteDaemonSetTakesItsPods(t *testing.T) {
	for _, orphan := range []bool{false, true} {
		h := newHarness(t)
		res := h.mustResult(ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Create: true, UID: "ds-1", Time: t0})
		h.must(daemonPod("agent-a", "n1", res.DaemonSet), create("bare", "10Mi"))
		h.must(DeleteDaemonSet{Namespace: "default", Name: "agent", Orphan: orphan})
		pods, _ := h.f.Pods(nil)
		if orphan {
			if len(pods) != 2 || api.ControllerOf(pods[0]) != nil {
				t.Fatalf("orphan: pods %v, first owned by %+v", podNames(pods), api.ControllerOf(pods[0]))
			}
			continue
		}
		if len(pods) != 1 || pods[0].Name != "bare" {
			t.Fatalf("cascade left pods %v", podNames(pods))
		}
	}
}

func TestNoPodIsCreatedForAGoneDaemonSet(t *testing.T) {
	h := newHarness(t)
	res := h.mustResult(ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Create: true, UID: "ds-1", Time: t0})
	ds := res.DaemonSet
	h.must(DeleteDaemonSet{Namespace: "default", Name: "agent"})
	if _, err := h.do(daemonPod("agent-a", "n1", ds)); !IsConflict(err) {
		t.Fatalf("pod for a deleted daemon set: %v, want Conflict", err)
	}
}

func TestControllerRevisionsAreKeptAndGoWithTheirDaemonSet(t *testing.T) {
	h := newHarness(t)
	ds := h.mustResult(ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Create: true, UID: "ds-1", Time: t0}).DaemonSet
	rev := func(name string, n int64, data string) api.ControllerRevision {
		return api.ControllerRevision{ObjectMeta: api.ObjectMeta{Name: name, OwnerReferences: []api.OwnerReference{api.NewControllerRef(ds)}},
			Data: runtime.RawExtension{Raw: []byte(data)}, Revision: n}
	}
	res := h.mustResult(PutControllerRevision{Revision: rev("agent-a", 1, `{"spec":{}}`), UID: "cr-1", Time: t0})
	if !res.Created || res.ControllerRevision.UID != "cr-1" || res.ControllerRevision.APIVersion != api.AppsV1 {
		t.Fatalf("create: %+v", res.ControllerRevision)
	}
	if _, err := h.do(PutControllerRevision{Revision: rev("agent-a", 1, `{"spec":{"x":1}}`), Time: t0}); !IsInvalid(err) {
		t.Fatalf("changed data: %v, want Invalid", err)
	}
	if res := h.mustResult(PutControllerRevision{Revision: rev("agent-a", 3, `{"spec":{}}`), Time: t0}); !res.Changed || res.ControllerRevision.Revision != 3 {
		t.Fatalf("renumber: %+v", res)
	}
	h.must(PutControllerRevision{Revision: rev("agent-b", 4, `{"spec":{"y":1}}`), UID: "cr-2", Time: t0})
	if all, _ := snapshotRestored(t, h.f).ControllerRevisions(nil); len(all) != 2 || all[0].Revision != 3 {
		t.Fatalf("restored revisions: %+v", all)
	}
	h.must(DeleteDaemonSet{Namespace: "default", Name: "agent"})
	if all, _ := h.f.ControllerRevisions(nil); len(all) != 0 {
		t.Fatalf("revisions left after their daemon set: %d", len(all))
	}
	if _, err := h.do(PutControllerRevision{Revision: rev("agent-c", 5, `{}`), UID: "cr-3", Time: t0}); !IsConflict(err) {
		t.Fatalf("revision of a deleted daemon set: %v, want Conflict", err)
	}
}
