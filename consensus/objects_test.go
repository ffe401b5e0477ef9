package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func ownedSecret(name string, owners ...api.OwnerReference) api.Secret {
	s := secret(name, "x")
	s.OwnerReferences = owners
	return s
}

func podOwner(name string) api.OwnerReference {
	return api.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: name, UID: api.UID("uid-" + name)}
}

func TestDeleteObjectCascades(t *testing.T) {
	h := newHarness(t)
	res, _ := h.do(ApplyController{RC: testRC("web", 1), Create: true, UID: "rc-web", Time: t0})
	h.must(ownedPod("web-1", res.Controller), create("solo", "10Mi"), create("other", "10Mi"))
	rsRef := api.OwnerReference{APIVersion: "v1", Kind: "ReplicationController", Name: "web", UID: "rc-web"}
	h.must(
		// owned by a pod the RC controls: goes with the RC, transitively
		ApplySecret{Secret: ownedSecret("of-web-1", podOwner("web-1")), UID: "s1", Time: t0},
		// owned by the RC and by a pod that stays: stays
		ApplySecret{Secret: ownedSecret("shared", rsRef, podOwner("other")), UID: "s2", Time: t0},
		// owned by a kind shoal does not store: never collected
		ApplySecret{Secret: ownedSecret("foreign", api.OwnerReference{APIVersion: "example.com/v1", Kind: "Thing", Name: "t", UID: "rc-web"}), UID: "s3", Time: t0},
		// owned by solo: stays until solo goes
		ApplySecret{Secret: ownedSecret("of-solo", podOwner("solo")), UID: "s4", Time: t0},
	)
	if _, err := h.do(DeleteObject{Kind: KindReplicationController, Namespace: "default", Name: "web", Propagation: "Sideways"}); !IsInvalid(err) {
		t.Fatalf("unknown policy: %v, want Invalid", err)
	}
	if _, err := h.do(DeleteObject{Kind: KindReplicationController, Namespace: "default", Name: "web", UID: "other"}); !IsConflict(err) {
		t.Fatalf("wrong uid: %v, want Conflict", err)
	}
	h.must(DeleteObject{Kind: KindReplicationController, Namespace: "default", Name: "web", Propagation: PropagateForeground})
	assertSecrets(t, h.f, "foreign", "of-solo", "shared")
	if _, err := h.f.Pod("default", "web-1"); !IsNotFound(err) {
		t.Fatalf("the RC's pod: %v, want NotFound", err)
	}

	h.must(DeleteObject{Kind: KindPod, Namespace: "default", Name: "solo", Propagation: PropagateOrphan})
	assertSecrets(t, h.f, "foreign", "of-solo", "shared")
	if s, _ := h.f.Secret("default", "of-solo"); len(s.OwnerReferences) != 0 {
		t.Fatalf("orphaned secret keeps %+v", s.OwnerReferences)
	}
	h.must(DeleteObject{Kind: KindPod, Namespace: "default", Name: "other"})
	assertSecrets(t, h.f, "foreign", "of-solo")
}

func TestDeleteObjectOrphansADeploymentsReplicaSets(t *testing.T) {
	h := newHarness(t)
	d := testDeployment("web", 1)
	h.must(ApplyController{Deploy: d, Create: true, UID: "d-web", Time: t0})
	yes := true
	one := int32(1)
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-abc", Labels: map[string]string{"app": "web"},
		OwnerReferences: []api.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-web", Controller: &yes}}},
		Spec: api.ReplicaSetSpec{Replicas: &one, Selector: d.Spec.Selector, Template: d.Spec.Template}}
	res, err := h.do(ApplyController{RS: rs, Create: true, UID: "rs-web", Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	h.must(ownedPod("web-abc-1", res.Controller))
	h.must(DeleteObject{Kind: KindDeployment, Namespace: "default", Name: "web", Propagation: PropagateOrphan})
	got, err := h.f.Controller(api.KindReplicaSet, "default", rs.Name)
	if err != nil || len(api.MetaOf(got).OwnerReferences) != 0 {
		t.Fatalf("orphaned ReplicaSet: %+v, %v", got, err)
	}
	if p, err := h.f.Pod("default", "web-abc-1"); err != nil || api.ControllerOf(p) == nil {
		t.Fatalf("its pod stays its own: %+v, %v", p, err)
	}
}

func TestOwnersGone(t *testing.T) {
	stored := map[api.UID]bool{"a": true}
	live := func(r api.OwnerReference) bool { return stored[r.UID] }
	for _, c := range []struct {
		refs []api.OwnerReference
		want bool
	}{
		{nil, false},
		{[]api.OwnerReference{{APIVersion: "v1", Kind: "Pod", UID: "a"}}, false},
		{[]api.OwnerReference{{APIVersion: "v1", Kind: "Pod", UID: "b"}}, true},
		{[]api.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", UID: "b"}, {APIVersion: "v1", Kind: "Pod", UID: "a"}}, false},
		{[]api.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", UID: "b"}, {APIVersion: "v1", Kind: "Node", UID: "c"}}, true},
		{[]api.OwnerReference{{APIVersion: "example.com/v1", Kind: "Widget", UID: "b"}}, false},
		{[]api.OwnerReference{{APIVersion: "v1", Kind: "ReplicaSet", UID: "b"}}, false}, // wrong group: not ours
	} {
		if got := OwnersGone(c.refs, live); got != c.want {
			t.Errorf("OwnersGone(%+v) = %v, want %v", c.refs, got, c.want)
		}
	}
}

func assertSecrets(t *testing.T, f *FSM, want ...string) {
	t.Helper()
	list, _ := f.Secrets(nil)
	var got []string
	for _, s := range list {
		got = append(got, s.Name)
	}
	if len(got) != len(want) {
		t.Fatalf("secrets %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("secrets %v, want %v", got, want)
		}
	}
}

func TestSetControllerRefAdoptsAndReleases(t *testing.T) {
	h := newHarness(t)
	d := testDeployment("web", 1)
	res, _ := h.do(ApplyController{Deploy: d, Create: true, UID: "d-web", Time: t0})
	owner := api.NewControllerRef(res.Controller)
	one := int32(1)
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-abc", Labels: map[string]string{"app": "web"}},
		Spec: api.ReplicaSetSpec{Replicas: &one, Selector: d.Spec.Selector, Template: d.Spec.Template}}
	h.must(ApplyController{RS: rs, Create: true, UID: "rs-web", Time: t0})

	if _, err := h.do(SetControllerRef{Kind: KindReplicaSet, Namespace: "default", Name: "web-abc", UID: "other", Owner: owner, Adopt: true}); !IsConflict(err) {
		t.Fatalf("adopt with a wrong uid: %v, want Conflict", err)
	}
	gone := owner
	gone.UID = "d-gone"
	if _, err := h.do(SetControllerRef{Kind: KindReplicaSet, Namespace: "default", Name: "web-abc", UID: "rs-web", Owner: gone, Adopt: true}); !IsConflict(err) {
		t.Fatalf("adopt by a gone deployment: %v, want Conflict", err)
	}
	h.must(SetControllerRef{Kind: KindReplicaSet, Namespace: "default", Name: "web-abc", UID: "rs-web", Owner: owner, Adopt: true})
	got, _ := h.f.Controller(api.KindReplicaSet, "default", "web-abc")
	if ref := api.ControllerOfMeta(api.MetaOf(got)); ref == nil || ref.UID != "d-web" {
		t.Fatalf("adopted: %+v", api.MetaOf(got).OwnerReferences)
	}
	if _, err := h.do(SetControllerRef{Kind: KindReplicaSet, Namespace: "default", Name: "web-abc", UID: "rs-web", Owner: owner, Adopt: true}); !IsConflict(err) {
		t.Fatalf("adopt twice: %v, want Conflict", err)
	}
	h.must(SetControllerRef{Kind: KindReplicaSet, Namespace: "default", Name: "web-abc", UID: "rs-web", Owner: owner})
	got, _ = h.f.Controller(api.KindReplicaSet, "default", "web-abc")
	if len(api.MetaOf(got).OwnerReferences) != 0 {
		t.Fatalf("released: %+v", api.MetaOf(got).OwnerReferences)
	}
}
