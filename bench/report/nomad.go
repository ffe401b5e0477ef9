package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// writeNomad sets shoal's lab figures beside Nomad's, when bench/run.sh
// ref has recorded nomad_* lines.
func writeNomad(w io.Writer, machine, nomadPlaceMachine, placeMachine, labMachine string, lab map[string]series) {
	if len(lab["nomad_start"]) == 0 && len(lab["nomad_failover"]) == 0 && len(lab["nomad_footprint-idle"]) == 0 &&
		len(lab["nomad_place-1000"]) == 0 && len(lab["nomad_place-10000"]) == 0 {
		return
	}
	fmt.Fprint(w, nomadText)
	get := func(bench, field string) []float64 { return lab[bench][field] }
	type row struct {
		figure       string
		shoal, nomad []float64
		sides        sidePair // the benches of each side, for their machine blocks
	}
	row4 := func(figure, shoalBench, nomadBench, field, nomadField string) row {
		return row{figure, get(shoalBench, field), get(nomadBench, nomadField), sidePair{figure: figure, shoal: shoalBench, peer: nomadBench}}
	}
	rows := []row{
		row4("30 pods/allocations: apply → all running, s", "pod-start", "nomad_start", "total_s", "total_s"),
		row4("per-pod start p99, s", "pod-start", "nomad_start", "p99_s", "p99_s"),
		row4("failover, defaults: kill → all 8 running elsewhere, s", "failover", "nomad_failover", "seconds", "seconds"),
		row4("failover, defaults: kill → node seen down, s", "failover", "nomad_failover", "not_ready_s", "not_ready_s"),
		row4("failover, tuned (shoal grace 1 s; Nomad heartbeat grace and min TTL 1 s), s", "failover_grace1s", "nomad_failover_tuned", "seconds", "seconds"),
		row4("failover, tuned: kill → node seen down, s", "failover_grace1s", "nomad_failover_tuned", "not_ready_s", "not_ready_s"),
		row4("idle agent RSS, MB (median over 5 nodes)", "footprint-idle", "nomad_footprint-idle", "rss_mb (median over nodes)", "rss_mb (median over nodes)"),
		row4("agent RSS with 50 pods, MB (median over 5 nodes)", "footprint-50pods", "nomad_footprint-50pods", "rss_mb (median over nodes)", "rss_mb (median over nodes)"),
		row4("idle 5-node fleet: agents' CPU, % of one core", "footprint-idle", "nomad_footprint-idle", "cpu_percent_of_one_core", "cpu_percent_of_one_core"),
	}
	var pairs []sidePair
	for _, r := range rows {
		pairs = append(pairs, r.sides)
	}
	differ := writePeerMachines(w, "Nomad", "bench-ref", machine, labMachine, pairs) // sides.go
	fmt.Fprintln(w, "| figure | shoal (min / median / max) | Nomad (min / median / max) | shoal / Nomad (medians) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var behind []string
	for _, r := range rows {
		v := ratio(r.shoal, r.nomad, true, "Nomad")
		if strings.HasSuffix(v, "(Nomad ahead)") {
			behind = append(behind, withinSpread(r.figure, r.shoal, r.nomad))
		}
		figure := r.figure
		if differ[r.figure] {
			figure += " †"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", figure, mmm(r.shoal), mmm(r.nomad), v)
	}
	if h := get("nomad_footprint-50pods", "helpers_anon_mb (max over nodes)"); len(h) > 0 {
		fmt.Fprintf(w, "| with 50 pods: Nomad's per-task executor and log monitor processes, anonymous MB on the busiest node | – | %s | – |\n", mmm(h))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every figure here is one where less is better: a ratio below 1 puts shoal ahead.")
	fmt.Fprintln(w)
	// A later run of some Nomad tests that took the placement rows too
	// names them on its block; else the placement test's own run's block
	// (ref-nomad-place-machine.txt), when there is one, is theirs.
	named := false
	for _, b := range parseBlocks(machine) {
		named = named || slices.Contains(b.benches, "nomad_place-1000") || slices.Contains(b.benches, "nomad_place-10000")
	}
	ownRun := !named && nomadPlaceMachine != "" && (len(lab["nomad_place-1000"]) > 0 || len(lab["nomad_place-10000"]) > 0)
	if ownRun {
		machine = nomadPlaceMachine
	} else {
		// The block of the run that took the placement rows.
		machine = blockOf(parseBlocks(machine), "nomad_place-1000")
	}
	behind = append(behind, writeNomadPlacement(w, lab, machine, ownRun, placeMachine)...)
	if len(behind) > 0 {
		fmt.Fprintf(w, "**Nomad is ahead here on: %s.**\n\n", strings.Join(behind, "; "))
	}
	writeNomadReading(w, lab)
}

// writeNomadReading is the reading below the Nomad tables, true to which
// side the figures put ahead.
func writeNomadReading(w io.Writer, lab map[string]series) {
	fmt.Fprint(w, nomadReadingFailover)
	shoalCPU, nomadCPU := lab["footprint-idle"]["cpu_percent_of_one_core"], lab["nomad_footprint-idle"]["cpu_percent_of_one_core"]
	if len(shoalCPU) > 0 && len(nomadCPU) > 0 && medianOf(shoalCPU) <= medianOf(nomadCPU) {
		spread := ""
		if slices.Max(shoalCPU) >= slices.Min(nomadCPU) {
			spread = ", by less than the spread between runs (the two sides' ranges overlap)"
		}
		fmt.Fprintf(w, nomadReadingIdleAhead, spread)
	} else {
		fmt.Fprint(w, nomadReadingIdleBehind)
	}
	fmt.Fprint(w, nomadReadingMemory)
	shoalStart, nomadStart := lab["pod-start"]["total_s"], lab["nomad_start"]["total_s"]
	if len(shoalStart) > 0 && len(nomadStart) > 0 && medianOf(shoalStart) > medianOf(nomadStart) {
		runs := ""
		if len(nomadStart) < 3 {
			runs = fmt.Sprintf(" Nomad's side of these rows is %d run(s): take more with `REF_NOMAD_RUN=TestRefNomadStart make bench-ref`.", len(nomadStart))
		}
		fmt.Fprintf(w, nomadReadingStart, runs)
	}
}

// writeNomadPlacement sets shoal's leader placing an RC's replicas
// (place-N, agent/placement_rate_test.go) beside Nomad's scheduler
// placing a job's allocations (nomad_place-N), and returns the figures
// where Nomad is ahead. nomadMachine and placeMachine are the machine
// blocks of the runs that wrote the two sides (either may be ""); ownRun
// says Nomad's rows came from a run of their own, whose block is printed.
func writeNomadPlacement(w io.Writer, lab map[string]series, nomadMachine string, ownRun bool, placeMachine string) []string {
	var counts []int
	for _, n := range []int{1000, 10000} {
		if len(lab[fmt.Sprintf("nomad_place-%d", n)]) > 0 || len(lab[fmt.Sprintf("place-%d", n)]) > 0 {
			counts = append(counts, n)
		}
	}
	if len(counts) == 0 {
		return nil
	}
	fmt.Fprint(w, nomadPlacementText)
	if ownRun {
		// Nomad's placement rows were taken in a run of their own.
		fmt.Fprintln(w, "Nomad's side of these rows ran on:")
		fmt.Fprintln(w)
		writeBlock(w, nomadMachine) // sides.go
	}
	writePlaceMachine(w, nomadMachine, placeMachine)
	fmt.Fprintln(w, "| figure | shoal (min / median / max) | Nomad (min / median / max) | shoal / Nomad (medians) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var behind []string
	var failedText string
	row := func(figure string, shoal, nomad []float64, lowerIsBetter bool) {
		v := ratio(shoal, nomad, lowerIsBetter, "Nomad")
		if strings.HasSuffix(v, "(Nomad ahead)") {
			behind = append(behind, figure)
		}
		peer := mmm(nomad)
		if len(nomad) == 0 && failedText != "" {
			peer = failedText
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", figure, mmm(shoal), peer, v)
	}
	for _, n := range counts {
		s, m := lab[fmt.Sprintf("place-%d", n)], lab[fmt.Sprintf("nomad_place-%d", n)]
		nodes := int(medianOf(append(append([]float64(nil), s["nodes"]...), m["nodes"]...)))
		failedText = ""
		if f := m["eval_failed_after_s"]; len(f) > 0 {
			failedText = fmt.Sprintf("evaluation failed in %d run(s)", len(f))
		}
		row(fmt.Sprintf("%s on %d nodes: create/register → all bound/placed, s", thousands(n), nodes), s["seconds"], m["seconds"], true)
		if f := m["eval_failed_after_s"]; len(f) > 0 {
			fmt.Fprintf(w, "| %s on %d nodes: Nomad runs whose evaluation failed (delivery limit reached): s until it failed / allocations placed by then | – | %s / %s | – |\n",
				thousands(n), nodes, mmm(f), mmm(m["placed_when_failed"]))
		}
		if u := s["unfinished_after_s"]; len(u) > 0 {
			fmt.Fprintf(w, "| %s on %d nodes: shoal runs not done in the time given: waited s / pods bound by then | %s / %s | – | – |\n",
				thousands(n), nodes, mmm(u), mmm(s["bound"]))
			behind = append(behind, fmt.Sprintf("%s on %d nodes: %d shoal run(s) not done in %s s", thousands(n), nodes, len(u), num(medianOf(u))))
		}
		row(fmt.Sprintf("%s on %d nodes: pods/allocations placed per s", thousands(n), nodes), s["pods_per_s"], m["pods_per_s"], false)
		if e := m["eval_s"]; len(e) > 0 {
			fmt.Fprintf(w, "| %s on %d nodes: Nomad's register → evaluation complete, s | – | %s | – |\n", thousands(n), nodes, mmm(e))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "For seconds a ratio below 1 puts shoal ahead; for placements per second, above 1.")
	fmt.Fprintln(w)
	if len(behind) > 0 {
		fmt.Fprint(w, nomadPlacementAheadText)
	}
	fmt.Fprint(w, nomadPlacementBatchText)
	return behind
}

// writePlaceMachine says where shoal's placement rows were taken, and
// whether that was the machine and the commit of Nomad's rows (the commit
// names the shoal code measured; Nomad's side runs the same binary
// whatever it is).
func writePlaceMachine(w io.Writer, nomadMachine, placeMachine string) {
	if placeMachine == "" {
		return
	}
	fmt.Fprintln(w, "shoal's side of these rows ran on:")
	fmt.Fprintln(w)
	writeBlock(w, placeMachine) // sides.go
	if nomadMachine == "" {
		return
	}
	if machineLine(nomadMachine, "cpu:") != machineLine(placeMachine, "cpu:") || machineLine(nomadMachine, "kernel:") != machineLine(placeMachine, "kernel:") {
		fmt.Fprintf(w, "**Nomad's placement rows are from another machine** (%s, kernel %s): the ratios compare machines as well as systems.\n\n",
			orUnknown(machineLine(nomadMachine, "cpu:")), orUnknown(machineLine(nomadMachine, "kernel:")))
	} else if a, b := machineLine(nomadMachine, "commit:"), machineLine(placeMachine, "commit:"); a != b {
		fmt.Fprintf(w, "Nomad's rows were taken at shoal commit %s, shoal's at %s, on the same machine.\n\n", orUnknown(a), orUnknown(b))
	}
}

// thousands writes n with a comma between thousands (10000 → 10,000).
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// machineLine is the value of one line of bench/run.sh's machine block.
func machineLine(machine, key string) string {
	for _, line := range strings.Split(machine, "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
