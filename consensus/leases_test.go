package consensus

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func lease(name, holder string) api.Lease {
	l := api.Lease{}
	l.ObjectMeta.Name, l.ObjectMeta.Namespace = name, "default"
	l.Spec.HolderIdentity = &holder
	return l
}

func TestLeasesCompareAndSet(t *testing.T) {
	h := newHarness(t)
	res, err := h.do(ApplyLease{Lease: lease("lock", "a"), Create: true, UID: "u1", Time: t0})
	if err != nil || !res.Created {
		t.Fatalf("create: %+v %v", res, err)
	}
	first := res.Lease.ObjectMeta.ResourceVersion
	if _, err := h.do(ApplyLease{Lease: lease("lock", "b"), Create: true, UID: "u2", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	// b read first and writes with that resourceVersion: it wins.
	b := lease("lock", "b")
	b.ObjectMeta.ResourceVersion = first
	if res, err = h.do(ApplyLease{Lease: b, Time: t0}); err != nil || *res.Lease.Spec.HolderIdentity != "b" {
		t.Fatalf("update at rv %s: %+v %v", first, res, err)
	}
	// c read at the same version and loses the race.
	c := lease("lock", "c")
	c.ObjectMeta.ResourceVersion = first
	if _, err := h.do(ApplyLease{Lease: c, Time: t0}); !IsConflict(err) || !strings.Contains(err.Error(), "has been modified") {
		t.Fatalf("stale update: %v, want Conflict", err)
	}
	bad := lease("lock", "d")
	zero := int32(0)
	bad.Spec.LeaseDurationSeconds = &zero
	if _, err := h.do(ApplyLease{Lease: bad, Time: t0}); err == nil || !strings.Contains(err.Error(), "spec.leaseDurationSeconds") {
		t.Fatalf("zero duration: %v", err)
	}
	got, _ := h.f.Lease("default", "lock")
	if *got.Spec.HolderIdentity != "b" {
		t.Fatalf("holder = %s after refused writes, want b", *got.Spec.HolderIdentity)
	}
	if _, err := h.do(DeleteLease{Namespace: "default", Name: "lock", UID: "other"}); !IsConflict(err) {
		t.Fatalf("delete with the wrong uid: %v", err)
	}
	h.must(DeleteLease{Namespace: "default", Name: "lock", UID: "u1"})
	if _, err := h.f.Lease("default", "lock"); !IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestRenewNodeLeasesIsOneEntryForTheFleet(t *testing.T) {
	h := newHarness(t)
	h.must(node("n1", "4Gi", "192.168.50.2"), node("n2", "4Gi", "192.168.50.3"))
	h.must(RenewNodeLeases{Nodes: []string{"n2", "n1", "gone"}, Time: t0})
	later := t0.Add(10 * time.Second)
	h.must(RenewNodeLeases{Nodes: []string{"n1"}, Time: later})
	leases, _ := h.f.Leases(nil)
	if len(leases) != 2 {
		t.Fatalf("leases = %d, want one per known node", len(leases))
	}
	for _, l := range leases {
		name := l.ObjectMeta.Name
		if l.ObjectMeta.Namespace != api.NodeLeaseNS || *l.Spec.HolderIdentity != name || *l.Spec.LeaseDurationSeconds != 40 {
			t.Errorf("lease %s = %+v", name, l)
		}
		if ref := l.ObjectMeta.OwnerReferences; len(ref) != 1 || ref[0].Kind != "Node" || ref[0].UID != api.UID("uid-"+name) {
			t.Errorf("lease %s owner = %+v", name, ref)
		}
		want := t0
		if name == "n1" {
			want = later
		}
		if !l.Spec.RenewTime.Time.Equal(want) {
			t.Errorf("lease %s renewTime = %v, want %v", name, l.Spec.RenewTime, want)
		}
	}
	restored := snapshotRestored(t, h.f)
	if l, err := restored.Lease(api.NodeLeaseNS, "n1"); err != nil || !l.Spec.RenewTime.Time.Equal(later) {
		t.Fatalf("after snapshot and restore: %+v %v", l, err)
	}
}
