package node

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// fleetAt is a fleet in a state the test sets: seat nil is a client.
type fleetAt struct {
	seat        Seat
	leaderIndex uint64
	reachable   bool
	// acked, when set, is when gossip's last acked probe of a server
	// was sent, asked at each call.
	acked func() time.Time
	pings atomic.Int32 // PingServer calls
	looks atomic.Int32 // ServerAnswered calls
}

func (f *fleetAt) Seat() Seat {
	if f.seat == nil {
		return nil
	}
	return f.seat
}
func (f *fleetAt) LeaderIndex(context.Context) (uint64, error) {
	if f.leaderIndex == 0 {
		return 0, errors.New("no leader address known")
	}
	return f.leaderIndex, nil
}
func (f *fleetAt) PingServer() bool {
	f.pings.Add(1)
	return f.reachable
}
func (f *fleetAt) ServerAnswered() time.Time {
	f.looks.Add(1)
	if f.acked == nil {
		return time.Time{}
	}
	return f.acked()
}

func newTestFencer(grace time.Duration, fleet *fleetAt) *Fencer {
	return NewFencer(FenceConfig{Liveness: liveness.WithGrace(grace), Log: slog.New(slog.DiscardHandler)}, fleet)
}

func TestClientContactFollowsAssignmentReads(t *testing.T) {
	f := newTestFencer(3*time.Second, &fleetAt{})
	if _, ok := f.contact(context.Background(), time.Now()); ok {
		t.Fatal("a client that never read its assignments must not trust its view")
	}
	yes := true
	owned := api.Pod{ObjectMeta: api.ObjectMeta{UID: "owned", OwnerReferences: []api.OwnerReference{{Kind: "ReplicationController", UID: "rc", Controller: &yes}}}}
	bare := api.Pod{ObjectMeta: api.ObjectMeta{UID: "bare"}}
	v := &Assignments{Pods: []api.Pod{owned, bare}}
	f.fetched(v)
	now := time.Now()
	if _, ok := f.contact(context.Background(), now); !ok {
		t.Fatal("a fresh read is contact")
	}
	if !f.reconcileAllowed(v) {
		t.Fatal("a fresh read was not trusted")
	}
	if _, ok := f.contact(context.Background(), now.Add(4*time.Second)); ok {
		t.Fatal("no read for longer than the grace period is no contact")
	}
	if _, bareFenced := f.fenceAfter["bare"]; f.fenceAfter["owned"] != f.budget.FenceAfter || bareFenced {
		t.Fatalf("only controller-managed pods are fenced, a replica without a toleration after FenceAfter: %v", f.fenceAfter)
	}
}

// followerSeat is a Raft follower in touch with its leader, whose state
// has applied up to idx.
type followerSeat struct {
	Seat
	idx uint64
}

func (followerSeat) IsLeader() bool           { return false }
func (followerSeat) Leader() (string, string) { return "n1", "10.0.0.1:7081" }
func (followerSeat) LastContact() time.Time   { return time.Now().Add(-10 * time.Millisecond) }
func (s followerSeat) AppliedIndex() uint64   { return s.idx }

// A server restarted after the fleet declared it lost catches up with the
// leader within a moment, but the view its reconciler read before that may
// still bind its old pods here: that view must not be acted on.
func TestServerActsOnlyOnAViewAsNewAsTheLeaders(t *testing.T) {
	fleet := &fleetAt{seat: followerSeat{idx: 12}}
	f := newTestFencer(2*time.Second, fleet)
	f.needIndex = 10 // the leader's index when contact returned
	if f.reconcileAllowed(&Assignments{Index: 8}) {
		t.Fatal("a view read at index 8, older than the leader's 10, was acted on")
	}
	if !f.reconcileAllowed(&Assignments{Index: 10}) {
		t.Fatal("a view at the leader's index was refused")
	}
	fleet.seat = followerSeat{idx: 9}
	if f.reconcileAllowed(&Assignments{Index: 12}) {
		t.Fatal("a server whose state is behind the leader's index must not act")
	}
}

// seatAt is a Raft seat in a state the test sets.
type seatAt struct {
	Seat
	leader    string // the leader's ID, "" when unknown
	leading   bool
	contact   time.Time
	verifyErr error
	verified  *int
	caughtUp  bool
	idx       uint64
}

func (s seatAt) IsLeader() bool                    { return s.leading }
func (s seatAt) Leader() (string, string)          { return s.leader, "" }
func (s seatAt) LastContact() time.Time            { return s.contact }
func (s seatAt) CaughtUp(ctx context.Context) bool { return s.caughtUp }
func (s seatAt) AppliedIndex() uint64              { return s.idx }
func (s seatAt) VerifyLeader(ctx context.Context) error {
	*s.verified++
	return s.verifyErr
}

// Every check of a seat's contact fails closed: whatever the agent cannot
// confirm counts as out of touch, so the node does not act on its view.
func TestFencingFailsClosedOnWhatItCannotConfirm(t *testing.T) {
	now := time.Now()
	noQuorum := errors.New("leadership lost while committing log")
	tests := []struct {
		name       string
		seat       seatAt
		want       bool
		wantVerify int
	}{
		{"no leader known", seatAt{leader: "", contact: now}, false, 0},
		{"follower never heard from a leader", seatAt{leader: "n1"}, false, 0},
		{"follower silent for a quarter of the grace", seatAt{leader: "n1", contact: now.Add(-time.Second)}, false, 0},
		{"leader that no quorum confirms", seatAt{leader: "n2", leading: true, verifyErr: noQuorum}, false, 1},
		{"leader confirmed long ago and not now", seatAt{leader: "n2", leading: true, contact: now.Add(-time.Minute), verifyErr: noQuorum}, false, 1},
		{"leader confirmed just now", seatAt{leader: "n2", leading: true, contact: now.Add(-10 * time.Millisecond)}, true, 0},
		{"leader confirmed on asking", seatAt{leader: "n2", leading: true}, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			verified := 0
			tc.seat.verified = &verified
			tc.seat.idx = 5
			f := newTestFencer(2*time.Second, &fleetAt{seat: tc.seat})
			f.needIndex = 5
			if _, got := f.contact(context.Background(), now); got != tc.want {
				t.Fatalf("lastContact ok = %v, want %v", got, tc.want)
			}
			if verified != tc.wantVerify {
				t.Fatalf("VerifyLeader called %d times, want %d", verified, tc.wantVerify)
			}
			if got := f.reconcileAllowed(&Assignments{Index: 5}); got != tc.want {
				t.Fatalf("reconcileAllowed = %v, want %v", got, tc.want)
			}
		})
	}
}

// A seat that cannot say its state is caught up never serves it as a
// node's assignments, and an agent without a seat has no state to serve.
func TestStateCurrentFailsClosed(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if StateCurrent(context.Background(), nil, log) {
		t.Fatal("an agent without a seat called its state current")
	}
	verified := 0
	if StateCurrent(context.Background(), seatAt{leader: "n1", contact: time.Now(), verified: &verified, idx: 5}, log) {
		t.Fatal("a seat that is not caught up served its state")
	}
	if !StateCurrent(context.Background(), seatAt{leader: "n1", contact: time.Now(), verified: &verified, caughtUp: true, idx: 5}, log) {
		t.Fatal("a caught-up seat was refused")
	}
}

// A client cut off from the fleet for longer than the grace period stops
// the controller-managed pods of its last view (their replicas run
// elsewhere by then) and leaves bare pods alone; when contact returns it
// drops the first view (it may have been on the wire since before the
// outage) and acts on the next.
func TestCutOffClientStopsItsControllerManagedPods(t *testing.T) {
	fleet := &fleetAt{}
	f := newTestFencer(time.Second, fleet)
	rt := newMemRuntime("owned", "bare")
	f.setRuntime(rt)
	yes := true
	owned := api.Pod{ObjectMeta: api.ObjectMeta{UID: "owned", OwnerReferences: []api.OwnerReference{{Kind: "ReplicaSet", UID: "rs", Controller: &yes}}}}
	bare := api.Pod{ObjectMeta: api.ObjectMeta{UID: "bare"}}
	v4 := &Assignments{Index: 4, Pods: []api.Pod{owned, bare}}
	f.fetched(v4)
	if !f.reconcileAllowed(v4) {
		t.Fatal("a fresh read was not trusted")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	fenced := eventually(5*time.Second, func() bool {
		_, removed := rt.state()
		return len(removed) > 0
	})
	cancel()
	<-done
	if !fenced {
		t.Fatal("a client cut off for longer than the grace period kept its controller-managed pods")
	}
	if pods, removed := rt.state(); len(removed) != 1 || removed[0] != "owned" || pods["bare"] == "" {
		t.Fatalf("removed %v, left %v: want only the controller-managed pod stopped", removed, pods)
	}
	if rt.killedPods()[0] != "owned" {
		t.Fatal("the fence stopped the pod with its stop grace; it must kill it at once")
	}
	if !f.isFenced() {
		t.Fatal("the fencer does not know it fenced")
	}

	v9 := &Assignments{Index: 9, Pods: []api.Pod{bare}}
	f.fetched(v9)
	if f.reconcileAllowed(v9) {
		t.Fatal("the first view after the outage was acted on")
	}
	if !f.reconcileAllowed(v9) || f.isFenced() {
		t.Fatal("a view read after contact returned was not acted on")
	}
}

// The fence's deadline counts from the last evidence of contact, so every
// path that records contact records the evidence's own time: a follower's
// last word from its leader, not the moment the reconciler asked.
func TestContactIsTheEvidencesTime(t *testing.T) {
	grace := 2 * time.Second
	b := liveness.WithGrace(grace).Budget()
	heard := time.Now().Add(-b.ContactWindow + 100*time.Millisecond)
	verified := 0
	fleet := &fleetAt{seat: seatAt{leader: "n1", contact: heard, idx: 5, verified: &verified}}
	f := newTestFencer(grace, fleet)
	f.needIndex = 5
	if !f.reconcileAllowed(&Assignments{Index: 5}) {
		t.Fatal("a follower heard from within the contact window was not trusted")
	}
	if !f.lastContact.Equal(heard) {
		t.Fatalf("contact recorded at %v, want the leader's last word at %v", f.lastContact, heard)
	}

	// A client: in contact until its last answer is FenceAfter old.
	c := newTestFencer(grace, &fleetAt{})
	c.fetched(&Assignments{})
	read := c.lastFetch
	if _, ok := c.contact(context.Background(), read.Add(b.FenceAfter-time.Millisecond)); !ok {
		t.Fatal("a client lost contact before FenceAfter")
	}
	if _, ok := c.contact(context.Background(), read.Add(b.FenceAfter)); ok {
		t.Fatal("a client kept contact past FenceAfter")
	}
}
