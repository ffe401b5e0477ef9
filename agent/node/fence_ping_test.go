package node

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// Issue 30: a client pinged a server at every tick of its fence loop
// (four a second), a fifth of its idle CPU, though gossip's own probes
// reach a server about as often. While a server acked one of them lately
// the client does not ping, and that ack is its evidence of contact: its
// replicas run on, though no ping would be answered.
func TestClientSkipsItsPingWhileGossipReachesAServer(t *testing.T) {
	fleet := &fleetAt{acked: func() time.Time { return time.Now().Add(-10 * time.Millisecond) }}
	f := newTestFencer(2*time.Second, fleet)
	rt := newMemRuntime("owned")
	f.setRuntime(rt)
	yes := true
	owned := api.Pod{ObjectMeta: api.ObjectMeta{UID: "owned", OwnerReferences: []api.OwnerReference{{Kind: "ReplicaSet", UID: "rs", Controller: &yes}}}}
	if !f.reconcileAllowed(&Assignments{Index: 4, Pods: []api.Pod{owned}}) {
		t.Fatal("a client whose probe a server just acked was not trusted")
	}
	runUntilTestEnds(t, f.Run)
	// Each look asks gossip twice (before the ping, then for contact), or
	// pings: twelve looks are three times FenceAfter.
	if !eventually(30*time.Second, func() bool { return fleet.looks.Load() >= 24 || fleet.pings.Load() >= 12 }) {
		t.Fatal("the fence loop did not look")
	}
	if n := fleet.pings.Load(); n != 0 {
		t.Fatalf("pinged %d times while gossip's probes reached a server", n)
	}
	if killed := rt.killedPods(); len(killed) != 0 {
		t.Fatalf("fenced %v while a server acked its probes", killed)
	}
}

// Without fresh evidence the client pings as before, and an answered ping
// is contact.
func TestClientPingsWhenItsEvidenceIsOld(t *testing.T) {
	fleet := &fleetAt{reachable: true, acked: func() time.Time { return time.Now().Add(-time.Minute) }}
	f := newTestFencer(2*time.Second, fleet)
	now := time.Now()
	f.pingIfDue(now)
	if fleet.pings.Load() != 1 {
		t.Fatal("a client whose last evidence is a minute old did not ping")
	}
	if at, ok := f.contact(t.Context(), now); !ok || !at.Equal(now) {
		t.Fatalf("contact %v, %v: want the answered ping's time", at, ok)
	}
	// A status write (or any answer) as fresh: no ping.
	f.answered(time.Now())
	f.pingIfDue(time.Now())
	if fleet.pings.Load() != 1 {
		t.Fatal("a client pinged though a server had just answered it")
	}
	// Once the answer is pingSkip old, it pings again.
	f.pingIfDue(time.Now().Add(f.pingSkip()))
	if fleet.pings.Load() != 2 {
		t.Fatal("a client did not ping once its evidence was pingSkip old")
	}
}

// The skip leaves the client time for a second ping, should the first go
// unanswered, before its evidence is FenceAfter old (fence_ping.go), at
// every grace the agent accepts; where the budget has no room for it, the
// client pings at every tick as before.
func TestPingSkipLeavesRoomForASecondPing(t *testing.T) {
	cfgs := map[string]liveness.Config{}
	for _, g := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 30 * time.Second} {
		cfgs["lan "+g.String()] = liveness.WithGrace(g)
	}
	wan, err := liveness.ForProfile("wan", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfgs["wan 10s"] = wan
	for name, cfg := range cfgs {
		f := NewFencer(FenceConfig{Liveness: cfg, Log: slog.New(slog.DiscardHandler)}, &fleetAt{})
		b, skip := f.budget, f.pingSkip()
		if skip < 0 || skip > 0 && skip+2*b.FenceInterval+b.CheckTimeout > b.FenceAfter {
			t.Errorf("%s: pingSkip %v + 2 x FenceInterval %v + CheckTimeout %v > FenceAfter %v", name, skip, b.FenceInterval, b.CheckTimeout, b.FenceAfter)
		}
	}
	if f := newTestFencer(liveness.DefaultNodeGrace, &fleetAt{}); f.pingSkip() != f.budget.FenceInterval {
		t.Errorf("at the default grace pingSkip is %v, want one FenceInterval (%v)", f.pingSkip(), f.budget.FenceInterval)
	}
}

// Issue 30: the fence loop set the view file's time at every tick with
// contact, a tenth of an idle follower's CPU. It moves it at most once per
// touchEvery; the time on disk is then up to that much earlier than the
// last contact, which only makes a restarted agent fence sooner.
func TestViewFileTimeMovesAtMostOncePerSecond(t *testing.T) {
	path := filepath.Join(t.TempDir(), "view.json")
	f := NewFencer(FenceConfig{Liveness: liveness.WithGrace(2 * time.Second), ViewFile: path}, &fleetAt{})
	c0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := f.saveView([]api.Pod{{ObjectMeta: api.ObjectMeta{UID: "a"}}}, c0); err != nil {
		t.Fatal(err)
	}
	mtime := func() time.Time {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime()
	}
	f.touchView(c0.Add(touchEvery - time.Millisecond))
	if !mtime().Equal(c0) {
		t.Fatalf("the view file's time moved to %v within touchEvery of the last", mtime())
	}
	f.touchView(c0.Add(touchEvery))
	if !mtime().Equal(c0.Add(touchEvery)) {
		t.Fatalf("the view file's time is %v, want %v", mtime(), c0.Add(touchEvery))
	}
	// A restart reads the time on disk: never later than the last contact.
	if _, at, _ := loadView(path); at.After(c0.Add(touchEvery)) {
		t.Fatalf("restored contact %v after the last one recorded", at)
	}
}
