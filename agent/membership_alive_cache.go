package agent

import (
	"hash/maphash"
	"sync"

	"github.com/hashicorp/memberlist"
)

// agreedAlive remembers, per member, the metadata an agent's alive check
// (membership.agreeLiveness) last let through, and lets the same
// metadata through again without asking. memberlist calls its
// AliveDelegate for every alive message it handles, the many repeats
// that gossip's retransmits bring (each member hears each join about
// RetransmitMult x log10(n) times) as well as the new ones, and calls it
// holding its node lock. The check decodes the member's JSON metadata
// each time: in a 600-node sim's start, 8% of the process's CPU, all of
// it under memberlist's lock (docs/scale.md, session 22). A member's
// metadata changes rarely (a seat's promotion, a departure), and the
// verdict depends only on it and the agent's own settings, which do not
// change while the agent runs.
//
// Every agent runs with it, not only the sim's: a real fleet's start
// and every rejoin after a partition bring the same repeats.
//
// It keeps a 64-bit hash of the metadata, not the metadata: every agent
// holds every member, and in a sim of n agents that is n^2 entries.
// Only verdicts that let a member through are kept: a refusal is asked
// again each time, as before (the check logs a refusal once per setting).
type agreedAlive struct {
	alive memberlist.AliveDelegate
	merge memberlist.MergeDelegate
	seed  maphash.Seed

	mu     sync.Mutex
	agreed map[string]uint64 // member name -> hash of the metadata let through
}

// cacheAliveVerdicts wraps mc's alive and merge delegates (the agent's
// membership) in an agreedAlive. A config with no alive delegate is left
// as it is.
func cacheAliveVerdicts(mc *memberlist.Config) {
	if mc.Alive == nil {
		return
	}
	c := &agreedAlive{alive: mc.Alive, merge: mc.Merge, seed: maphash.MakeSeed(), agreed: map[string]uint64{}}
	mc.Alive = c
	if mc.Merge != nil {
		mc.Merge = c
	}
}

func (c *agreedAlive) sum(meta []byte) uint64 { return maphash.Bytes(c.seed, meta) }

// known tells whether n's metadata is the one last let through.
func (c *agreedAlive) known(n *memberlist.Node, sum uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.agreed[n.Name]
	return ok && got == sum
}

func (c *agreedAlive) agree(n *memberlist.Node, sum uint64) {
	c.mu.Lock()
	c.agreed[n.Name] = sum
	c.mu.Unlock()
}

// NotifyAlive is memberlist's AliveDelegate.
func (c *agreedAlive) NotifyAlive(n *memberlist.Node) error {
	sum := c.sum(n.Meta)
	if c.known(n, sum) {
		return nil
	}
	if err := c.alive.NotifyAlive(n); err != nil {
		return err
	}
	c.agree(n, sum)
	return nil
}

// NotifyMerge is memberlist's MergeDelegate: the members whose metadata
// was let through before are not asked about again. The check's answer
// is all or nothing, so the verdicts are kept only when it let all
// through.
func (c *agreedAlive) NotifyMerge(peers []*memberlist.Node) error {
	var ask []*memberlist.Node
	var sums []uint64
	for _, n := range peers {
		if sum := c.sum(n.Meta); !c.known(n, sum) {
			ask = append(ask, n)
			sums = append(sums, sum)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	if err := c.merge.NotifyMerge(ask); err != nil {
		return err
	}
	for i, n := range ask {
		if n.State == memberlist.StateAlive || n.State == memberlist.StateSuspect {
			c.agree(n, sums[i]) // the check skips the others
		}
	}
	return nil
}
