package liveness

import (
	"strings"
	"testing"
	"time"
)

func TestWANProfileKeepsTheFencingRule(t *testing.T) {
	c, err := ForProfile(ProfileWAN, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.NodeGrace != WANNodeGrace || c.Gossip != WANGossip() {
		t.Fatalf("wan profile = %+v, want WANGossip with grace %v", c, WANNodeGrace)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("wan profile at its default grace: %v", err)
	}
	b := c.Budget()
	if b.FenceDeadline()+b.Margin > b.EarliestReplacement() {
		t.Errorf("wan: fence by %v + margin %v after the leader may replace at %v", b.FenceDeadline(), b.Margin, b.EarliestReplacement())
	}
	// A client's contact check is a ping: it must be allowed the WAN's
	// probe timeout, not the LAN's.
	if b.CheckTimeout < 3*time.Second {
		t.Errorf("wan check timeout %v, want at least the 3 s probe timeout", b.CheckTimeout)
	}
	// More patient than the LAN in every timing that reads a slow member
	// as a dead one.
	lan, wan := DefaultGossip(), WANGossip()
	if wan.ProbeTimeout <= lan.ProbeTimeout || wan.ProbeInterval <= lan.ProbeInterval || wan.SuspicionMult <= lan.SuspicionMult {
		t.Errorf("wan %+v is not more patient than lan %+v", wan, lan)
	}
}

func TestWANProfileRefusesTheLANGrace(t *testing.T) {
	c, err := ForProfile(ProfileWAN, DefaultNodeGrace)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "probe timeout") && !strings.Contains(err.Error(), "too short") {
		t.Fatalf("wan with a %v grace: Validate() = %v, want the budget it breaks named", DefaultNodeGrace, err)
	}
	min := MinGrace(WANGossip())
	// 3 s probe timeout: the grace must exceed 8/3 of it (budget.go).
	if min <= 8*time.Second || min > 8*time.Second+time.Millisecond {
		t.Errorf("MinGrace(wan) = %v, want just over 8 s", min)
	}
	for _, g := range []time.Duration{min, min + time.Second, time.Minute} {
		if c, _ := ForProfile(ProfileWAN, g); c.Validate() != nil {
			t.Errorf("wan with grace %v: %v", g, c.Validate())
		}
	}
	if c, _ := ForProfile(ProfileWAN, min-time.Millisecond); c.Validate() == nil {
		t.Errorf("wan with grace %v (below MinGrace) validated", min-time.Millisecond)
	}
}

func TestLANProfileIsTodaysDefault(t *testing.T) {
	for _, p := range []string{"", ProfileLAN} {
		c, err := ForProfile(p, 0)
		if err != nil || c != Default() {
			t.Errorf("ForProfile(%q, 0) = %+v, %v; want Default()", p, c, err)
		}
	}
	if min := MinGrace(DefaultGossip()); min >= DefaultNodeGrace {
		t.Errorf("MinGrace(lan) = %v, not below the default grace %v", min, DefaultNodeGrace)
	}
	if _, err := ForProfile("satellite", 0); err == nil || !strings.Contains(err.Error(), `"satellite"`) {
		t.Errorf("unknown profile: err = %v, want it named", err)
	}
}
