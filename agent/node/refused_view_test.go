package node

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// catchingUpSeat is a follower in touch with its leader whose state has
// applied up to applied, which the test moves.
type catchingUpSeat struct {
	Seat
	applied atomic.Uint64
}

func (*catchingUpSeat) IsLeader() bool           { return false }
func (*catchingUpSeat) Leader() (string, string) { return "n1", "10.0.0.1:7081" }
func (*catchingUpSeat) LastContact() time.Time   { return time.Now().Add(-10 * time.Millisecond) }
func (s *catchingUpSeat) AppliedIndex() uint64   { return s.applied.Load() }

// heldSource is a held blocking query on a state that does not change: a
// query after the view's index answers the same view once its wait is up.
type heldSource struct {
	view    *Assignments
	queries atomic.Int32
}

func (s *heldSource) Assignments(ctx context.Context, after uint64, wait time.Duration) (*Assignments, error) {
	s.queries.Add(1)
	if after < s.view.Index {
		return s.view, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return s.view, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Seed 2 of `shoal lab chaos`, kill-leader: the leader promoted n4 to a
// seat just after it bound a replacement there. n4's reconciler had read
// that view, but as a new server not yet caught up it may not act on it;
// it then asked for the next view with its whole steady resync as the
// wait, and the server held the query, since nothing of n4's changed: the
// replacement started 30 s after its bind, both times the seed ran. A
// view the reconciler refused must be looked at again soon, not when
// something else changes.
func TestRefusedViewIsLookedAtAgainSoon(t *testing.T) {
	pod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default", UID: "p", ResourceVersion: "10"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: "10.244.1.2", Phase: api.PodPending}}
	src := &heldSource{view: &Assignments{Index: 10, Pods: []api.Pod{pod}}}
	seat := &catchingUpSeat{}
	fence := newTestFencer(2*time.Second, &fleetAt{seat: seat, leaderIndex: 10})
	rt := newMemRuntime()
	// A resync far longer than the test: only a prompt second look starts p.
	r, err := New(Config{Name: "n1", Resync: time.Hour, SteadyResync: time.Hour},
		Deps{Assignments: src, Status: &statusLog{}, Runtime: rt, Network: &memNetwork{pods: map[string]net.IP{}}, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, r.Run)

	// The first view is read while the seat is behind the leader's index.
	if !eventually(10*time.Second, func() bool { return src.queries.Load() >= 2 }) {
		t.Fatal("the reconciler did not ask again after its first view")
	}
	if rt.has("p") {
		t.Fatal("a server behind the leader's index acted on its view")
	}
	seat.applied.Store(10)
	if !eventually(10*time.Second, func() bool { return rt.has("p") }) {
		t.Fatal("once its state caught up, the reconciler did not act on the view it had refused")
	}
}
