package liveness

import (
	"fmt"
	"time"
)

// Budget is the fencing rule in numbers. Let t0 be the last moment a node
// was in contact with the fleet (its last Raft heartbeat, quorum
// confirmation, assignments answer or gossip ack from a server). Every
// duration below counts from t0 on the clock of the machine that acts;
// no wall-clock time crosses machines, so clock offsets do not enter, only
// how late a loop runs (Margin).
//
// The node's side: its fence loop looks every FenceInterval; once the last
// evidence of contact is older than FenceAfter it stops its
// controller-managed pods. Finding out may take one more CheckTimeout (a
// leader's quorum check, a client's ping of a server), and the stop
// requests reach the runtime within StopBudget. So the node has begun
// stopping them by
//
//	FenceDeadline = FenceAfter + FenceInterval + CheckTimeout + StopBudget
//
// The leader's side: it declares the node lost, and deletes its replicas
// so that their controllers replace them, only once its own estimate of t0
// is NodeGrace old. The estimate is never earlier than t0 (gossip's
// verdict comes at least Suspicion after t0, and the leader subtracts at
// most that: VerdictCredit), so
//
//	EarliestReplacement = NodeGrace
//
// and the rule is FenceDeadline + Margin <= EarliestReplacement.
type Budget struct {
	FenceAfter    time.Duration
	FenceInterval time.Duration
	CheckTimeout  time.Duration
	StopBudget    time.Duration
	// ContactWindow: a follower that has not heard from its leader for
	// this long counts as out of contact (and does not act on its view).
	ContactWindow time.Duration
	// Margin is for a loaded node whose fence loop runs late, and for the
	// drift of two monotonic clocks over a grace (under 0.1% on any
	// machine NTP keeps: 2 ms on 2 s).
	Margin time.Duration
	// NodeGrace: the leader replaces no earlier than this after t0.
	NodeGrace time.Duration
	// ProbeTimeout is how long a client's ping of a server may take
	// (memberlist's Ping waits this long).
	ProbeTimeout time.Duration
}

// Budget derives the node's and the leader's timings from the grace and
// gossip's timings. An eighth of the grace each for the fence loop's
// period, the check, the stop and the margin (at the default 2 s: 250 ms
// each) leaves the node half the grace (1 s) of silence before it fences;
// a check never waits less than gossip's own probe timeout, since a
// client's check is a gossip ping.
func (c Config) Budget() Budget {
	eighth := c.NodeGrace / 8
	b := Budget{
		FenceInterval: eighth,
		CheckTimeout:  max(eighth, c.Gossip.ProbeTimeout),
		StopBudget:    eighth,
		Margin:        eighth,
		NodeGrace:     c.NodeGrace,
		ProbeTimeout:  c.Gossip.ProbeTimeout,
	}
	b.FenceAfter = b.NodeGrace - b.FenceInterval - b.CheckTimeout - b.StopBudget - b.Margin
	// The contact window is three eighths of the grace where that leaves
	// the node a fence interval of contact before FenceAfter (750 ms at
	// the default grace), and never less than the quarter it was before
	// (the WAN profile keeps that): the leader's heartbeats are spaced by
	// it (raft.go), and a longer window lets them come less often with the
	// same margin.
	b.ContactWindow = max(c.NodeGrace/4, min(c.NodeGrace*3/8, b.FenceAfter-b.FenceInterval))
	return b
}

// FenceDeadline is when, after t0, a cut-off node has begun stopping its
// controller-managed pods at the latest.
func (b Budget) FenceDeadline() time.Duration {
	return b.FenceAfter + b.FenceInterval + b.CheckTimeout + b.StopBudget
}

// EarliestReplacement is when, after t0, the leader may first delete a
// cut-off node's replicas.
func (b Budget) EarliestReplacement() time.Duration { return b.NodeGrace }

// Check fails when the node could still be running its pods when the
// leader replaces them, or when a part of the budget cannot work.
func (b Budget) Check() error {
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"fence interval", b.FenceInterval}, {"check timeout", b.CheckTimeout}, {"contact window", b.ContactWindow}, {"margin", b.Margin}} {
		if p.d <= 0 {
			return fmt.Errorf("liveness: %s %v: must be positive (node grace %v)", p.name, p.d, b.NodeGrace)
		}
	}
	if b.CheckTimeout < b.ProbeTimeout {
		return fmt.Errorf("liveness: check timeout %v is shorter than gossip's probe timeout %v: a client's ping of a server could not finish", b.CheckTimeout, b.ProbeTimeout)
	}
	if b.FenceAfter <= b.ContactWindow {
		return fmt.Errorf("liveness: the node fences after %v of silence, not longer than the contact window %v: a node would stop its pods while still in contact (node grace %v too short for the gossip timings)", b.FenceAfter, b.ContactWindow, b.NodeGrace)
	}
	if late := b.FenceDeadline() + b.Margin; late > b.EarliestReplacement() {
		return fmt.Errorf("liveness: a cut-off node may still run its pods %v after it lost contact (fence after %v + interval %v + check %v + stop %v, margin %v), but the leader may replace them at %v",
			late, b.FenceAfter, b.FenceInterval, b.CheckTimeout, b.StopBudget, b.Margin, b.EarliestReplacement())
	}
	return nil
}
