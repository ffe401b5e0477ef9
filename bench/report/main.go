// Command report turns the raw results of bench/run.sh into BENCHMARKS.md:
// `go test -bench` output (micro.txt) and the lab benchmarks' JSON lines
// (lab.jsonl), each figure as min / median / max over the repeated runs.
//
//	go run ./bench/report -results bench/results -o BENCHMARKS.md
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	results := flag.String("results", "bench/results", "directory bench/run.sh wrote")
	out := flag.String("o", "BENCHMARKS.md", "report to write")
	flag.Parse()
	if err := run(*results, *out); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	machine, err := os.ReadFile(filepath.Join(dir, "machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	micro, err := readMicro(filepath.Join(dir, "micro.txt"))
	if err != nil {
		return err
	}
	// Go benchmarks that need root run with the lab part.
	rootMicro, err := readMicro(filepath.Join(dir, "lab-micro.txt"))
	if err != nil {
		return err
	}
	for k, v := range rootMicro {
		micro[k] = v
	}
	lab, err := readLab(filepath.Join(dir, "lab.jsonl"))
	if err != nil {
		return err
	}
	labMachine, err := os.ReadFile(filepath.Join(dir, "lab-machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	// The reference run's own shoal figures, taken in turns with a peer's.
	refMicro, err := readMicro(filepath.Join(dir, "ref-micro.txt"))
	if err != nil {
		return err
	}
	etcdMachine, err := os.ReadFile(filepath.Join(dir, "ref-etcd-machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	swarmMachine, err := os.ReadFile(filepath.Join(dir, "ref-machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	nomadMachine, err := os.ReadFile(filepath.Join(dir, "ref-nomad-machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	// Nomad's placement rows may be taken alone (REF_NOMAD_RUN), with a
	// machine block of their own.
	nomadPlaceMachine, err := os.ReadFile(filepath.Join(dir, "ref-nomad-place-machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	// shoal's side of the placement comparison may run apart from Nomad's
	// (REF_PEERS=place), so it has a machine block of its own.
	placeMachine, err := os.ReadFile(filepath.Join(dir, "ref-place-machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	scaled, err := readScale(filepath.Join(dir, "scale.jsonl")) // scale.go
	if err != nil {
		return err
	}
	write(f, string(machine), string(labMachine), micro, lab,
		refResults{micro: refMicro, etcdMachine: string(etcdMachine), swarmMachine: string(swarmMachine), nomadMachine: string(nomadMachine), nomadPlaceMachine: string(nomadPlaceMachine), placeMachine: string(placeMachine)}, scaled)
	return f.Close()
}

// series is every value one metric took over the repeated runs.
type series map[string][]float64

// readMicro parses `go test -bench` lines: name, iterations, then value/unit pairs.
func readMicro(path string) (map[string]series, error) {
	out := map[string]series{}
	fh, err := os.Open(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	cpuSuffix := regexp.MustCompile(`-\d+$`)
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := cpuSuffix.ReplaceAllString(fields[0], "")
		if out[name] == nil {
			out[name] = series{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			out[name][fields[i+1]] = append(out[name][fields[i+1]], v)
		}
	}
	return out, sc.Err()
}

// readLab groups the lab benchmarks' JSON lines by bench; a field holding
// an object (one value per node) becomes its max and median over nodes.
func readLab(path string) (map[string]series, error) {
	out := map[string]series{}
	fh, err := os.Open(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, sc.Text(), err)
		}
		bench, _ := rec["bench"].(string)
		if out[bench] == nil {
			out[bench] = series{}
		}
		for k, v := range rec {
			switch v := v.(type) {
			case float64:
				out[bench][k] = append(out[bench][k], v)
			case bool: // a yes/no figure: 1 or 0, so rows can count the yeses
				out[bench][k] = append(out[bench][k], map[bool]float64{true: 1}[v])
			case map[string]any:
				var per []float64
				for _, x := range v {
					if x, ok := x.(float64); ok {
						per = append(per, x)
					}
				}
				if len(per) > 0 {
					slices.Sort(per)
					out[bench][k+" (max over nodes)"] = append(out[bench][k+" (max over nodes)"], per[len(per)-1])
					out[bench][k+" (median over nodes)"] = append(out[bench][k+" (median over nodes)"], median(per))
				}
			}
		}
	}
	return out, sc.Err()
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// mmm formats min / median / max (and the number of runs).
func mmm(vs []float64) string {
	if len(vs) == 0 {
		return "not run"
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return fmt.Sprintf("%s / %s / %s (n=%d)", num(s[0]), num(median(s)), num(s[len(s)-1]), len(s))
}

func num(v float64) string {
	switch a := abs(v); {
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func table(w io.Writer, rows [][2]string) {
	fmt.Fprintln(w, "| figure | min / median / max |")
	fmt.Fprintln(w, "|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |\n", r[0], r[1])
	}
	fmt.Fprintln(w)
}

// refResults are what bench/run.sh ref wrote beside lab.jsonl's lines.
type refResults struct {
	micro        map[string]series // shoal's benchmarks taken in turns with a peer's
	etcdMachine  string
	swarmMachine string
	nomadMachine string
	placeMachine string // shoal's side of the placement comparison (place-N)
	// nomadPlaceMachine is Nomad's placement rows' block when they were
	// taken alone; "" when ref-nomad-machine.txt is theirs too.
	nomadPlaceMachine string
}

func write(w io.Writer, machine, labMachine string, micro, lab map[string]series, ref refResults, scaled []scaleLine) {
	fmt.Fprint(w, header)
	fmt.Fprintln(w, "## The machine")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Micro benchmarks ran on:")
	fmt.Fprintln(w)
	writeBlock(w, machine)          // sides.go
	writeLabMachines(w, labMachine) // sides.go

	fmt.Fprint(w, placementText)
	var rows [][2]string
	for _, n := range []string{"100", "1000", "5000"} {
		s := micro["BenchmarkChoose/nodes="+n]
		rows = append(rows,
			[2]string{n + " nodes: pods/s (CPU time, one core)", mmm(s["pods/cpu-s"])},
			[2]string{n + " nodes: pods/s (wall clock)", mmm(s["pods/s"])},
			[2]string{n + " nodes: µs per placement (wall clock)", mmm(scale(s["ns/op"], 1e-3))},
			[2]string{n + " nodes: allocations per placement", mmm(s["allocs/op"])},
		)
	}
	table(w, rows)

	fmt.Fprint(w, leaderText)
	rows = nil
	for _, n := range []string{"100", "1000", "5000"} {
		s := micro["BenchmarkLeaderPlacement/nodes="+n]
		rows = append(rows,
			[2]string{n + " nodes: pods/s", mmm(s["pods/s"])},
			[2]string{n + " nodes: µs per pod", mmm(scale(s["ns/op"], 1e-3))},
			[2]string{n + " nodes: allocations per pod", mmm(s["allocs/op"])},
			[2]string{n + " nodes: KB allocated per pod", mmm(scale(s["B/op"], 1e-3))},
		)
	}
	table(w, rows)
	fmt.Fprint(w, fleetText)
	rows = nil
	for _, n := range []string{"100", "1000", "5000"} {
		s := micro["BenchmarkFleetRegister/nodes="+n]
		rows = append(rows,
			[2]string{n + " nodes: ms to build the fleet", mmm(scale(s["ns/op"], 1e-6))},
			[2]string{n + " nodes: nodes/s", mmm(s["nodes/s"])},
		)
	}
	table(w, rows)

	fmt.Fprint(w, raftText)
	rows = nil
	for _, sub := range []string{"serial", "writers=32"} {
		s := micro["BenchmarkRaftApply/"+sub]
		rows = append(rows,
			[2]string{sub + ": applies/s", mmm(s["applies/s"])},
			[2]string{sub + ": p50 ms", mmm(s["p50-ms"])},
			[2]string{sub + ": p99 ms", mmm(s["p99-ms"])},
		)
		if sub != "serial" {
			rows = append(rows, [2]string{sub + ": writers running", mmm(s["writers"])})
		}
	}
	table(w, rows)

	fmt.Fprint(w, watchText)
	rows = nil
	for _, sub := range []string{"watchers=100/pods=5000", "watchers=100/pods=500", "watchers=10/pods=5000"} {
		s := micro["BenchmarkWatchFanOut/"+sub]
		rows = append(rows,
			[2]string{sub + ": CPU ms per write", mmm(s["cpu-ms/write"])},
			[2]string{sub + ": ms per write, all watchers served (wall clock)", mmm(scale(s["ns/op"], 1e-6))},
		)
	}
	table(w, rows)

	fmt.Fprint(w, labText)
	s := lab["pod-start"]
	table(w, [][2]string{
		{"30 pods: apply → all Running, s", mmm(s["total_s"])},
		{"per-pod apply → Running p50, s", mmm(s["p50_s"])},
		{"per-pod apply → Running p99, s", mmm(s["p99_s"])},
	})
	writeDaemonSet(w, lab) // daemonset.go
	writeRolling(w, lab)   // rolling.go
	writeEdge(w, lab)      // edge.go
	fmt.Fprint(w, failoverText)
	s = lab["failover"]
	tuned := lab["failover_grace1s"]
	table(w, [][2]string{
		{"lab kill → node reported not Ready, s", mmm(s["not_ready_s"])},
		{"lab kill → all 8 replicas Running elsewhere, s", mmm(s["seconds"])},
		{"with --node-grace 1s: lab kill → not Ready, s", mmm(tuned["not_ready_s"])},
		{"with --node-grace 1s: lab kill → all 8 Running elsewhere, s", mmm(tuned["seconds"])},
		{"20 nodes, 2 killed (TestBenchFailoverFleet20): lab kill → all 100 Running elsewhere, s", mmm(lab["failover_20nodes"]["seconds"])},
	})
	writeFailoverFleet(w, micro, lab) // failover_fleet.go
	writeScale(w, scaled)             // scale.go

	fmt.Fprint(w, networkText)
	s = lab["network"]
	table(w, [][2]string{
		{"pod → pod across nodes, Gbit/s", mmm(s["pod_gbit_s"])},
		{"bare veth pair, Gbit/s", mmm(s["veth_gbit_s"])},
		{"ratio pod / veth", mmm(s["ratio"])},
		{"pod → pod round trip p50, µs", mmm(s["pod_rr_p50_us"])},
		{"pod → pod round trip p99, µs", mmm(s["pod_rr_p99_us"])},
		{"veth round trip p50, µs", mmm(s["veth_rr_p50_us"])},
		{"veth round trip p99, µs", mmm(s["veth_rr_p99_us"])},
		{"pod → pod round trips/s (one connection)", mmm(s["pod_rr_per_s"])},
		{"veth round trips/s (one connection)", mmm(s["veth_rr_per_s"])},
	})

	writeServices(w, micro, lab) // services.go

	fmt.Fprint(w, footprintText)
	idle, busy := lab["footprint-idle"], lab["footprint-50pods"]
	table(w, [][2]string{
		{"idle agent RSS, MB (median over the 5 agents)", mmm(idle["rss_mb (median over nodes)"])},
		{"idle agent RSS, MB (largest agent)", mmm(idle["rss_mb (max over nodes)"])},
		{"… of which anonymous (heap, stacks), MB (median)", mmm(idle["rss_anon_mb (median over nodes)"])},
		{"… of which the shoal binary's pages, MB (median)", mmm(idle["rss_file_mb (median over nodes)"])},
		{"idle 5-node fleet: agents' CPU, % of one core", mmm(idle["cpu_percent_of_one_core"])},
		{"50 pods: agent RSS, MB (median over the 5 agents)", mmm(busy["rss_mb (median over nodes)"])},
		{"50 pods: agent RSS, MB (largest agent)", mmm(busy["rss_mb (max over nodes)"])},
		{"50 pods: … of which anonymous, MB (median)", mmm(busy["rss_anon_mb (median over nodes)"])},
	})
	writeIdle(w, lab)
	writeMachines(w, lab) // bench/report/machines.go
	writeSwarm(w, lab, ref.swarmMachine, labMachine)
	writeNomad(w, ref.nomadMachine, ref.nomadPlaceMachine, ref.placeMachine, labMachine, lab) // bench/report/nomad.go
	writeEtcd(w, ref.etcdMachine, ref.micro, micro, lab)                                      // bench/report/etcd.go
	fmt.Fprint(w, comparisonText)

	var extra []string
	for name := range micro {
		if !strings.HasPrefix(name, "BenchmarkChoose/") && !strings.HasPrefix(name, "BenchmarkRaftApply/") && !strings.HasPrefix(name, "BenchmarkLeaderPlacement/") && !strings.HasPrefix(name, "BenchmarkFleetRegister/") && !strings.HasPrefix(name, "BenchmarkWatchFanOut/") && !strings.HasPrefix(name, "BenchmarkGossipVerdict/") && !serviceBench(name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		fmt.Fprintln(w, "## Other benchmarks in the run")
		fmt.Fprintln(w)
		for _, name := range extra {
			var rows [][2]string
			var units []string
			for u := range micro[name] {
				units = append(units, u)
			}
			sort.Strings(units)
			for _, u := range units {
				rows = append(rows, [2]string{name + " " + u, mmm(micro[name][u])})
			}
			table(w, rows)
		}
	}
}

func scale(vs []float64, f float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = v * f
	}
	return out
}

// writeSwarm sets shoal's lab figures beside the Docker Swarm reference
// run's, when bench/run.sh ref has recorded one.
func writeSwarm(w io.Writer, lab map[string]series, refMachine, labMachine string) {
	if len(lab["swarm_start"]) == 0 {
		return
	}
	fmt.Fprint(w, swarmText)
	type pair struct {
		figure        string
		shoal, swarm  []float64
		lowerIsBetter bool
		sides         sidePair // the benches of each side, for their machine blocks
	}
	get := func(bench, field string) []float64 { return lab[bench][field] }
	both := func(figure, shoalBench, swarmBench, field string, lowerIsBetter bool) pair {
		return pair{figure, get(shoalBench, field), get(swarmBench, field), lowerIsBetter, sidePair{figure, shoalBench, swarmBench}}
	}
	rows := []pair{
		both("30 pods/replicas: apply → all running, s", "pod-start", "swarm_start", "total_s", true),
		both("per-pod start p99, s", "pod-start", "swarm_start", "p99_s", true),
		both("failover, defaults: kill → all 8 running elsewhere, s", "failover", "swarm_failover", "seconds", true),
		both("failover, defaults: kill → node seen down, s", "failover", "swarm_failover", "not_ready_s", true),
		both("failover, tuned (shoal grace 1 s; Swarm heartbeat 1 s, restart delay 0 s), s", "failover_grace1s", "swarm_failover_tuned", "seconds", true),
		{figure: "failover, Swarm heartbeat 1 s only (restart delay 5 s), s", swarm: get("swarm_failover_hb1s", "seconds"), lowerIsBetter: true, sides: sidePair{peer: "swarm_failover_hb1s"}},
		both("network across nodes ÷ bare veth (throughput)", "network", "swarm_network", "ratio", false),
		both("round trip p50 across nodes, µs", "network", "swarm_network", "pod_rr_p50_us", true),
		both("idle daemon RSS, MB (median over 5 nodes)", "footprint-idle", "swarm_footprint-idle", "rss_mb (median over nodes)", true),
		both("daemon RSS with 50 pods, MB (median over 5 nodes)", "footprint-50pods", "swarm_footprint-50pods", "rss_mb (median over nodes)", true),
		both("idle 5-node fleet: daemons' CPU, % of one core", "footprint-idle", "swarm_footprint-idle", "cpu_percent_of_one_core", true),
	}
	var pairs []sidePair
	for _, r := range rows {
		pairs = append(pairs, r.sides)
	}
	differ := writePeerMachines(w, "Swarm", "bench-ref", refMachine, labMachine, pairs) // sides.go
	fmt.Fprintln(w, "| figure | shoal (min / median / max) | Swarm (min / median / max) | shoal's advantage (medians) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var behind, netBehind []string
	for _, r := range rows {
		adv := "–"
		if len(r.shoal) > 0 && len(r.swarm) > 0 {
			a, b := medianOf(r.shoal), medianOf(r.swarm)
			if r.lowerIsBetter {
				a, b = b, a
			}
			if b != 0 {
				adv = num(a/b) + "×"
				if a/b < 1 {
					behind = append(behind, withinSpread(r.figure, r.shoal, r.swarm))
					if r.sides.shoal == "network" {
						netBehind = append(netBehind, r.figure)
					}
				}
			}
		}
		figure := r.figure
		if differ[r.figure] {
			figure += " †"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", figure, mmm(r.shoal), mmm(r.swarm), adv)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\"shoal's advantage\" is Swarm's median over shoal's where less is better and shoal's over Swarm's where more is better: above 1 shoal is ahead, below 1 Swarm is.")
	fmt.Fprintln(w)
	if len(behind) > 0 {
		fmt.Fprintf(w, "**Swarm is ahead here on: %s.**\n\n", strings.Join(behind, "; "))
	}
	fmt.Fprint(w, swarmReadingText)
	if len(netBehind) > 0 {
		fmt.Fprintf(w, swarmNetworkBehindText, quoteList(netBehind))
	}
}

func medianOf(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	return median(s)
}
