package controllers

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/consensus"
)

// With a seat zone, a missing voter's seat goes to a Ready client of that
// zone although a client of another zone comes first by name; without
// one, to the first by name, as before.
func TestSeatHealingPrefersTheSeatZone(t *testing.T) {
	for _, tc := range []struct {
		zone, want string
	}{{"central", "b-central"}, {"", "a-edge"}} {
		fleet := &fakeFleet{members: []Member{
			{Name: "s1", Alive: true, Server: true, Raft: "s1:8300", Labels: map[string]string{zoneLabel: "central"}},
			{Name: "a-edge", Alive: true, Labels: map[string]string{zoneLabel: "edge"}},
			{Name: "b-central", Alive: true, Labels: map[string]string{zoneLabel: "central"}},
		}}
		seats := &fakeSeats{servers: []consensus.Server{{ID: "s1", Address: "s1:8300", Voter: true}}}
		opener := &fakeOpener{}
		l, s := testLeader(t, Config{Name: "s1", Liveness: liveness.WithGrace(time.Hour), Servers: 2, SeatZone: tc.zone}, Deps{Members: fleet, Seats: seats, Opener: opener})
		registerReady(t, s, Member{Name: "a-edge", Addr: "10.0.1.2"})
		registerReady(t, s, Member{Name: "b-central", Addr: "10.0.0.3"})
		if err := l.reviewSeats(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{"add " + tc.want + " " + tc.want + ":8300 voter=true"}
		if got := seats.log(); !slices.Equal(got, want) {
			t.Errorf("seat zone %q: changes %q, want %q", tc.zone, got, want)
		}
	}
}

// No agent of the seat zone can take the seat (the only one is not
// Ready): an agent of another zone takes it rather than the fleet running
// a voter short.
func TestSeatHealingFallsBackOutsideTheSeatZone(t *testing.T) {
	fleet := &fakeFleet{members: []Member{
		{Name: "s1", Alive: true, Server: true, Raft: "s1:8300", Labels: map[string]string{zoneLabel: "central"}},
		{Name: "a-central", Alive: true, Labels: map[string]string{zoneLabel: "central"}},
		{Name: "b-edge", Alive: true, Labels: map[string]string{zoneLabel: "edge"}},
	}}
	seats := &fakeSeats{servers: []consensus.Server{{ID: "s1", Address: "s1:8300", Voter: true}}}
	opener := &fakeOpener{}
	l, s := testLeader(t, Config{Name: "s1", Liveness: liveness.WithGrace(time.Hour), Servers: 2, SeatZone: "central"}, Deps{Members: fleet, Seats: seats, Opener: opener})
	registerReady(t, s, Member{Name: "b-edge", Addr: "10.0.1.2"})
	if err := l.reviewSeats(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := seats.log(), []string{"add b-edge b-edge:8300 voter=true"}; !slices.Equal(got, want) {
		t.Fatalf("changes %q, want %q", got, want)
	}
}

// seatOrder moves the zone's agents first and keeps every other order.
func TestSeatOrderPutsTheZoneFirstAndKeepsTheRest(t *testing.T) {
	byName := map[string]Member{
		"a": {Labels: map[string]string{zoneLabel: "edge"}},
		"b": {Labels: map[string]string{zoneLabel: "central"}},
		"c": {},
		"d": {Labels: map[string]string{zoneLabel: "central"}},
	}
	names := []string{"a", "b", "c", "d"}
	if got, want := seatOrder(names, byName, "central"), []string{"b", "d", "a", "c"}; !slices.Equal(got, want) {
		t.Errorf("seatOrder(central) = %v, want %v", got, want)
	}
	if got := seatOrder(names, byName, ""); !slices.Equal(got, names) {
		t.Errorf("seatOrder(no zone) = %v, want the names unchanged", got)
	}
	if !slices.Equal(names, []string{"a", "b", "c", "d"}) {
		t.Errorf("seatOrder changed its argument: %v", names)
	}
}
