package controllers

import (
	"context"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/consensus"
)

// nodeLeaseRenewal is how often the leader renews the node Leases: the
// kubelet's 10 s (a quarter of its 40 s lease duration).
const nodeLeaseRenewal = 10 * time.Second

// nodeLeaseController keeps every node's Lease in kube-node-lease renewed
// while gossip hears its agent, so kubectl describe node shows the
// heartbeat and tools that read node Leases see them fresh. Gossip already
// is the fleet's heartbeat (probes every 250 ms); the leader turns what it
// hears into one RenewNodeLeases entry per interval for the whole fleet,
// rather than each agent writing its own Lease through Raft as a kubelet
// does (one entry per node per 10 s). A node gossip declares failed keeps
// its last renewTime, and its Lease runs out 40 s later.
func (l *Leader) nodeLeaseController(ctx context.Context) {
	tick := time.NewTicker(nodeLeaseRenewal)
	defer tick.Stop()
	for {
		l.renewNodeLeases(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (l *Leader) renewNodeLeases(ctx context.Context, now time.Time) {
	var names []string
	for _, m := range l.members.Members() {
		if m.Alive {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	if _, err := l.seat.Apply(ctx, consensus.RenewNodeLeases{Nodes: names, Time: now.UTC()}); err != nil && ctx.Err() == nil {
		l.log.Warn("renew node leases", "nodes", len(names), "err", err)
	}
}
