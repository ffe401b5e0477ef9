package agent

import (
	"slices"
	"testing"
)

// Only a member gossip declared failed is told to those waiting (its
// requests are cut); one that announced its departure is not, so what it
// was asked before it stops is still answered.
func TestFailureSignalNamesFailedMembersNotDepartures(t *testing.T) {
	m := &membership{metas: map[string]nodeMeta{
		"crashed": {API: "10.0.0.1:7080"},
		"leaving": {API: "10.0.0.2:7080", Leaving: true},
	}}
	if api, failed := m.failedAPI("crashed"); !failed || api != "10.0.0.1:7080" {
		t.Errorf("crashed member: %q %v, want its API and failed", api, failed)
	}
	if _, failed := m.failedAPI("leaving"); failed {
		t.Error("a member that announced its departure counts as failed")
	}
	if _, failed := m.failedAPI("unknown"); failed {
		t.Error("a member without metadata counts as failed")
	}

	var s failureSignal
	woken := s.wait()
	s.fire("10.0.0.1:7080")
	select {
	case <-woken:
	default:
		t.Fatal("a failure did not wake the waiter")
	}
	s.fire("10.0.0.3:7080")
	if got := s.take(); !slices.Equal(got, []string{"10.0.0.1:7080", "10.0.0.3:7080"}) {
		t.Fatalf("take: %v", got)
	}
	if got := s.take(); len(got) != 0 {
		t.Fatalf("take again: %v, want nothing", got)
	}
}
