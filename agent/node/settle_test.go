package node

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// blockingSource is a blocking query over a state that stays at view: a
// query after an older index answers at once, one at view's index waits
// until the caller gives up. It records each of the reconcile loop's
// queries' after and wait.
type blockingSource struct {
	view   *Assignments
	mu     sync.Mutex
	afters []uint64
	waits  []time.Duration
}

func (s *blockingSource) Assignments(ctx context.Context, after uint64, wait time.Duration) (*Assignments, error) {
	if !duringPass() { // early.go: the loop's queries only
		s.mu.Lock()
		s.afters, s.waits = append(s.afters, after), append(s.waits, wait)
		s.mu.Unlock()
	}
	if after < s.view.Index {
		return s.view, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (s *blockingSource) queries() ([]uint64, []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.afters...), append([]time.Duration(nil), s.waits...)
}

// signal is the runtime's change signal.
type signal chan struct{}

func (s signal) Changes() <-chan struct{} { return s }

// A node whose pods are all running and ready waits the steady resync, not
// the short one, for its next look; a change the runtime signals (a
// container exited) cuts that wait short with a pass over every pod.
func TestReconcilerWaitsLongWhenSettledAndWakesOnARuntimeChange(t *testing.T) {
	pod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "p"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.5"}}
	src := &blockingSource{view: &Assignments{Index: 7, Pods: []api.Pod{pod}}}
	passes := &passCount{}
	changes := make(signal, 1)
	r, err := New(Config{Name: "n1", Resync: time.Minute, SteadyResync: time.Hour},
		Deps{Assignments: src, Status: &statusLog{}, Runtime: newMemRuntime(), Network: &memNetwork{pods: map[string]net.IP{}},
			Fence: NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{}), Metrics: passes, Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, r.Run)
	count := func() int { passes.mu.Lock(); defer passes.mu.Unlock(); return passes.n }
	waiting := func(n int) func() bool {
		return func() bool { a, _ := src.queries(); return len(a) >= n }
	}
	if !eventually(5*time.Second, waiting(2)) || count() != 1 {
		t.Fatalf("after the first view: %d passes, want 1", count())
	}
	if _, waits := src.queries(); waits[1] != time.Hour {
		t.Fatalf("waits %v: after a pass that left every pod running and ready, want the steady resync (1h)", waits)
	}
	changes <- struct{}{}
	if !eventually(5*time.Second, func() bool { return count() == 2 }) {
		t.Fatalf("%d passes after the runtime's signal, want 2", count())
	}
	if !eventually(5*time.Second, waiting(4)) {
		t.Fatal("the reconciler did not go back to waiting")
	}
	afters, waits := src.queries()
	if afters[2] != 0 {
		t.Errorf("afters %v: the query after the wake must ask for the view as it is (after 0)", afters)
	}
	if waits[3] != time.Hour {
		t.Errorf("waits %v: settled again, want the steady resync", waits)
	}
}

// Without a runtime that signals its changes, the reconciler keeps the
// short resync whatever its pods' state: it would otherwise find an exit
// only half a minute late.
func TestReconcilerKeepsTheShortResyncWithoutRuntimeSignals(t *testing.T) {
	pod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "p"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.5"}}
	src := &blockingSource{view: &Assignments{Index: 7, Pods: []api.Pod{pod}}}
	r, err := New(Config{Name: "n1", Resync: time.Minute, SteadyResync: time.Hour},
		Deps{Assignments: src, Status: &statusLog{}, Runtime: newMemRuntime(), Network: &memNetwork{pods: map[string]net.IP{}},
			Fence: NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Minute)}, &fleetAt{})})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, r.Run)
	if !eventually(5*time.Second, func() bool { a, _ := src.queries(); return len(a) >= 2 }) {
		t.Fatal("the reconciler never asked again after its pass")
	}
	if _, waits := src.queries(); waits[1] != time.Minute {
		t.Fatalf("waits %v: want the short resync (1m)", waits)
	}
}

func TestSettled(t *testing.T) {
	ready := func(s string) []api.PodCondition {
		return []api.PodCondition{{Type: "Ready", Status: api.ConditionStatus(s)}}
	}
	for _, c := range []struct {
		name string
		st   api.PodStatus
		want bool
	}{
		{"running and ready", api.PodStatus{Phase: api.PodRunning, Conditions: ready("True")}, true},
		{"running, not ready (probe failing, back-off)", api.PodStatus{Phase: api.PodRunning, Conditions: ready("False")}, false},
		{"running without a Ready condition", api.PodStatus{Phase: api.PodRunning}, false},
		{"pending (pulling, waiting for a key)", api.PodStatus{Phase: api.PodPending, Conditions: ready("False")}, false},
		{"succeeded", api.PodStatus{Phase: api.PodSucceeded}, true},
		{"failed", api.PodStatus{Phase: api.PodFailed}, true},
		{"unknown", api.PodStatus{Phase: "Unknown"}, false},
	} {
		if got := settled(c.st); got != c.want {
			t.Errorf("%s: settled %v, want %v", c.name, got, c.want)
		}
	}
}
