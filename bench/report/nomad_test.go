package main

import (
	"strings"
	"testing"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{7: "7", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// Placement rows: seconds lower is better, placements per second higher;
// a slower shoal is named behind on both, a missing count has no rows.
func TestNomadPlacementNamesTheSideAhead(t *testing.T) {
	lab := map[string]series{
		"place-1000":       {"seconds": {4}, "pods_per_s": {250}, "nodes": {10}},
		"nomad_place-1000": {"seconds": {2}, "pods_per_s": {500}, "nodes": {10}, "eval_s": {2.1}},
	}
	var b strings.Builder
	behind := writeNomadPlacement(&b, lab, "", false, "")
	if len(behind) != 2 {
		t.Fatalf("behind = %q, want both 1,000 rows", behind)
	}
	out := b.String()
	for _, want := range []string{
		"| 1,000 on 10 nodes: create/register → all bound/placed, s | 4.000 / 4.000 / 4.000 (n=1) | 2.000 / 2.000 / 2.000 (n=1) | 2.000× (Nomad ahead) |",
		"| 1,000 on 10 nodes: pods/allocations placed per s | 250.0 / 250.0 / 250.0 (n=1) | 500.0 / 500.0 / 500.0 (n=1) | 0.500× (Nomad ahead) |",
		"register → evaluation complete",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "| 10,000 on") {
		t.Errorf("rows for a count not measured:\n%s", out)
	}
	if got := writeNomadPlacement(&b, map[string]series{}, "", false, ""); got != nil {
		t.Errorf("no placement lines: behind = %q", got)
	}
}

// A shoal run that did not finish is shown with how far it got and
// counted as Nomad ahead.
func TestNomadPlacementShowsAnUnfinishedRun(t *testing.T) {
	lab := map[string]series{
		"place-10000":       {"unfinished_after_s": {480}, "bound": {6000}, "nodes": {10}},
		"nomad_place-10000": {"seconds": {20}, "pods_per_s": {500}, "nodes": {10}},
	}
	var b strings.Builder
	behind := writeNomadPlacement(&b, lab, "", false, "")
	if want := "| 10,000 on 10 nodes: shoal runs not done in the time given: waited s / pods bound by then | 480.0 / 480.0 / 480.0 (n=1) / 6000 / 6000 / 6000 (n=1) | – | – |"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
	if len(behind) != 1 || !strings.Contains(behind[0], "not done in 480.0 s") {
		t.Errorf("behind = %q, want the unfinished run", behind)
	}
}

// A Nomad run whose evaluation failed is shown as such, with when and how
// far it got, not as "not run", and does not put Nomad ahead.
func TestNomadPlacementShowsAFailedEvaluation(t *testing.T) {
	lab := map[string]series{
		"place-10000":       {"seconds": {5}, "pods_per_s": {2000}, "nodes": {10}},
		"nomad_place-10000": {"eval_failed_after_s": {230}, "placed_when_failed": {0}, "nodes": {10}},
	}
	var b strings.Builder
	behind := writeNomadPlacement(&b, lab, "", false, "")
	out := b.String()
	for _, want := range []string{
		"| 10,000 on 10 nodes: create/register → all bound/placed, s | 5.000 / 5.000 / 5.000 (n=1) | evaluation failed in 1 run(s) | – |",
		"| 10,000 on 10 nodes: Nomad runs whose evaluation failed (delivery limit reached): s until it failed / allocations placed by then | – | 230.0 / 230.0 / 230.0 (n=1) / 0.000 / 0.000 / 0.000 (n=1) | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(behind) != 0 {
		t.Errorf("behind = %q, want none", behind)
	}
}

// shoal's placement side is shown with its own machine block, and a
// machine or commit other than Nomad's rows' is named.
func TestNomadPlacementNamesShoalsMachine(t *testing.T) {
	lab := map[string]series{
		"place-1000":       {"seconds": {1}, "pods_per_s": {1000}, "nodes": {10}},
		"nomad_place-1000": {"seconds": {2}, "pods_per_s": {500}, "nodes": {10}},
	}
	nomad := "cpu:     AMD EPYC\nkernel:  6.18\ncommit:  aaaaaaa\n"
	for _, c := range []struct{ place, want, not string }{
		{"cpu:     AMD EPYC\nkernel:  6.18\ncommit:  aaaaaaa\n", "shoal's side of these rows ran on:", "commit aaaaaaa, shoal's"},
		{"cpu:     AMD EPYC\nkernel:  6.18\ncommit:  bbbbbbb\n", "Nomad's rows were taken at shoal commit aaaaaaa, shoal's at bbbbbbb", "another machine"},
		{"cpu:     Intel\nkernel:  6.18\ncommit:  aaaaaaa\n", "**Nomad's placement rows are from another machine** (AMD EPYC, kernel 6.18)", "shoal commit"},
	} {
		var b strings.Builder
		writeNomadPlacement(&b, lab, nomad, false, c.place)
		if out := b.String(); !strings.Contains(out, c.want) || strings.Contains(out, c.not) {
			t.Errorf("with %q: want %q and not %q in:\n%s", c.place, c.want, c.not, out)
		}
	}
	var b strings.Builder
	writeNomadPlacement(&b, lab, nomad, false, "")
	if strings.Contains(b.String(), "ran on") {
		t.Errorf("a machine block without a place machine file:\n%s", b.String())
	}
}

// Nomad's rows from a run of their own print that run's machine block
// under the placement heading, not above it.
func TestNomadPlacementOwnRunBlockUnderItsHeading(t *testing.T) {
	lab := map[string]series{"nomad_place-1000": {"seconds": {2}, "pods_per_s": {500}, "nodes": {10}}}
	var b strings.Builder
	writeNomadPlacement(&b, lab, "commit:  ccccccc\n", true, "")
	out := b.String()
	head, block := strings.Index(out, "### Placement throughput"), strings.Index(out, "Nomad's side of these rows ran on:\n\n```\ncommit:  ccccccc\n```")
	if head < 0 || block < head {
		t.Errorf("want the heading, then Nomad's machine block, in:\n%s", out)
	}
}

// The Swarm rows name their machine, and shoal's lab rows beside them
// are said to be from another machine or commit when they are.
func TestSwarmMachineNamed(t *testing.T) {
	swarm := "cpu:     Intel\nkernel:  6.18\ncommit:  aaaaaaa\n"
	pairs := []sidePair{{figure: "start", shoal: "pod-start", peer: "swarm_start"}}
	for _, c := range []struct {
		lab, want string
		differ    bool
	}{
		{"cpu:     Intel\nkernel:  6.18\ncommit:  aaaaaaa\n", "same machine (Intel, kernel 6.18), at the same shoal commit (aaaaaaa)", false},
		{"cpu:     Intel\nkernel:  6.18\ncommit:  bbbbbbb\n", "shoal's side at commit bbbbbbb, Swarm's taken at shoal commit aaaaaaa", false},
		{"cpu:     AMD EPYC\nkernel:  6.18\ncommit:  aaaaaaa\n", "**Every row with both sides: shoal's side ran on another machine** (AMD EPYC, kernel 6.18; Swarm's: Intel, kernel 6.18)", true},
	} {
		var b strings.Builder
		differ := writePeerMachines(&b, "Swarm", "bench-ref", swarm, c.lab, pairs)
		if out := b.String(); !strings.Contains(out, "Swarm's side ran on:") || !strings.Contains(out, c.want) {
			t.Errorf("lab %q: want %q in:\n%s", c.lab, c.want, out)
		}
		if differ["start"] != c.differ {
			t.Errorf("lab %q: row marked as from another machine %v, want %v", c.lab, differ["start"], c.differ)
		}
	}
	var b strings.Builder
	writePeerMachines(&b, "Swarm", "bench-ref", "", "x", pairs)
	if b.Len() != 0 {
		t.Errorf("a block without ref-machine.txt: %q", b.String())
	}
}

// Each bench takes the block of the run that took its lines: the last
// block naming it, else the block of the run of every test.
func TestBlockOfPartialRuns(t *testing.T) {
	file := "cpu:     Intel\ncommit:  aaaaaaa\n\ncpu:     AMD EPYC\ncommit:  bbbbbbb\nbenches: failover pod-start\n\ncpu:     AMD EPYC\ncommit:  ccccccc\nbenches: footprint-idle\n"
	blocks := parseBlocks(file)
	if len(blocks) != 3 || blocks[0].benches != nil {
		t.Fatalf("blocks: %+v", blocks)
	}
	for bench, commit := range map[string]string{"failover": "bbbbbbb", "pod-start": "bbbbbbb", "footprint-idle": "ccccccc", "network": "aaaaaaa"} {
		if got := machineLine(blockOf(blocks, bench), "commit:"); got != commit {
			t.Errorf("%s: block of commit %q, want %q", bench, got, commit)
		}
	}
	if got := blockOf(parseBlocks("cpu:     AMD\nbenches: failover\n"), "network"); got != "" {
		t.Errorf("a bench no block holds: %q", got)
	}
}

// A table whose rows come from several runs says, per group of rows,
// whether shoal's side and the peer's ran on the same machine, and marks
// only the rows that did not.
func TestPeerMachinesPerRow(t *testing.T) {
	lab := "cpu:     Intel\nkernel:  669\ncommit:  aaaaaaa\n\ncpu:     AMD EPYC\nkernel:  1300\ncommit:  bbbbbbb\nbenches: pod-start\n"
	nomad := "cpu:     AMD EPYC\nkernel:  1300\ncommit:  ccccccc\n"
	pairs := []sidePair{{"start", "pod-start", "nomad_start"}, {"network", "network", "nomad_network"}}
	var b strings.Builder
	differ := writePeerMachines(&b, "Nomad", "bench-ref", nomad, lab, pairs)
	out := b.String()
	if differ["start"] || !differ["network"] {
		t.Errorf("marked %v, want only network", differ)
	}
	for _, want := range []string{"The rows “start”: shoal's side and Nomad's ran on the same machine (AMD EPYC, kernel 1300)", "**The rows “network”: shoal's side ran on another machine** (Intel, kernel 669"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	b.Reset()
	writeLabMachines(&b, lab)
	out = b.String()
	for _, want := range []string{"The lab rows come from 2 runs", "Every other lab row is from the last run of all of them", "Re-measured by a run of their tests alone: pod-start, on:", "**The rows re-measured on AMD EPYC, kernel 1300 are from another machine than the full run's** (Intel, kernel 669)"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}
