package controllers

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/placement"
)

// seatInterval is how often the leader reviews the Raft configuration.
const seatInterval = time.Second

// seatController keeps Config.Servers voters while enough agents live: a
// voter that gossip has held failed for longer than the grace period is
// removed, and a healthy agent takes its seat (a returning server first,
// else a client, which opens a seat with an empty log when asked). A
// server that returns to a full configuration rejoins without a vote, so
// it follows the state like a client does.
func (l *Leader) seatController(ctx context.Context) {
	if l.seats == nil {
		l.log.Error("seat healing off: this seat cannot change the Raft configuration", "seat", fmt.Sprintf("%T", l.seat))
		return
	}
	tick := time.NewTicker(seatInterval)
	defer tick.Stop()
	for {
		if err := l.reviewSeats(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("raft seats", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (l *Leader) reviewSeats(ctx context.Context) error {
	admin := l.seats
	servers, err := admin.Servers()
	if err != nil {
		return err
	}
	byName := map[string]Member{}
	for _, m := range l.members.Members() {
		byName[m.Name] = m
	}
	inConfig := map[string]bool{} // name: voter
	voters := 0
	for _, s := range servers {
		id := string(s.ID)
		m, ok := byName[id]
		if !ok {
			m = Member{Name: id}
		}
		// An agent that came back without its seat (restarted as a
		// client) holds a vote it cannot cast: it goes like a dead one.
		seatless := l.seatless.Down(id, !m.Alive || m.Server, 0, time.Now()) > l.cfg.Liveness.NodeGrace
		if id != l.cfg.Name && (!l.aliveForFleet(m) || seatless) {
			l.log.Info("removing a server that is gone or runs without its seat for longer than the grace period", "server", id)
			if err := admin.RemoveServer(ctx, id); err != nil {
				return err
			}
			continue
		}
		inConfig[id] = s.Voter
		if s.Voter {
			voters++
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	// A returning server with a seat of its own follows without a vote.
	for _, n := range names {
		m := byName[n]
		if _, ok := inConfig[n]; ok || !m.Alive || !m.Server || m.Raft == "" {
			continue
		}
		l.log.Info("server back without a seat: it follows the log without a vote", "server", n)
		if err := admin.AddNonvoter(ctx, n, m.Raft); err != nil {
			return err
		}
		inConfig[n] = false
	}
	if voters >= l.cfg.Servers {
		return nil
	}
	cand, addr, err := l.seatCandidate(ctx, names, byName, inConfig)
	if err != nil || cand == "" {
		return err
	}
	l.log.Info("promoting an agent to a Raft voter", "agent", cand, "raft", addr, "voters", voters, "want", l.cfg.Servers)
	return admin.AddVoter(ctx, cand, addr)
}

// seatCandidate picks the agent to promote: a live non-voter first, else
// a live client whose node is Ready, which is asked to open its seat;
// among each, those of the seat zone first (seatOrder).
func (l *Leader) seatCandidate(ctx context.Context, names []string, byName map[string]Member, inConfig map[string]bool) (string, string, error) {
	names = seatOrder(names, byName, l.cfg.SeatZone)
	for _, n := range names {
		voter, ok := inConfig[n]
		if m := byName[n]; ok && !voter && m.Alive && m.Raft != "" {
			return n, m.Raft, nil
		}
	}
	if l.opener == nil {
		return "", "", nil
	}
	for _, n := range names {
		m := byName[n]
		if _, ok := inConfig[n]; ok || !m.Alive || m.Server {
			continue
		}
		if node, err := l.state.Node(n); err != nil || !placement.NodeReady(node) {
			continue
		}
		addr, err := l.opener.OpenSeat(ctx, m)
		if err != nil {
			l.log.Warn("agent could not open a Raft seat", "agent", n, "err", err)
			continue
		}
		return n, addr, nil
	}
	return "", "", nil
}
