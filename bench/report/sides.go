package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// machineBlock is one run's block of a machine file (bench/run.sh's
// machine function). A file holds the block of the last run of every
// test (no benches line) and, after it, one block per later run of some
// of the tests (LAB_RUN, REF_SWARM_RUN) with a "benches:" line naming the
// benches whose lines that run took; bench/run.sh takes a name off an
// older block when a newer run takes the bench again.
type machineBlock struct {
	text    string
	benches []string // nil: the block of a run of every test
}

// parseBlocks splits a machine file into its blocks (blank lines
// between).
func parseBlocks(file string) []machineBlock {
	var out []machineBlock
	for _, text := range strings.Split(strings.TrimSpace(file), "\n\n") {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		b := machineBlock{text: text + "\n"}
		if names := machineLine(text, "benches:"); names != "" {
			b.benches = strings.Fields(names)
		}
		out = append(out, b)
	}
	return out
}

// blockOf is the block of the run that took bench's lines: the last
// block naming it, else the block of the run of every test; "" when the
// file has neither.
func blockOf(blocks []machineBlock, bench string) string {
	for i := len(blocks) - 1; i >= 0; i-- {
		if slices.Contains(blocks[i].benches, bench) {
			return blocks[i].text
		}
	}
	for _, b := range blocks {
		if b.benches == nil {
			return b.text
		}
	}
	return ""
}

// sameMachine reports whether two machine blocks name the same processor
// and kernel.
func sameMachine(a, b string) bool {
	return machineLine(a, "cpu:") == machineLine(b, "cpu:") && machineLine(a, "kernel:") == machineLine(b, "kernel:")
}

// describe is a block's processor and kernel, for a sentence.
func describe(block string) string {
	return fmt.Sprintf("%s, kernel %s", orUnknown(machineLine(block, "cpu:")), orUnknown(machineLine(block, "kernel:")))
}

// writeLabMachines is "The machine" section's part for the lab rows: one
// block when one run took them all, else each run's block and the rows it
// took.
func writeLabMachines(w io.Writer, labMachine string) {
	blocks := parseBlocks(labMachine)
	if len(blocks) == 0 {
		return
	}
	if len(blocks) == 1 && blocks[0].benches == nil {
		fmt.Fprintln(w, "Lab benchmarks ran on:")
		fmt.Fprintln(w)
		writeBlock(w, blocks[0].text)
		writeBusy(w, blocks[0].text, "bench-lab")
		return
	}
	var full string
	for _, b := range blocks {
		if b.benches == nil {
			full = b.text
		}
	}
	fmt.Fprintf(w, "The lab rows come from %d runs: a run of some lab tests alone "+
		"(`LAB_RUN=<go test -run pattern> bench/run.sh lab`) replaces the lines of the benches it took, "+
		"named on its block's `benches:` line.\n\n", len(blocks))
	if full != "" {
		fmt.Fprintln(w, "Every other lab row is from the last run of all of them (`make bench-lab`), on the machine below, "+
			"or from a run of some of them taken before bench/run.sh kept a block per such run "+
			"(`git log bench/results/lab.jsonl` says which rows, when and at which commit):")
		fmt.Fprintln(w)
		writeBlock(w, full)
		writeBusy(w, full, "bench-lab")
	}
	var others []string // the machines of re-measured rows unlike the full run's
	for _, b := range blocks {
		if b.benches == nil {
			continue
		}
		fmt.Fprintf(w, "Re-measured by a run of their tests alone: %s, on:\n\n", strings.Join(b.benches, ", "))
		writeBlock(w, b.text)
		writeBusy(w, b.text, "bench-lab")
		if d := describe(b.text); full != "" && !sameMachine(full, b.text) && !slices.Contains(others, d) {
			others = append(others, d)
		}
	}
	for _, d := range others {
		fmt.Fprintf(w, "**The rows re-measured on %s are from another machine than the full run's** (%s): "+
			"set them beside its rows as machines as well as code.\n\n", d, describe(full))
	}
}

// writeBusy says so when a run started on a busy machine (busyMachine).
func writeBusy(w io.Writer, block, target string) {
	if load, busy := busyMachine(block); busy {
		fmt.Fprintf(w, "**Taken on a busy machine** (load %s at the start on %s cores): take\n"+
			"them again with `make %s` on a quiet machine.\n\n", load, nproc(block), target)
	}
}

func writeBlock(w io.Writer, block string) {
	fmt.Fprintln(w, "```")
	fmt.Fprint(w, strings.TrimRight(block, "\n")+"\n")
	fmt.Fprintln(w, "```")
	fmt.Fprintln(w)
}

// sidePair is one row of a side-by-side table: its figure and the bench
// each side's value comes from ("" when a side has none).
type sidePair struct {
	figure, shoal, peer string
}

// writePeerMachines prints the peer's machine block(s) for the table's
// rows and says, for each row with both sides, whether shoal's side ran
// on the same machine (and commit) as the peer's; target is the make
// target that takes the peer's rows again. It returns the figures
// whose two sides ran on different machines, which the table marks.
func writePeerMachines(w io.Writer, peer, target, peerMachine, labMachine string, pairs []sidePair) map[string]bool {
	peerBlocks, labBlocks := parseBlocks(peerMachine), parseBlocks(labMachine)
	// The peer's blocks that hold the table's rows, in file order.
	var used []machineBlock
	for _, b := range peerBlocks {
		var names []string
		for _, p := range pairs {
			if p.peer != "" && blockOf(peerBlocks, p.peer) == b.text && !slices.Contains(names, p.peer) {
				names = append(names, p.peer)
			}
		}
		if len(names) > 0 {
			used = append(used, machineBlock{text: b.text, benches: names})
		}
	}
	switch {
	case len(used) == 1:
		fmt.Fprintf(w, "%s's side ran on:\n\n", peer)
		writeBlock(w, used[0].text)
		writeBusy(w, used[0].text, target)
	case len(used) > 1:
		for _, b := range used {
			fmt.Fprintf(w, "%s's rows %s ran on:\n\n", peer, strings.Join(b.benches, ", "))
			writeBlock(w, b.text)
			writeBusy(w, b.text, target)
		}
	}
	if len(labBlocks) == 0 || len(peerBlocks) == 0 {
		return nil
	}
	// Group the rows by what the note says of them: the two machines
	// when they differ, else the machine and the two commits.
	type group struct {
		shoal, peer string // a block of each side
		key         string
		figures     []string
	}
	var groups []*group
	for _, p := range pairs {
		if p.shoal == "" || p.peer == "" {
			continue
		}
		s, o := blockOf(labBlocks, p.shoal), blockOf(peerBlocks, p.peer)
		if s == "" || o == "" {
			continue
		}
		key := describe(s) + "|" + describe(o)
		if sameMachine(s, o) {
			key += "|" + machineLine(s, "commit:") + "|" + machineLine(o, "commit:")
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.key == key })
		if i < 0 {
			groups = append(groups, &group{shoal: s, peer: o, key: key})
			i = len(groups) - 1
		}
		groups[i].figures = append(groups[i].figures, p.figure)
	}
	differ := map[string]bool{}
	for _, g := range groups {
		rows := "Every row with both sides"
		if len(groups) > 1 {
			rows = "The rows " + quoteList(g.figures)
		}
		sc, pc := orUnknown(machineLine(g.shoal, "commit:")), orUnknown(machineLine(g.peer, "commit:"))
		switch {
		case !sameMachine(g.shoal, g.peer):
			for _, f := range g.figures {
				differ[f] = true
			}
			fmt.Fprintf(w, "**%s: shoal's side ran on another machine** (%s; %s's: %s): "+
				"their ratios (marked †) compare machines as well as systems.\n\n",
				rows, describe(g.shoal), peer, describe(g.peer))
		case sc == pc:
			fmt.Fprintf(w, "%s: shoal's side and %s's ran on the same machine (%s), at the same shoal commit (%s).\n\n",
				rows, peer, describe(g.shoal), sc)
		default:
			fmt.Fprintf(w, "%s: shoal's side and %s's ran on the same machine (%s); shoal's side at commit %s, %s's taken at shoal commit %s.\n\n",
				rows, peer, describe(g.shoal), sc, peer, pc)
		}
	}
	return differ
}

// quoteList writes figures as “a”, “b” and “c”.
func quoteList(figures []string) string {
	q := make([]string, len(figures))
	for i, f := range figures {
		q[i] = "“" + f + "”"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// withinSpread marks a figure where a peer is ahead by its median when
// the two sides' ranges (min to max over the runs) overlap: some run of
// shoal did as well as some run of the peer.
func withinSpread(figure string, shoal, peer []float64) string {
	if len(shoal) == 0 || len(peer) == 0 {
		return figure
	}
	if slices.Min(shoal) <= slices.Max(peer) && slices.Min(peer) <= slices.Max(shoal) {
		return figure + " (by the medians only: the two sides' ranges overlap)"
	}
	return figure
}
