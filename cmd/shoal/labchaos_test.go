package main

import (
	"strings"
	"testing"
)

// --plan prints a seed's schedule without building a lab: the same seed
// the same episodes, so a failing run can be read before it is replayed.
func TestLabChaosPlanIsTheSeedsSchedule(t *testing.T) {
	a, err := runShoal(t, "lab", "chaos", "x", "--seed", "68", "--plan", "5")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, a)
	}
	b, _ := runShoal(t, "lab", "chaos", "x", "--seed", "68", "--plan", "5")
	lines := strings.Split(strings.TrimSpace(a), "\n")
	if a != b || len(lines) != 5 {
		t.Fatalf("plan not reproducible or not 5 episodes:\n%s\n---\n%s", a, b)
	}
	for i, want := range []string{"#1 rolling-restart", "#2 quorum-loss", "#3 containerd-restart", "#4 kill-two-seats", "#5 partition-leader"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("episode %d: %q, want %q... (the CI's seed 68 relies on this order)", i+1, lines[i], want)
		}
	}
}

func TestLabChaosRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "2"}, "--nodes 2"},
		{[]string{"--duration", "0s"}, "--duration 0s"},
	} {
		out, err := runShoal(t, append([]string{"lab", "chaos", "x", "--state-root", t.TempDir()}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want one naming %q\n%s", c.args, err, c.want, out)
		}
	}
}
