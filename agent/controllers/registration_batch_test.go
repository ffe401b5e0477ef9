package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// heldSeat holds every Apply until released, counting how many wait at
// once; a real Raft seat stands behind it.
type heldSeat struct {
	Seat
	mu       sync.Mutex
	waiting  int
	most     int
	released chan struct{}
}

func (s *heldSeat) Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error) {
	s.mu.Lock()
	s.waiting++
	s.most = max(s.most, s.waiting)
	s.mu.Unlock()
	select {
	case <-s.released:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	s.waiting--
	s.mu.Unlock()
	return s.Seat.Apply(ctx, cmd)
}

func (s *heldSeat) mostWaiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most
}

// A fleet's members are registered with many writes in flight at once,
// which Raft commits together, not one member after the other; every one
// ends up registered and Ready.
func TestRegistrationWritesSideBySide(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.Default()}, Deps{Members: &fakeFleet{}})
	seat := &heldSeat{Seat: l.seat, released: make(chan struct{})}
	l.seat = seat
	var members []Member
	for i := range 100 {
		members = append(members, Member{Name: fmt.Sprintf("h%04d", i), Addr: fmt.Sprintf("127.77.0.%d", i+1), Alive: true})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.syncNodes(context.Background(), members)
	}()
	eventually(t, fmt.Sprintf("%d registrations waiting at once", leaderWrites), func() bool { return seat.mostWaiting() >= leaderWrites })
	close(seat.released)
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("registration did not finish")
	}
	if most := seat.mostWaiting(); most > leaderWrites {
		t.Errorf("%d writes in flight at once, more than leaderWrites %d", most, leaderWrites)
	}
	for _, m := range members {
		n, err := s.FSM.Node(m.Name)
		if err != nil {
			t.Fatalf("node %s: %v", m.Name, err)
		}
		if !placement.NodeReady(n) || n.Spec.PodCIDR == "" {
			t.Errorf("node %s: ready %v, block %q", m.Name, placement.NodeReady(n), n.Spec.PodCIDR)
		}
	}
}
