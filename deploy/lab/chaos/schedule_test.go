package chaos

import (
	"reflect"
	"testing"
)

func TestScheduleIsReproducible(t *testing.T) {
	a, b, c := NewSchedule(7, 6), NewSchedule(7, 6), NewSchedule(8, 6)
	var sa, sb, sc []Episode
	for range 20 {
		sa, sb, sc = append(sa, a.Next()), append(sb, b.Next()), append(sc, c.Next())
	}
	if !reflect.DeepEqual(sa, sb) {
		t.Fatalf("same seed, different schedules:\n%v\n%v", sa, sb)
	}
	if reflect.DeepEqual(sa, sc) {
		t.Fatalf("seeds 7 and 8 gave the same schedule")
	}
}

func TestScheduleCoversEveryKindEachRound(t *testing.T) {
	s := NewSchedule(42, 6)
	for round := range 3 {
		seen := map[FaultKind]int{}
		for range episodeKinds {
			e := s.Next()
			seen[e.Kind]++
			if len(e.Ops) == 0 || e.Hold <= 0 {
				t.Fatalf("episode %v: no ops or no hold", e)
			}
			for _, op := range e.Ops {
				if op.Kind == OpScale && (op.Replicas < 0 || op.Replicas > 6) {
					t.Fatalf("episode %v: replicas out of range", e)
				}
			}
		}
		for _, k := range episodeKinds {
			if seen[k] != 1 {
				t.Fatalf("round %d: %s seen %d times: %v", round, k, seen[k], seen)
			}
		}
	}
}
