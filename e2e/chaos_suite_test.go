package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// chaosSuiteSeed's schedule starts with a rolling restart of every agent,
// a deliberate loss of quorum (two of three voters cut off), a restart of
// the lab's containerd, a power cut of two of three voters at once (both
// start again from disk), a partition of the leader and a kill -9 of the
// leader (`shoal lab chaos x --plan 6 --seed 68`), with scaling and writes
// during each; in 150 s the first four or five start: under three minutes
// of CI in all. `make chaos` runs a longer schedule.
const (
	chaosSuiteSeed     = "68"
	chaosSuiteDuration = "150s"
)

// TestChaosSuite runs the seeded chaos runner on its own 5-node lab: it
// checks containerd against the state, RC counts, acknowledged writes,
// pod IPs, leftovers after lab down and that the history of its Secret
// clients is linearizable, and fails on any violation.
func TestChaosSuite(t *testing.T) {
	requireE2E(t)
	name := labName("cs")
	root, err := os.MkdirTemp("/tmp", "shcs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The runner removes its lab; this is for a run that died midway.
		if out, err := exec.Command(shoalBin, "lab", "down", name, "--state-root", root).CombinedOutput(); err != nil {
			t.Errorf("lab down: %v\n%s", err, out)
		}
		os.RemoveAll(root)
	})
	cmd := exec.Command(shoalBin, "lab", "chaos", name, "--state-root", root, "--seed", chaosSuiteSeed, "--duration", chaosSuiteDuration)
	out, err := cmd.CombinedOutput()
	t.Logf("shoal lab chaos:\n%s", out)
	if err != nil {
		t.Fatalf("chaos run failed: %v", err)
	}
	for _, want := range []string{"episode #3", "chaos summary", "(e) nothing leaked after down", "linearizability Ok", "(f) API history linearizable"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("chaos output lacks %q", want)
		}
	}
}
