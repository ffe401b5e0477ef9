package liveness

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsKeepTheFencingRule(t *testing.T) {
	for _, g := range []time.Duration{time.Second, DefaultNodeGrace, 5 * time.Second, time.Minute} {
		c := WithGrace(g)
		if err := c.Validate(); err != nil {
			t.Errorf("grace %v: %v", g, err)
		}
		b := c.Budget()
		if b.FenceDeadline()+b.Margin > b.EarliestReplacement() {
			t.Errorf("grace %v: fence by %v + margin %v after the leader may replace at %v", g, b.FenceDeadline(), b.Margin, b.EarliestReplacement())
		}
	}
	b := Default().Budget()
	// At the defaults (docs/liveness.md): fence after 1 s of silence, begun
	// by 1.75 s, margin 0.25 s, replacement from 2 s.
	if b.FenceAfter != time.Second || b.FenceDeadline() != 1750*time.Millisecond || b.Margin != 250*time.Millisecond {
		t.Errorf("default budget %+v, deadline %v", b, b.FenceDeadline())
	}
}

func TestCheckFailsWhenTheNodeFencesTooLate(t *testing.T) {
	cases := map[string]struct {
		edit func(*Budget)
		want string
	}{
		// The rule before this package: the node waited the whole grace,
		// like the leader, and then up to a quarter more per tick.
		"node waits the whole grace": {func(b *Budget) { b.FenceAfter = b.NodeGrace }, "may still run its pods"},
		"slow fence loop":            {func(b *Budget) { b.FenceInterval = b.NodeGrace / 2 }, "may still run its pods"},
		"slow stop":                  {func(b *Budget) { b.StopBudget = b.NodeGrace / 2 }, "may still run its pods"},
		"no margin left":             {func(b *Budget) { b.Margin += time.Millisecond }, "may still run its pods"},
		"check shorter than a ping":  {func(b *Budget) { b.CheckTimeout = b.ProbeTimeout / 2 }, "probe timeout"},
		"fences while in contact":    {func(b *Budget) { b.FenceAfter = b.ContactWindow }, "contact window"},
		"no fence loop":              {func(b *Budget) { b.FenceInterval = 0 }, "fence interval"},
	}
	for name, tc := range cases {
		b := Default().Budget()
		tc.edit(&b)
		err := b.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want an error saying %q", name, err, tc.want)
		}
	}
}

func TestValidateNamesBadSettings(t *testing.T) {
	cases := map[string]struct {
		c    Config
		want string
	}{
		"grace too short for gossip": {WithGrace(500 * time.Millisecond), "too short"},
		"no grace":                   {Config{Gossip: DefaultGossip()}, "node grace 0s: must be positive"},
		"probe timeout over interval": {Config{Gossip: Gossip{ProbeInterval: time.Second, ProbeTimeout: 2 * time.Second, GossipInterval: time.Second, SuspicionMult: 3, SuspicionMaxTimeoutMult: 6}, NodeGrace: time.Minute},
			"probe timeout 2s"},
		"no suspicion": {Config{Gossip: Gossip{ProbeInterval: time.Second, ProbeTimeout: time.Second, GossipInterval: time.Second, SuspicionMaxTimeoutMult: 6}, NodeGrace: time.Minute},
			"suspicion multiplier 0"},
	}
	for name, tc := range cases {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error saying %q", name, err, tc.want)
		}
	}
}

// Suspicion must match memberlist's suspicionTimeout, or the credit could
// exceed what gossip waited.
func TestSuspicionIsMemberlists(t *testing.T) {
	c := Default()
	for n, want := range map[int]time.Duration{
		0: 750 * time.Millisecond, 1: 750 * time.Millisecond, 10: 750 * time.Millisecond,
		20: 975 * time.Millisecond, 100: 1500 * time.Millisecond, 1000: 2250 * time.Millisecond,
	} {
		if got := c.Suspicion(n); got != want {
			t.Errorf("Suspicion(%d) = %v, want %v", n, got, want)
		}
	}
	if got := c.SuspicionMax(20); got != 6*975*time.Millisecond {
		t.Errorf("SuspicionMax(20) = %v", got)
	}
}

// Issue 28: gossip's verdict comes later as the fleet grows (memberlist's
// suspicion grows with log10 of it); the leader credits exactly that, so
// the time from a node's last contact to its replacement, once the
// suspicion is confirmed, does not grow with the fleet.
func TestReplacementDoesNotGrowWithTheFleet(t *testing.T) {
	c := Default()
	for _, n := range []int{1, 5, 10, 20, 50, 100, 500} {
		// Beyond about 460 members the suspicion alone outlasts the
		// default grace; then the verdict itself is the bound.
		total := c.Suspicion(n) + c.ReplaceAfterVerdict(n)
		if want := max(c.NodeGrace, c.Suspicion(n)); total != want {
			t.Errorf("%d members: suspicion %v + wait after the verdict %v = %v, want %v", n, c.Suspicion(n), c.ReplaceAfterVerdict(n), total, want)
		}
	}
	// A grace shorter than the suspicion: the leader acts at the verdict,
	// never before it.
	short := WithGrace(time.Second)
	if got := short.ReplaceAfterVerdict(1000); got != 0 {
		t.Errorf("grace 1s, 1000 members: wait after verdict %v, want 0", got)
	}
}

func TestClockCreditsOnlyAFreshVerdict(t *testing.T) {
	var c Clock
	t0 := time.Unix(1000, 0)
	credit := 900 * time.Millisecond
	// Never seen up: no credit, the clock starts now.
	if d := c.Down("a", false, credit, t0); d != 0 {
		t.Errorf("first sight of a down agent: %v, want 0", d)
	}
	if d := c.Down("a", false, credit, t0.Add(time.Second)); d != time.Second {
		t.Errorf("a second later: %v, want 1s", d)
	}
	// Seen up, then down: the verdict's silence counts.
	c.Down("b", true, credit, t0)
	if d := c.Down("b", false, credit, t0.Add(time.Second)); d != credit {
		t.Errorf("fresh verdict: %v, want the credit %v", d, credit)
	}
	if d := c.Down("b", false, credit, t0.Add(2*time.Second)); d != time.Second+credit {
		t.Errorf("a second after the verdict: %v, want %v", d, time.Second+credit)
	}
	// Up again stops the clock; a blip resets it.
	if d := c.Down("b", true, credit, t0.Add(3*time.Second)); d != 0 {
		t.Errorf("up: %v", d)
	}
	// Reset forgets what was seen: a new term credits nothing.
	c.Reset()
	if d := c.Down("b", false, credit, t0.Add(4*time.Second)); d != 0 {
		t.Errorf("after Reset: %v, want 0", d)
	}
}
