package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeEtcd sets shoal's Raft apply figures beside etcd's, when bench/run.sh
// ref has recorded etcd_* lines. shoal's side is the Raft benchmark taken
// in turns with etcd's (ref-micro.txt), so both saw the same machine; the
// figures of the micro run stand in only when that is missing.
func writeEtcd(w io.Writer, machine string, refMicro, micro, lab map[string]series) {
	if len(lab["etcd_serial"]) == 0 {
		return
	}
	fmt.Fprint(w, etcdText)
	if machine != "" {
		fmt.Fprintln(w, "Both ran on:")
		fmt.Fprintln(w)
		writeBlock(w, machine) // sides.go
		if load, busy := busyMachine(machine); busy {
			fmt.Fprintf(w, "**Taken on a busy machine** (load %s at the start on %s cores): the\n"+
				"figures of both sides carry that load; take them again with `make bench-ref`\n"+
				"on a quiet machine.\n\n", load, nproc(machine))
		}
	}
	shoal := refMicro
	if len(shoal["BenchmarkRaftApply/serial"]) == 0 {
		shoal = micro
		fmt.Fprintln(w, "shoal's side is from the micro benchmark run, not taken in turns with etcd's.")
		fmt.Fprintln(w)
	}
	type row struct {
		figure        string
		shoal, etcd   []float64
		lowerIsBetter bool
	}
	var rows []row
	for _, p := range []struct{ sub, bench string }{{"serial", "etcd_serial"}, {"writers=32", "etcd_writers32"}} {
		s, e := shoal["BenchmarkRaftApply/"+p.sub], lab[p.bench]
		rows = append(rows,
			row{p.sub + ": writes/s", s["applies/s"], e["writes_per_s"], false},
			row{p.sub + ": p50 ms", s["p50-ms"], e["p50_ms"], true},
			row{p.sub + ": p99 ms", s["p99-ms"], e["p99_ms"], true},
		)
	}
	fmt.Fprintln(w, "| figure | shoal (min / median / max) | etcd (min / median / max) | shoal / etcd (medians) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var behind []string
	for _, r := range rows {
		v := ratio(r.shoal, r.etcd, r.lowerIsBetter, "etcd")
		if strings.HasSuffix(v, "(etcd ahead)") {
			behind = append(behind, r.figure)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.figure, mmm(r.shoal), mmm(r.etcd), v)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, etcdReadingText)
	if len(behind) > 0 {
		fmt.Fprintf(w, "**etcd is ahead here on: %s.** %s\n\n", strings.Join(behind, "; "), etcdAheadText)
	}
}

// ratio is a's median over b's, and which side it puts ahead.
func ratio(a, b []float64, lowerIsBetter bool, peer string) string {
	if len(a) == 0 || len(b) == 0 {
		return "–"
	}
	ma, mb := medianOf(a), medianOf(b)
	if mb == 0 {
		return "–"
	}
	r := ma / mb
	ahead := "shoal ahead"
	if (r > 1) == lowerIsBetter && r != 1 {
		ahead = peer + " ahead"
	}
	return fmt.Sprintf("%s× (%s)", num(r), ahead)
}

// busyMachine reports whether the 1-minute load at the start of a run
// (bench/run.sh's machine block) was above half the cores.
func busyMachine(machine string) (string, bool) {
	n, err := strconv.ParseFloat(nproc(machine), 64)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(machine, "\n") {
		if rest, ok := strings.CutPrefix(line, "load:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return "", false
			}
			load, err := strconv.ParseFloat(f[0], 64)
			return f[0], err == nil && load > n/2
		}
	}
	return "", false
}

func nproc(machine string) string {
	for _, line := range strings.Split(machine, "\n") {
		if rest, ok := strings.CutPrefix(line, "nproc:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
