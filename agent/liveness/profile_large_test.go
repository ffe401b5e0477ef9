package liveness

import (
	"strings"
	"testing"
	"time"
)

func TestLargeProfileKeepsTheFencingRule(t *testing.T) {
	c, err := ForProfile(ProfileLarge, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.NodeGrace != LargeNodeGrace || c.Gossip != LargeGossip() {
		t.Fatalf("large profile = %+v, want LargeGossip with grace %v", c, LargeNodeGrace)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("large profile at its default grace: %v", err)
	}
	b := c.Budget()
	if b.FenceDeadline()+b.Margin > b.EarliestReplacement() {
		t.Errorf("large: fence by %v + margin %v after the leader may replace at %v", b.FenceDeadline(), b.Margin, b.EarliestReplacement())
	}
	// A client pings a server once per fence tick: once a second at the
	// default grace, a quarter of the LAN's rate.
	if b.FenceInterval != time.Second {
		t.Errorf("large fence interval %v, want 1s", b.FenceInterval)
	}
	if b.CheckTimeout < LargeGossip().ProbeTimeout {
		t.Errorf("large check timeout %v shorter than the probe timeout %v", b.CheckTimeout, LargeGossip().ProbeTimeout)
	}
	lan, large := DefaultGossip(), LargeGossip()
	if large.ProbeInterval < 4*lan.ProbeInterval || large.ProbeTimeout <= lan.ProbeTimeout || large.GossipInterval <= lan.GossipInterval {
		t.Errorf("large %+v does not probe a quarter as often and wait longer than lan %+v", large, lan)
	}
	// The verdict in a 1,000-node fleet: 3 x log10(1000) x 2 s, of which
	// the leader credits at most the grace.
	if s := c.Suspicion(1000); s != 18*time.Second {
		t.Errorf("suspicion at 1,000 members = %v, want 18s", s)
	}
	if cr := c.VerdictCredit(1000); cr != LargeNodeGrace {
		t.Errorf("verdict credit at 1,000 members = %v, want the grace %v", cr, LargeNodeGrace)
	}
}

func TestLargeProfileGraceBound(t *testing.T) {
	min := MinGrace(LargeGossip())
	// The check waits for the 1 s probe timeout: 3/8 of the grace must
	// exceed it (budget.go), so the grace must exceed 8/3 s.
	if min <= 8*time.Second/3 || min > 8*time.Second/3+time.Millisecond {
		t.Errorf("MinGrace(large) = %v, want just over 2.667 s", min)
	}
	for _, g := range []time.Duration{min, 3 * time.Second, LargeNodeGrace, time.Minute} {
		c, err := ForProfile(ProfileLarge, g)
		if err != nil || c.NodeGrace != g {
			t.Fatalf("ForProfile(large, %v) = %+v, %v", g, c, err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("large with grace %v: %v", g, err)
		}
	}
	c, _ := ForProfile(ProfileLarge, min-time.Millisecond)
	if err := c.Validate(); err == nil {
		t.Errorf("large with grace %v (below MinGrace) validated", min-time.Millisecond)
	}
	if _, err := ForProfile("huge", 0); err == nil || !strings.Contains(err.Error(), `"large"`) {
		t.Errorf("unknown profile: err = %v, want the large profile offered", err)
	}
}
