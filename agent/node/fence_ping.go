package node

import "time"

// A client's evidence of contact is a server's answer to something it
// sent: an assignments query, a status write, one of gossip's own probes
// (Fleet.ServerAnswered) or the fence loop's ping. The ping was sent at
// every tick, four times a second, and was a fifth of an idle client's CPU
// samples (docs/performance.md), though gossip's probes, which go to a
// random member each probe interval, reach a server most of the time
// anyway. So the fence loop pings only when the freshest evidence is at
// least pingSkip old.
//
// Skipping changes no deadline: contact() still counts from the freshest
// evidence and the node fences FenceAfter after it, whatever was skipped,
// so the rule of docs/liveness.md holds for any pingSkip. What pingSkip
// bounds is a lapse on a healthy link: the first ping goes out by pingSkip
// plus one FenceInterval after the evidence, and a second, to the next
// server in turn, one FenceInterval later; the second's answer (at most
// CheckTimeout) lands before FenceAfter when
//
//	pingSkip + 2 x FenceInterval + CheckTimeout <= FenceAfter
//
// (250 ms + 2 x 250 ms + 250 ms = 1 s at the default grace). So one ping
// that goes unanswered (a dead server that gossip still lists) costs the
// node nothing, as before; two in a row, which a ping every tick
// absorbed, now make it refuse its view and, if no other answer comes,
// fence, as a node cut off does. With two or more live servers the turns
// never give two failures in a row. Where the budget leaves no room (a
// CheckTimeout longer than an eighth of the grace: the WAN profile),
// pingSkip is 0 and the client pings at every tick as before.

// pingSkip is how fresh a client's evidence of contact keeps the fence
// loop from pinging.
func (f *Fencer) pingSkip() time.Duration {
	b := f.budget
	return max(0, b.FenceAfter-b.CheckTimeout-2*b.FenceInterval)
}

// pingIfDue pings a server unless the client's freshest evidence of
// contact is younger than pingSkip; an answer is evidence from when the
// ping was sent.
func (f *Fencer) pingIfDue(now time.Time) {
	if last := f.clientEvidence(); now.Sub(last) < f.pingSkip() {
		return
	}
	if f.fleet.PingServer() {
		f.answered(now)
	}
}

// clientEvidence is a client's last evidence of contact: lastFetch, moved
// up to gossip's last acked probe of a server.
func (f *Fencer) clientEvidence() time.Time {
	acked := f.fleet.ServerAnswered()
	f.mu.Lock()
	defer f.mu.Unlock()
	if acked.After(f.lastFetch) {
		f.lastFetch = acked
	}
	return f.lastFetch
}
