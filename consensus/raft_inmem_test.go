package consensus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func inmemCluster(t *testing.T, n int, opts ...TestOption) *TestCluster {
	return NewTestCluster(t, n, append([]TestOption{WithTestLog(testLogger())}, opts...)...)
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestThreeSeatsElectReplicateAndSurviveLeaderLoss(t *testing.T) {
	c := inmemCluster(t, 3)
	leader := c.Leader()
	if id, addr := leader.Raft.Leader(); id != leader.ID || addr != string(leader.Addr) {
		t.Fatalf("Leader() = %s %s, want %s %s", id, addr, leader.ID, leader.Addr)
	}
	res := applyOK(t, leader.Raft, node("node-a", "2Gi", "192.168.50.2"))
	for _, f := range c.Followers(leader) {
		c.WaitApplied(f, res.Index)
		n, err := f.FSM.Node("node-a")
		if err != nil {
			t.Fatalf("%s: %v", f.ID, err)
		}
		if n.Spec.PodCIDR != "10.244.0.0/24" || n.ObjectMeta.ResourceVersion != rv(res.Index) {
			t.Fatalf("%s sees node-a with block %s rv %s", f.ID, n.Spec.PodCIDR, n.ObjectMeta.ResourceVersion)
		}
	}

	// Writes go through the leader only, and the state machine's verdict
	// comes back through Raft.
	f := c.Followers(leader)[0]
	if _, err := f.Raft.Apply(ctxFor(t, 5*time.Second), create("web", "10Mi")); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("apply on follower: %v, want ErrNotLeader", err)
	}
	applyOK(t, leader.Raft, create("web", "10Mi"))
	if _, err := leader.Raft.Apply(ctxFor(t, 5*time.Second), create("web", "10Mi")); !IsAlreadyExists(err) {
		t.Fatalf("second create through raft: %T %v, want AlreadyExistsError", err, err)
	}

	// The two left elect a new leader, which has everything committed and
	// takes new writes.
	c.Stop(leader)
	next := c.Leader()
	if next == leader {
		t.Fatal("a stopped server still leads")
	}
	if err := next.Raft.Barrier(ctxFor(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := next.FSM.Pod("default", "web"); err != nil {
		t.Fatalf("new leader %s lost a committed pod: %v", next.ID, err)
	}
	res = applyOK(t, next.Raft, create("after-failover", "10Mi"))
	for _, s := range c.Followers(next) {
		c.WaitApplied(s, res.Index)
	}

	// The old leader comes back as a follower and catches up.
	c.Start(leader)
	c.WaitApplied(leader, res.Index)
	if leader.Raft.IsLeader() && next.Raft.IsLeader() {
		t.Fatal("two leaders")
	}
	if got, err := next.Raft.Servers(); err != nil || len(got) != 3 {
		t.Fatalf("Servers() = %v, %v", got, err)
	}
}

func TestWholeClusterRestartKeepsState(t *testing.T) {
	c := inmemCluster(t, 3)
	leader := c.Leader()
	applyOK(t, leader.Raft, node("node-a", "2Gi", "192.168.50.2"))
	res := applyOK(t, leader.Raft, create("web", "10Mi"))
	// Everyone applies before anyone stops: a follower learns the commit
	// index only from a leader that is still up.
	for _, s := range c.Servers {
		c.WaitApplied(s, res.Index)
	}
	for _, s := range c.Servers {
		c.Stop(s)
	}
	for _, s := range c.Servers {
		c.Start(s)
		// Bootstrapping again must be a no-op on a server with state.
		if err := s.Raft.BootstrapIfNew([]Server{{ID: s.ID, Address: string(s.Addr), Voter: true}}); err != nil {
			t.Fatal(err)
		}
	}
	leader = c.Leader()
	// A new leader commits an entry of its term, which applies the old log.
	if err := leader.Raft.Barrier(ctxFor(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Servers {
		c.WaitApplied(s, res.Index)
		p, err := s.FSM.Pod("default", "web")
		if err != nil || p.ObjectMeta.UID != "uid-web" {
			t.Fatalf("%s after restart: %v %v", s.ID, p, err)
		}
	}
	if got, err := leader.Raft.Servers(); err != nil || len(got) != 3 {
		t.Fatalf("configuration after restart: %v %v", got, err)
	}
}

// The leader replaces a lost server the way the agent does: remove it from
// the configuration, add a fresh one, which catches up on the whole state.
func TestReplaceServerWithAFreshOne(t *testing.T) {
	c := inmemCluster(t, 3)
	leader := c.Leader()
	res := applyOK(t, leader.Raft, node("node-a", "2Gi", "192.168.50.2"))

	lost := c.Followers(leader)[0]
	c.Stop(lost)
	ctx := ctxFor(t, 10*time.Second)
	if err := leader.Raft.RemoveServer(ctx, lost.ID); err != nil {
		t.Fatal(err)
	}
	fresh := c.AddServer("server-d")
	if err := leader.Raft.AddVoter(ctx, fresh.ID, string(fresh.Addr)); err != nil {
		t.Fatal(err)
	}
	c.WaitApplied(fresh, res.Index)
	if _, err := fresh.FSM.Node("node-a"); err != nil {
		t.Fatalf("fresh server did not catch up: %v", err)
	}
	got, err := leader.Raft.Servers()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range got {
		ids[s.ID] = true
	}
	if len(got) != 3 || ids[lost.ID] || !ids[fresh.ID] {
		t.Fatalf("configuration after replacement: %v", got)
	}
}

// A new leader's state may lack what the last leader committed: Barrier
// returns only once it is all applied, and only then is the leader ready.
func TestBarrierWaitsUntilTheNewLeadersStateHoldsEverythingCommitted(t *testing.T) {
	c := inmemCluster(t, 3, WithGates())
	leader := c.Leader()
	if err := leader.Raft.Barrier(ctxFor(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !leader.Raft.LeaderReady() {
		t.Fatal("a leader whose barrier succeeded is not ready")
	}
	heir := c.Followers(leader)[0]
	heir.Gate.Hold()
	res := applyOK(t, leader.Raft, create("committed-before-failover", "10Mi"))
	if got := <-heir.Gate.Blocked(); got != res.Index {
		t.Fatalf("held apply at %d, want %d", got, res.Index)
	}

	if err := leader.Raft.TransferLeadership(ctxFor(t, 5*time.Second), heir.ID); err != nil {
		t.Fatal(err)
	}
	if c.Leader() != heir {
		t.Fatalf("leadership went elsewhere than %s", heir.ID)
	}
	if leader.Raft.LeaderReady() {
		t.Fatal("the old leader still counts itself ready")
	}
	if heir.Raft.LeaderReady() || heir.Raft.CaughtUp(ctxFor(t, time.Second)) {
		t.Fatal("a new leader is ready before any barrier")
	}
	if heir.FSM.Index() >= res.Index {
		t.Fatal("the held state machine applied anyway")
	}
	done := make(chan error, 1)
	go func() { done <- heir.Raft.Barrier(ctxFor(t, 10*time.Second)) }()
	select {
	case err := <-done:
		t.Fatalf("barrier returned (%v) while the state machine lacks index %d", err, res.Index)
	case <-time.After(100 * time.Millisecond):
		// The barrier is still waiting for the held apply: as it must.
	}
	heir.Gate.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if heir.FSM.Index() < res.Index {
		t.Fatalf("barrier returned with the state at %d, before %d", heir.FSM.Index(), res.Index)
	}
	if !heir.Raft.LeaderReady() || !heir.Raft.CaughtUp(ctxFor(t, time.Second)) {
		t.Fatal("the new leader is not ready after its barrier")
	}
}

// A restarted follower is not caught up until the leader's commit index
// reaches the log it had, and its state machine applied the last command.
func TestRestartedFollowerIsCaughtUpOnlyOnceItsStateHoldsTheCommittedLog(t *testing.T) {
	c := inmemCluster(t, 3, WithGates())
	leader := c.Leader()
	f := c.Followers(leader)[0]
	res := applyOK(t, leader.Raft, create("a", "10Mi"))
	c.WaitApplied(f, res.Index)
	// The state machine shows the entry a moment before Raft counts it
	// applied; CaughtUp answers for that moment, so ask until it holds.
	caughtUp := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !f.Raft.CaughtUp(ctxFor(t, 5*time.Second)) {
			if time.Now().After(deadline) {
				t.Fatalf("%s (state at %d)", what, f.FSM.Index())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	caughtUp("a follower that applied everything is not caught up")

	c.Stop(f)
	res = applyOK(t, leader.Raft, create("b", "10Mi"))
	// Restart with the leader cut off: it knows no leader, so its state,
	// restored from its log without a commit index, is not current.
	c.StartDisconnected(f)
	if f.Raft.CaughtUp(ctxFor(t, 100*time.Millisecond)) {
		t.Fatal("a restarted follower with no leader counts as caught up")
	}
	// Hold its state machine, then let the leader in: the commit index
	// arrives, Raft hands over the entries, and the state machine is held.
	f.Gate.Hold()
	c.Connect(f)
	<-f.Gate.Blocked()
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if f.Raft.CaughtUp(short) {
		t.Fatalf("caught up while the state machine is at %d", f.FSM.Index())
	}
	f.Gate.Release()
	// Cut off, it stood for election; it follows again within a few
	// heartbeats.
	caughtUp("never caught up after the state machine was let go")
	if f.FSM.Index() < res.Index {
		t.Fatalf("caught up at %d, the leader committed %d", f.FSM.Index(), res.Index)
	}
}

func TestLeaderCutOffFailsVerificationAndFollowersLoseContact(t *testing.T) {
	c := inmemCluster(t, 3)
	leader := c.Leader()
	if err := leader.Raft.VerifyLeader(ctxFor(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if since := time.Since(leader.Raft.LastContact()); since > time.Second {
		t.Fatalf("verified leader's last contact %s ago", since)
	}
	f := c.Followers(leader)[0]
	c.WaitApplied(f, applyOK(t, leader.Raft, create("a", "10Mi")).Index)
	if lc := f.Raft.LastContact(); lc.IsZero() || time.Since(lc) > time.Second {
		t.Fatalf("follower's last contact %v", lc)
	}

	// A heartbeat already on its way when the link is cut may still answer
	// one verification; after that none succeeds.
	c.Disconnect(leader)
	deadline := time.Now().Add(5 * time.Second)
	for leader.Raft.VerifyLeader(ctxFor(t, 5*time.Second)) == nil {
		if time.Now().After(deadline) {
			t.Fatal("a leader cut off from every follower kept verifying its leadership")
		}
	}
	if leader.Raft.LeaderReady() || leader.Raft.CaughtUp(ctxFor(t, time.Second)) {
		t.Fatal("a cut-off leader counts as ready")
	}
	next := c.Leader() // the two others elect one of them
	if next == leader {
		t.Fatal("the cut-off server still leads")
	}
	if lc := leader.Raft.LastContact(); !lc.IsZero() && time.Since(lc) < 100*time.Millisecond {
		t.Fatalf("a cut-off server reports contact %v", lc)
	}
}

func TestOpenNamesMissingStoresAndBadTimings(t *testing.T) {
	_, err := Open(Config{ID: "a", HeartbeatTimeout: time.Second, LeaderLeaseTimeout: 2 * time.Second}, NewFSM(), Stores{Log: raft.NewInmemStore()})
	if err == nil {
		t.Fatal("Open without stores succeeded")
	}
	for _, want := range []string{"Stores.Stable", "Stores.Snapshots", "Stores.Transport", "LeaderLeaseTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "Stores.Log") {
		t.Errorf("Open error %q names the log store it was given", err)
	}
}
