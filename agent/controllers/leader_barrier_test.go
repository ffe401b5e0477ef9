package controllers

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/consensus"
)

// A new leader's controllers must not act before its state holds what the
// last leader committed. Three in-memory seats; the heir's state machine
// is held back on an entry the old leader committed, then the heir takes
// over. Its controllers may start only after that entry is applied: with
// no barrier they would start at once and read the older state.
func TestNewLeaderStartsControllersOnlyOnceItsStateHoldsWhatWasCommitted(t *testing.T) {
	c := consensus.NewTestCluster(t, 3, consensus.WithGates())
	leader := c.Leader()
	heir := c.Followers(leader)[0]

	cfg := Config{Name: heir.ID, Liveness: liveness.WithGrace(time.Second), Log: slog.New(slog.DiscardHandler)}
	if testing.Verbose() {
		cfg.Log = slog.Default()
	}
	l, err := New(cfg, Deps{State: heir.FSM, Seat: heir.Raft, Members: noMembers{}})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan uint64, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.lead(ctx, func(ctx context.Context) {
			started <- heir.FSM.Index()
			<-ctx.Done()
		})
	}()
	t.Cleanup(func() { cancel(); <-done })

	heir.Gate.Hold()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	// Any command is an entry the state machine must apply; this one is
	// refused (no such pod) and still moves the state's index.
	if _, err := leader.Raft.Apply(wctx, consensus.DeletePod{Namespace: "default", Name: "nobody", UID: "u"}); !consensus.IsNotFound(err) {
		t.Fatalf("apply: %v, want not found", err)
	}
	committed := <-heir.Gate.Blocked()

	if err := leader.Raft.TransferLeadership(wctx, heir.ID); err != nil {
		t.Fatal(err)
	}
	// The heir leads and has written its barrier; its controllers must
	// still wait, because the barrier waits behind the held entry.
	deadline := time.Now().Add(10 * time.Second)
	for !heir.Raft.IsLeader() || !heir.HasBarrierAfter(committed) {
		select {
		case idx := <-started:
			t.Fatalf("controllers started with the state at %d, before the committed entry %d was applied", idx, committed)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new leader wrote no barrier (leads: %v)", heir.Raft.IsLeader())
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case idx := <-started:
		t.Fatalf("controllers started with the state at %d, before the committed entry %d was applied", idx, committed)
	default:
	}

	heir.Gate.Release()
	select {
	case idx := <-started:
		if idx < committed {
			t.Fatalf("controllers started with the state at %d, before %d", idx, committed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("controllers never started after the state caught up")
	}
	if !heir.Raft.CaughtUp(wctx) {
		t.Fatal("the new leader's state does not count as current after its barrier")
	}
}

// noMembers is a fleet gossip has not met yet.
type noMembers struct{}

func (noMembers) Members() []Member        { return nil }
func (noMembers) Changes() <-chan struct{} { return nil }
func (noMembers) Join([]string) error      { return nil }
