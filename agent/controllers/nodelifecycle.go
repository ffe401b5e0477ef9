package controllers

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// downFor is how long the member has been out of contact by the
// leader's reckoning (0 while gossip holds it alive): since gossip's
// verdict, plus the silence that verdict proves when it is a fresh failure
// (liveness.Config.VerdictCredit), so the grace counts from the node's last
// contact, not from gossip's verdict, and failover does not grow with the
// fleet as memberlist's suspicion does.
func (l *Leader) downFor(m Member, now time.Time) time.Duration {
	var credit time.Duration
	if v, ok := l.members.(Verdicts); ok && !m.Alive && v.Failed(m.Name) {
		credit = l.cfg.Liveness.VerdictCredit(l.aliveMembers())
	}
	return l.deaths.Down(m.Name, m.Alive, credit, now)
}

// aliveMembers counts the members gossip holds alive: never more than
// memberlist counted when it suspected one, so the credit never exceeds
// the suspicion it waited.
func (l *Leader) aliveMembers() int {
	n := 0
	for _, m := range l.members.Members() {
		if m.Alive {
			n++
		}
	}
	return n
}

// aliveForFleet is the leader's view of a member: alive until it has been
// out of contact for longer than the node grace.
func (l *Leader) aliveForFleet(m Member) bool {
	return !l.lostAfter(m, l.downFor(m, time.Now()))
}

// lostAfter tells whether a member out of contact for down (downFor's
// answer) has used up its grace.
func (l *Leader) lostAfter(m Member, down time.Duration) bool {
	return !m.Alive && down >= l.graceOf(m.Name)
}

// nodeLifecycleController runs on the leader: it re-checks members as their
// grace runs out, and deletes the controller-managed pods of NotReady nodes
// (they are Unknown, and their RC replaces them on live nodes). Bare pods
// and DaemonSet pods stay Unknown: nothing may re-create them elsewhere. A lost node that comes back
// finds its old replicas gone from the state and stops them (fencing).
func (l *Leader) nodeLifecycleController(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.rejoinLoop(ctx)
	}()
	// Replicas are deleted by a loop of their own: deleting a lost
	// node's dozen replicas takes a loaded leader the better part of a
	// second, and the grace of a second lost node ran out meanwhile
	// unnoticed (issue 28: the second of two killed nodes marked 0.6 s
	// late). A kick while it runs makes it run once more.
	evict := make(chan struct{}, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-evict:
			}
			l.evictLostReplicas(ctx, time.Now())
		}
	}()
	for {
		// Taken before the members are read, so an event that lands
		// while this pass runs still wakes the next one.
		changed := l.members.Changes()
		next := l.cfg.Liveness.NodeGrace / 4
		for _, m := range l.fleetMembers() {
			// One reading of the clock serves both questions, so they
			// cannot disagree about the same member within a pass.
			dead := l.downFor(m, time.Now())
			if err := l.markLost(ctx, m, dead); err != nil && ctx.Err() == nil {
				l.log.Warn("mark node not ready", "node", m.Name, "err", err)
			}
			if left := l.graceLeft(m, dead); left > 0 && left < next {
				next = left
			}
		}
		select {
		case evict <- struct{}{}:
		default: // one is pending already
		}
		// Woken by gossip's verdict itself and again the moment a grace
		// runs out, so a failover waits for the grace and nothing more
		// (a fixed tick added up to two tick periods on top of it).
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// graceLeft is how much of its grace a member out of contact for dead
// still has (0 for a live member or one whose grace has run out).
func (l *Leader) graceLeft(m Member, dead time.Duration) time.Duration {
	if m.Alive {
		return 0
	}
	return max(0, l.graceOf(m.Name)-dead)
}

// fleetMembers is every registered node as gossip sees it. memberlist
// forgets a dead member after declaring it dead, so a registered node
// gossip no longer lists counts as failed.
func (l *Leader) fleetMembers() []Member {
	byName := map[string]Member{}
	for _, m := range l.members.Members() {
		byName[m.Name] = m
	}
	nodes, _ := l.state.Nodes()
	out := make([]Member, 0, len(nodes))
	for _, n := range nodes {
		m, ok := byName[n.ObjectMeta.Name]
		if !ok {
			m = Member{Name: n.ObjectMeta.Name, Alive: false}
		}
		out = append(out, m)
	}
	return out
}

// rejoinLoop invites registered nodes that gossip does not hold alive back
// into gossip. memberlist stops talking to a member it declared dead, so
// two sides of a healed partition, or a seed agent restarted with nobody
// to join, would otherwise stay apart for good. Every agent gossips on the
// same port. Each address is tried on its own, so an unreachable node
// (whose connect times out) holds up no other.
//
// It invites at once when the leader takes office and whenever gossip's
// view changes, then again every grace while a node stays apart. A new
// leader's gossip view may be one it formed while it was itself cut off
// (chaos seed 19: a seat cut off in a quorum loss won the election after
// the heal still holding three live agents dead, and declared them lost
// one grace later, at the very moment its first invitation went out). An
// invitation sent the moment the node is seen apart has the whole grace
// to bring a live node back before the grace runs out.
func (l *Leader) rejoinLoop(ctx context.Context) {
	var (
		mu       sync.Mutex
		inFlight = map[string]bool{}
		wg       sync.WaitGroup
	)
	defer wg.Wait()
	tick := time.NewTicker(l.cfg.Liveness.NodeGrace)
	defer tick.Stop()
	for {
		// Taken before the members are read, so a change while this
		// pass runs wakes the next one.
		changed := l.members.Changes()
		nodes, _ := l.state.Nodes()
		alive := map[string]bool{}
		for _, m := range l.members.Members() {
			alive[m.Name] = m.Alive
		}
		for _, n := range nodes {
			ip := internalAddress(n)
			if alive[n.ObjectMeta.Name] || ip == "" {
				continue
			}
			addr := net.JoinHostPort(ip, strconv.Itoa(l.cfg.GossipPort))
			mu.Lock()
			busy := inFlight[addr]
			inFlight[addr] = true
			mu.Unlock()
			if busy {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := l.members.Join([]string{addr}); err == nil {
					l.log.Info("invited a node gossip held apart back into gossip", "node", n.ObjectMeta.Name, "addr", addr)
				}
				mu.Lock()
				delete(inFlight, addr)
				mu.Unlock()
			}()
		}
		// A fleet forming or healing sends changes by the hundred; one
		// pass per twentieth of the grace (at most a quarter second)
		// answers them all and leaves the invitation most of the grace.
		gap := time.NewTimer(min(l.cfg.Liveness.NodeGrace/20, 250*time.Millisecond))
		select {
		case <-ctx.Done():
			gap.Stop()
			return
		case <-gap.C:
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

func internalAddress(n *api.Node) string {
	for _, addr := range n.Status.Addresses {
		if addr.Type == "InternalIP" {
			return addr.Address
		}
	}
	return ""
}

// markLost records in Raft that a member's grace ran out (dead is how
// long it has been out of contact, downFor); nodeController does the same on its
// slower tick and brings the node back when it returns.
func (l *Leader) markLost(ctx context.Context, m Member, dead time.Duration) error {
	if !l.lostAfter(m, dead) {
		return nil
	}
	n, err := l.state.Node(m.Name)
	if err != nil || !placement.NodeReady(n) {
		return nil
	}
	l.log.Info("node lost: gossip has held it failed for longer than the grace period", "node", m.Name, "grace", l.graceOf(m.Name), "out_of_contact", dead.Round(time.Millisecond))
	_, err = l.seat.Apply(ctx, consensus.SetNodeCondition{Name: m.Name, Ready: false, Reason: "NodeStatusUnknown",
		Message: "gossip declared the agent failed", Time: time.Now().UTC()})
	return err
}

func (l *Leader) evictLostReplicas(ctx context.Context, now time.Time) {
	nodes, _ := l.state.Nodes()
	lost := map[string]bool{}
	for _, n := range nodes {
		if !placement.NodeReady(n) && nodeWasReady(n) {
			lost[n.ObjectMeta.Name] = true
		}
	}
	if len(lost) == 0 {
		return
	}
	// How long each lost node has been out of contact by the leader's
	// clock, for the pods that tolerate its loss for longer than the
	// grace (tolerations of node.kubernetes.io/unreachable, not-ready): a
	// node gossip holds alive again is 0, so its pods stay.
	down := map[string]time.Duration{}
	for _, m := range l.fleetMembers() {
		if lost[m.Name] {
			down[m.Name] = l.downFor(m, now)
		}
	}
	budget := l.cfg.Liveness.Budget()
	graces := map[string]time.Duration{}
	for name := range lost {
		graces[name] = l.graceOf(name)
	}
	pods, _ := l.state.Pods(func(p *api.Pod) bool {
		if !lost[p.Spec.NodeName] || p.Status.Phase != api.PodUnknown {
			return false
		}
		// A node lost after a planned restart's grace: its pods' budget
		// is the restart's (liveness.Budget.Restart).
		budget := budget.Restart(graces[p.Spec.NodeName])
		// Bare pods and a DaemonSet's pods belong to their node
		// (LostNodeTolerance: for good); they stay Unknown with it and
		// are not made again elsewhere. Any other pod goes once its
		// toleration has run out, the grace for one without
		// (agent/liveness/tolerance.go: the node has stopped it by then).
		pb := budget.ForPod(api.LostNodeTolerance(p))
		return pb.ReplaceAfter <= budget.EarliestReplacement() || down[p.Spec.NodeName] >= pb.ReplaceAfter
	})
	// Side by side (parallel.go): one by one, a dozen deletes took the
	// better part of a second.
	sideBySide(len(pods), leaderWrites, func(i int) {
		p := pods[i]
		_, err := l.seat.Apply(ctx, consensus.DeletePod{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			if ctx.Err() == nil {
				l.log.Warn("delete replica of lost node", "pod", api.KeyOf(p), "node", p.Spec.NodeName, "err", err)
			}
			return
		}
		l.log.Info("deleted replica of lost node; its controller replaces it", "pod", api.KeyOf(p), "node", p.Spec.NodeName)
	})
}

// nodeWasReady tells a node the fleet lost (Ready=False) from one that has
// not reported yet (Ready=Unknown).
func nodeWasReady(n *api.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "False"
		}
	}
	return false
}
