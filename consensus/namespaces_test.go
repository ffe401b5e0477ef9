package consensus

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func ns(name string) api.Namespace {
	return api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}
}

func TestNamespaceLifecycle(t *testing.T) {
	h := newHarness(t)
	res, err := h.do(ApplyNamespace{Namespace: ns("team"), Create: true, UID: "ns-team", Time: t0})
	if err != nil || !res.Created || res.Namespace.Status.Phase != api.NamespaceActive ||
		len(res.Namespace.Spec.Finalizers) != 1 || res.Namespace.Spec.Finalizers[0] != api.FinalizerKubernetes {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, err := h.do(ApplyNamespace{Namespace: ns("team"), Create: true, UID: "ns-2", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	if _, err := h.do(ApplyNamespace{Namespace: ns("Bad_Name"), Create: true, UID: "ns-3", Time: t0}); !IsInvalid(err) {
		t.Fatalf("bad name: %v, want Invalid", err)
	}
	if err := h.f.NamespaceAdmits(KindSecret, "s", "team"); err != nil {
		t.Fatalf("admit into an Active namespace: %v", err)
	}
	if err := h.f.NamespaceAdmits(KindSecret, "s", "nope"); !IsNotFound(err) || err.Error() != `Namespace "nope" not found` {
		t.Fatalf("admit into a missing namespace: %v, want NotFound", err)
	}
	for _, sys := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if err := h.f.NamespaceAdmits(KindSecret, "s", sys); err != nil {
			t.Fatalf("%s exists before the leader stores it: %v", sys, err)
		}
	}

	sec := secret("s", "x")
	sec.Namespace = "team"
	h.must(ApplySecret{Secret: sec, Create: true, UID: "uid-s", Time: t0})
	rc := testRC("web", 1)
	rc.Namespace = "team"
	out, _ := h.do(ApplyController{RC: rc, Create: true, UID: "rc-web", Time: t0})
	p := ownedPod("web-1", out.Controller)
	h.must(p, create("other", "10Mi"))
	inTeam, inDefault := podEvent("u-web", "Started", "started", t0), podEvent("u-other", "Started", "started", t0)
	inTeam.InvolvedObject.Namespace = "team"
	h.must(RecordEvents{Events: []api.Event{inTeam, inDefault}})

	if _, err := h.do(FinalizeNamespace{Name: "team", UID: "ns-team"}); !IsConflict(err) {
		t.Fatalf("finalize an Active namespace: %v, want Conflict", err)
	}
	res, err = h.do(DeleteNamespace{Name: "team", Time: t0})
	if err != nil || res.Namespace.Status.Phase != api.NamespaceTerminating || res.Namespace.DeletionTimestamp == nil {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	if res, err := h.do(DeleteNamespace{Name: "team", Time: t0}); err != nil || res.Changed {
		t.Fatalf("delete again: %+v, %v, want unchanged", res, err)
	}
	if err := h.f.NamespaceAdmits(KindPod, "p", "team"); !IsForbidden(err) ||
		!strings.Contains(err.Error(), "unable to create new content in namespace team because it is being terminated") {
		t.Fatalf("admit into a Terminating namespace: %v, want Forbidden", err)
	}
	restored := snapshotRestored(t, h.f)
	if n, err := restored.Namespace("team"); err != nil || n.Status.Phase != api.NamespaceTerminating {
		t.Fatalf("restored namespace %+v, %v", n, err)
	}

	h.must(FinalizeNamespace{Name: "team", UID: "ns-team"})
	if _, err := h.f.Namespace("team"); !IsNotFound(err) {
		t.Fatalf("after finalize: %v, want NotFound", err)
	}
	refs, _ := h.f.ObjectRefs()
	if len(refs) != 1 || refs[0].Name != "other" || refs[0].Namespace != "default" {
		t.Fatalf("after finalize the objects left are %+v, want only default/other", refs)
	}
	if evs, _ := h.f.Events(nil); len(evs) != 1 || evs[0].Namespace != "default" {
		t.Fatalf("after finalize the events left are %+v, want only default's", evs)
	}
}

func TestImmortalNamespacesAreNotDeleted(t *testing.T) {
	h := newHarness(t)
	h.must(ApplyNamespace{Namespace: ns("default"), Create: true, UID: "ns-default", Time: t0})
	_, err := h.do(DeleteNamespace{Name: "default", Time: t0})
	if !IsForbidden(err) {
		t.Fatalf("delete default: %v, want Forbidden", err)
	}
	if n, _ := h.f.Namespace("default"); n.DeletionTimestamp != nil {
		t.Fatalf("default marked for deletion: %+v", n)
	}
}

// Every map of namespaced objects in the state must be in storedKinds:
// otherwise a namespace's deletion leaves its objects behind and the
// garbage collector never sees them. A kind added to the state without its
// line in storedKinds (objects.go) fails here.
func TestStoredKindsCoverState(t *testing.T) {
	st := reflect.TypeFor[state]()
	objType := reflect.TypeFor[api.Object]()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if f.Type.Kind() != reflect.Map || !f.Type.Elem().Implements(objType) {
			continue
		}
		switch f.Name {
		case "Nodes", "Namespaces": // cluster-scoped
			continue
		}
		if _, ok := storedKindOf(f.Type.Elem().Elem().Name()); !ok {
			t.Errorf("state.%s holds %s, which storedKinds (consensus/objects.go) does not list: namespace deletion and garbage collection would miss it", f.Name, f.Type.Elem())
		}
	}
}
