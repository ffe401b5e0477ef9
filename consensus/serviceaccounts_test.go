package consensus

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestServiceAccountsAreCreatedReplacedDeletedAndSnapshotted(t *testing.T) {
	h := newHarness(t)
	sa := api.ServiceAccount{ObjectMeta: api.ObjectMeta{Name: "robot"}}
	res, err := h.do(ApplyServiceAccount{ServiceAccount: sa, Create: true, UID: "uid-r", Time: t0})
	if err != nil || !res.Created || res.ServiceAccount.UID != "uid-r" || res.ServiceAccount.Kind != api.KindServiceAccount {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, err := h.do(ApplyServiceAccount{ServiceAccount: sa, Create: true, UID: "uid-x", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	no := false
	sa.AutomountServiceAccountToken = &no
	res, err = h.do(ApplyServiceAccount{ServiceAccount: sa, Time: t0})
	if err != nil || !res.Changed || res.ServiceAccount.AutomountServiceAccountToken == nil || *res.ServiceAccount.AutomountServiceAccountToken {
		t.Fatalf("replace: %+v, %v", res, err)
	}
	bad := api.ServiceAccount{ObjectMeta: api.ObjectMeta{Name: "Bad_Name"}}
	if _, err := h.do(ApplyServiceAccount{ServiceAccount: bad, UID: "uid-b", Time: t0}); !IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name") {
		t.Fatalf("bad name: %v, want Invalid naming metadata.name", err)
	}
	restored := snapshotRestored(t, h.f)
	if got, err := restored.ServiceAccount("default", "robot"); err != nil || got.UID != "uid-r" {
		t.Fatalf("restored %+v, %v", got, err)
	}
	if _, err := h.do(DeleteObject{Kind: KindServiceAccount, Namespace: "default", Name: "robot"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := h.f.ServiceAccount("default", "robot"); !IsNotFound(err) {
		t.Fatalf("after delete: %v, want NotFound", err)
	}
}

func TestPodNamingAMissingServiceAccountIsForbiddenAndDefaultIsFilledIn(t *testing.T) {
	h := newHarness(t)
	p := pod("p", "64Mi")
	p.Spec.ServiceAccountName = "robot"
	_, err := h.do(CreatePod{Pod: p, UID: "uid-p", Time: t0})
	want := `pod "default/p" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found`
	if !IsForbidden(err) || err.Error() != want {
		t.Fatalf("pod naming a missing ServiceAccount: %v, want %q", err, want)
	}
	h.must(ApplyServiceAccount{ServiceAccount: api.ServiceAccount{ObjectMeta: api.ObjectMeta{Name: "robot"}}, UID: "uid-r", Time: t0})
	res, err := h.do(CreatePod{Pod: p, UID: "uid-p", Time: t0})
	if err != nil || res.Pod.Spec.ServiceAccountName != "robot" || res.Pod.Spec.DeprecatedServiceAccount != "robot" {
		t.Fatalf("pod with its ServiceAccount: %+v, %v", res, err)
	}
	res, err = h.do(CreatePod{Pod: pod("q", "64Mi"), UID: "uid-q", Time: t0})
	if err != nil || res.Pod.Spec.ServiceAccountName != "default" || res.Pod.Spec.DeprecatedServiceAccount != "default" {
		t.Fatalf("pod naming none runs as default: %+v, %v", res, err)
	}
	// A manifest re-applied without the name the admission filled in is
	// no change of the immutable spec.
	if _, err := h.do(ApplyPod{Pod: pod("q", "64Mi"), Time: t0}); err != nil {
		t.Fatalf("re-apply without serviceAccountName: %v", err)
	}
	other := pod("q", "64Mi")
	other.Spec.ServiceAccountName = "robot"
	if _, err := h.do(ApplyPod{Pod: other, Time: t0}); !IsInvalid(err) || !strings.Contains(err.Error(), "serviceAccount") {
		t.Fatalf("changing the ServiceAccount: %v, want Invalid", err)
	}
}
