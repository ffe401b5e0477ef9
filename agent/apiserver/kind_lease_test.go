package apiserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

func TestLeasesAreWrittenWithResourceVersionPreconditions(t *testing.T) {
	base := testAPI(t)
	coll := base + "/apis/coordination.k8s.io/v1/namespaces/default/leases"
	body := `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"lock"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15}}`
	if code, b := do(t, "POST", coll, "application/json", "", body); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	code, st, raw := request(t, "POST", coll, "application/json", body)
	if code != http.StatusConflict || st.Reason != "AlreadyExists" {
		t.Fatalf("create again: %d %s", code, raw)
	}
	stale := `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"lock","resourceVersion":"1"},"spec":{"holderIdentity":"b"}}`
	if code, st, raw := request(t, "PUT", coll+"/lock", "application/json", stale); code != http.StatusConflict || st.Reason != "Conflict" {
		t.Fatalf("stale update: %d %s, want 409 Conflict", code, raw)
	}
	if code, _, raw := request(t, "POST", coll, "application/json", strings.Replace(body, `"leaseDurationSeconds":15`, `"preferredHolder":"x"`, 1)); code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "spec.preferredHolder: not supported by shoal") {
		t.Fatalf("unsupported field: %d %s", code, raw)
	}
	if code, b := do(t, "GET", base+"/apis/coordination.k8s.io/v1/leases", "", "application/json;as=Table;v=v1;g=meta.k8s.io", ""); code != http.StatusOK || !strings.Contains(string(b), `"Holder"`) || !strings.Contains(string(b), `"lock","a"`) {
		t.Fatalf("table: %d %s", code, b)
	}
	code, b := do(t, "GET", coll+"?watch=1&timeoutSeconds=1&resourceVersion=0", "", "", "")
	if code != http.StatusOK || !strings.Contains(string(b), `"type":"ADDED"`) || !strings.Contains(string(b), `"kind":"Lease","apiVersion":"coordination.k8s.io/v1"`) {
		t.Fatalf("watch: %d %s", code, b)
	}
}

// client-go's leader election over a Lease: one leader at a time, and the
// other takes over once the first releases it.
func TestClientGoLeaderElectionOverALease(t *testing.T) {
	base := testAPI(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: base})
	if err != nil {
		t.Fatal(err)
	}
	led := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	run := func(ctx context.Context, id string) {
		lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: "default", Name: "elect"},
			Client: cs.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: id}}
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock: lock, LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { close(led[id]) },
				OnStoppedLeading: func() {},
			},
		})
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan struct{})
	go func() { run(ctxA, "a"); close(doneA) }()
	select {
	case <-led["a"]:
	case <-time.After(10 * time.Second):
		t.Fatal("a never led")
	}
	go run(ctxB, "b")
	// b tries every 100 ms while a renews its lease.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		lease, err := cs.CoordinationV1().Leases("default").Get(context.Background(), "elect", metav1.GetOptions{})
		if err != nil || *lease.Spec.HolderIdentity != "a" {
			t.Fatalf("lease while a leads: %+v %v", lease, err)
		}
		select {
		case <-led["b"]:
			t.Fatal("b led while a held the lease")
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopA()
	<-doneA
	select {
	case <-led["b"]:
	case <-time.After(10 * time.Second):
		t.Fatal("b never took over once a released the lease")
	}
	lease, err := cs.CoordinationV1().Leases("default").Get(context.Background(), "elect", metav1.GetOptions{})
	if err != nil || *lease.Spec.HolderIdentity != "b" || *lease.Spec.LeaseTransitions < 1 {
		t.Fatalf("lease once b leads: %+v %v", lease, err)
	}
}
