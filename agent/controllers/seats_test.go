package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/consensus"
)

// fakeSeats is a Raft configuration the test reads and the seat healing
// changes; the real one is consensus.Raft's (e2e: a server's death).
type fakeSeats struct {
	mu      sync.Mutex
	servers []consensus.Server
	calls   []string
}

func (f *fakeSeats) Servers() ([]consensus.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.servers), nil
}

func (f *fakeSeats) AddVoter(_ context.Context, id, addr string) error {
	return f.add(id, addr, true)
}

func (f *fakeSeats) AddNonvoter(_ context.Context, id, addr string) error {
	return f.add(id, addr, false)
}

func (f *fakeSeats) add(id, addr string, voter bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("add %s %s voter=%v", id, addr, voter))
	f.servers = slices.DeleteFunc(f.servers, func(s consensus.Server) bool { return s.ID == id })
	f.servers = append(f.servers, consensus.Server{ID: id, Address: addr, Voter: voter})
	return nil
}

func (f *fakeSeats) RemoveServer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+id)
	f.servers = slices.DeleteFunc(f.servers, func(s consensus.Server) bool { return s.ID == id })
	return nil
}

func (f *fakeSeats) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeOpener stands in for asking a client over its API to open a seat.
type fakeOpener struct{ asked []string }

func (o *fakeOpener) OpenSeat(_ context.Context, m Member) (string, error) {
	o.asked = append(o.asked, m.Name)
	return m.Name + ":8300", nil
}

// A voter gossip holds failed for longer than the grace loses its seat,
// and a live client whose node is Ready is asked to open one and becomes
// a voter; a client whose node is not registered is not asked.
func TestSeatHealingReplacesALostVoterWithAClient(t *testing.T) {
	fleet := &fakeFleet{members: []Member{
		{Name: "s1", Alive: true, Server: true, Raft: "s1:8300"},
		{Name: "s2", Alive: false, Server: true, Raft: "s2:8300"},
		{Name: "a-unregistered", Alive: true},
		{Name: "c1", Alive: true},
	}}
	seats := &fakeSeats{servers: []consensus.Server{{ID: "s1", Address: "s1:8300", Voter: true}, {ID: "s2", Address: "s2:8300", Voter: true}}}
	opener := &fakeOpener{}
	l, s := testLeader(t, Config{Name: "s1", Liveness: liveness.WithGrace(20 * time.Millisecond), Servers: 2}, Deps{Members: fleet, Seats: seats, Opener: opener})
	registerReady(t, s, Member{Name: "c1", Addr: "10.0.0.3"})

	ctx := context.Background()
	if err := l.reviewSeats(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := seats.log(); len(calls) != 0 {
		t.Fatalf("changes at first sight of the failure, within the grace: %v", calls)
	}
	eventually(t, "s2 removed once its grace ran out", func() bool {
		if err := l.reviewSeats(ctx); err != nil {
			t.Fatal(err)
		}
		return len(seats.log()) > 0
	})
	want := []string{"remove s2", "add c1 c1:8300 voter=true"}
	if got := seats.log(); !slices.Equal(got, want) {
		t.Fatalf("configuration changes %q, want %q", got, want)
	}
	if !slices.Equal(opener.asked, []string{"c1"}) {
		t.Fatalf("asked %v to open a seat, want c1 only", opener.asked)
	}
}

// A server that comes back to a full configuration follows without a
// vote; when a voter is missing, such a non-voter is promoted before any
// client is asked.
func TestSeatHealingLetsAReturningServerFollowThenPromotesIt(t *testing.T) {
	fleet := &fakeFleet{members: []Member{
		{Name: "s1", Alive: true, Server: true, Raft: "s1:8300"},
		{Name: "s3", Alive: true, Server: true, Raft: "s3:8300"},
		{Name: "c1", Alive: true},
	}}
	seats := &fakeSeats{servers: []consensus.Server{{ID: "s1", Address: "s1:8300", Voter: true}}}
	opener := &fakeOpener{}
	l, s := testLeader(t, Config{Name: "s1", Liveness: liveness.WithGrace(time.Hour), Servers: 1}, Deps{Members: fleet, Seats: seats, Opener: opener})
	registerReady(t, s, Member{Name: "c1", Addr: "10.0.0.3"})

	ctx := context.Background()
	if err := l.reviewSeats(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := seats.log(), []string{"add s3 s3:8300 voter=false"}; !slices.Equal(got, want) {
		t.Fatalf("full configuration: changes %q, want %q", got, want)
	}
	l.cfg.Servers = 2
	if err := l.reviewSeats(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := seats.log(), []string{"add s3 s3:8300 voter=false", "add s3 s3:8300 voter=true"}; !slices.Equal(got, want) {
		t.Fatalf("one voter short: changes %q, want %q", got, want)
	}
	if len(opener.asked) != 0 {
		t.Fatalf("asked clients %v to open a seat while a server could take the vote", opener.asked)
	}
}
