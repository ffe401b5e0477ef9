// Package liveness owns every timing that decides when an agent counts as
// gone: gossip's probes and suspicion, the node grace, the node's own
// fencing, and the leader's death clock. They are one config because they
// only make sense together: a node cut off from the fleet must stop its
// controller-managed pods before the leader may run them elsewhere, and
// that rule is an inequality of these settings (budget.go, checked by
// Validate; docs/liveness.md writes it down).
//
// The package is a leaf: it imports nothing of shoal's and starts no
// goroutines. Package agent applies Gossip to memberlist, agent/node's
// fencer reads the node's side and agent/controllers the leader's.
package liveness

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// DefaultNodeGrace is how long an agent must be out of contact before the
// fleet declares its node NotReady and replaces its replicas.
const DefaultNodeGrace = 2 * time.Second

// Gossip is what memberlist is told (memberlist.Config's fields of the
// same names).
type Gossip struct {
	// ProbeInterval: each member probes one other this often.
	ProbeInterval time.Duration
	// ProbeTimeout: a direct probe's ack must come within it.
	ProbeTimeout time.Duration
	// GossipInterval: how often suspicions and verdicts are spread.
	GossipInterval time.Duration
	// SuspicionMult scales how long a suspect may refute before it is
	// declared dead: SuspicionMult x max(1, log10(members)) x ProbeInterval
	// once another member confirms the suspicion (Suspicion).
	SuspicionMult int
	// SuspicionMaxTimeoutMult bounds the suspicion without confirmation
	// to that many times the confirmed one.
	SuspicionMaxTimeoutMult int
}

// DefaultGossip is tuned for a LAN or a lab, which answers in well under a
// millisecond: probing faster than memberlist's WAN-minded default notices
// a dead node in about a second and a half. A false suspicion costs
// nothing by itself: the node grace must also pass before anything moves,
// and memberlist stretches its own timeouts when an agent is too loaded to
// answer. membership_bench_test.go (package agent) measures the verdict.
//
// Probing every 500 ms with SuspicionMult 2 (no confirmation awaited) was
// tried for issue 30: half the probe traffic, but the 4-node lab's
// failover took 0.3 s longer and on 20 nodes the leader recorded the
// killed nodes NotReady about 1 s later, since a dead member waits longer
// for its first probe and memberlist waits a whole interval for indirect
// acks before it suspects. Probes cost a fifth to a half of an idle
// agent's CPU (docs/performance.md); they stay at 250 ms for the failover
// (docs/liveness.md, "Gossip timings and the grace").
func DefaultGossip() Gossip {
	return Gossip{
		ProbeInterval:           250 * time.Millisecond,
		ProbeTimeout:            200 * time.Millisecond,
		GossipInterval:          100 * time.Millisecond,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 6,
	}
}

// Config is the fleet's liveness: gossip's timings and the node grace.
// Every other timing of liveness is derived from them (budget.go).
type Config struct {
	Gossip Gossip
	// NodeGrace is how long an agent must be out of contact before the
	// leader declares its node NotReady and replaces its replicas; the
	// node stops its own replicas within it (FenceAfter).
	NodeGrace time.Duration
}

// Default is DefaultGossip with DefaultNodeGrace.
func Default() Config { return WithGrace(DefaultNodeGrace) }

// WithGrace is DefaultGossip with the given node grace (0: the default).
func WithGrace(grace time.Duration) Config {
	if grace <= 0 {
		grace = DefaultNodeGrace
	}
	return Config{Gossip: DefaultGossip(), NodeGrace: grace}
}

// Validate names every setting that is out of range and checks the
// fencing inequality (Budget.Check).
func (c Config) Validate() error {
	var errs []error
	g := c.Gossip
	if g.ProbeInterval <= 0 {
		errs = append(errs, fmt.Errorf("gossip probe interval %v: must be positive", g.ProbeInterval))
	}
	if g.ProbeTimeout <= 0 || g.ProbeTimeout > g.ProbeInterval {
		errs = append(errs, fmt.Errorf("gossip probe timeout %v: must be positive and at most the probe interval %v", g.ProbeTimeout, g.ProbeInterval))
	}
	if g.GossipInterval <= 0 {
		errs = append(errs, fmt.Errorf("gossip interval %v: must be positive", g.GossipInterval))
	}
	if g.SuspicionMult < 1 {
		errs = append(errs, fmt.Errorf("gossip suspicion multiplier %d: must be 1 or more", g.SuspicionMult))
	}
	if g.SuspicionMaxTimeoutMult < 1 {
		errs = append(errs, fmt.Errorf("gossip suspicion max timeout multiplier %d: must be 1 or more", g.SuspicionMaxTimeoutMult))
	}
	if c.NodeGrace <= 0 {
		errs = append(errs, fmt.Errorf("node grace %v: must be positive", c.NodeGrace))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.Budget().Check()
}

// Suspicion is the shortest time memberlist lets a suspect member refute
// before it declares it dead, in a fleet of members agents (memberlist's
// suspicionTimeout: SuspicionMult x max(1, log10(members)) x
// ProbeInterval). A member is suspected only after a probe of it failed,
// so gossip's dead verdict proves the member has been silent at least this
// long; the leader credits it to the node's grace (VerdictCredit).
func (c Config) Suspicion(members int) time.Duration {
	scale := math.Max(1, math.Log10(math.Max(1, float64(members))))
	// Rounded down to the millisecond: the credit must never exceed what
	// memberlist waited.
	return time.Duration(float64(c.Gossip.SuspicionMult)*scale*float64(c.Gossip.ProbeInterval)) / time.Millisecond * time.Millisecond
}

// SuspicionMax is how long a suspicion lasts when no other member confirms
// it: memberlist starts the timer there and shrinks it towards Suspicion
// as confirmations come in.
func (c Config) SuspicionMax(members int) time.Duration {
	return time.Duration(c.Gossip.SuspicionMaxTimeoutMult) * c.Suspicion(members)
}

// VerdictCredit is how much of the grace the leader counts as already
// spent when gossip declares a member dead (failed, not left) that it saw
// alive, with members agents alive as the leader sees them: the member
// has been silent at least Suspicion(members) by then. Without the credit
// the grace would start only after the suspicion, and failover would grow
// with log10 of the fleet (issue 28: 8 s on 20 nodes). A member that left
// on purpose, or that the leader never saw alive, gets none.
func (c Config) VerdictCredit(members int) time.Duration {
	return min(c.Suspicion(members), c.NodeGrace)
}

// ReplaceAfterVerdict is how long after gossip's verdict on a failed
// member the leader declares its node lost: the grace less the credit.
func (c Config) ReplaceAfterVerdict(members int) time.Duration {
	return c.NodeGrace - c.VerdictCredit(members)
}
