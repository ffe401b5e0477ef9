package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// scaleLine is one line of scale.jsonl, written by agent/sim_scale_test.go
// (make bench-scale): one fleet size, one run.
type scaleLine struct {
	// Variant names a run of other code than the commit's, measured for
	// comparison (e.g. before a fix); empty for the commit's own.
	Variant string             `json:"variant"`
	Stopped string             `json:"stopped"`
	Nodes   int                `json:"nodes"`
	Seats   int                `json:"seats"`
	Pods    int                `json:"pods"`
	Load    string             `json:"load"`
	Profile string             `json:"gossip_profile"`
	Every   float64            `json:"start_every_ms"`
	Kills   []map[string]any   `json:"kills"`
	Vals    map[string]float64 `json:"-"`
}

func readScale(path string) ([]scaleLine, error) {
	fh, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []scaleLine
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l scaleLine
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		l.Vals = map[string]float64{}
		for k, v := range raw {
			if f, ok := v.(float64); ok {
				l.Vals[k] = f
			}
		}
		for i, k := range l.Kills {
			for f, v := range k {
				if x, ok := v.(float64); ok {
					l.Vals[fmt.Sprintf("kill%d_%s", i, f)] = x
				}
			}
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

const scaleText = `## A fleet of hollow nodes (agent/sim_scale_test.go, make bench-scale)

Hollow agents (docs/scale.md): each the real agent (gossip, API, Raft
with its log on disk on 5 seats, the leader's controllers, the node
reconciler and its status reports over HTTP) with an in-memory container
runtime and pod network, all in one process, each on its own loopback
address. The run, per fleet size: start every agent at once (gossip
converged: every agent's memberlist holds every member; Ready: the API
lists every node Ready); create PODS pods through the clients' APIs, 32
requests at a time, half as ReplicationControllers of 100 replicas and
half as bare pods, until all are bound and reported Running (pods/s over
the time from the first create); crash 1% and then 10% of the clients at
once (no gossip goodbye): every crashed node NotReady, their RC replicas
Running on live nodes; then an idle soak. A false positive is a live node
the API lists not Ready at any poll after the fleet was first Ready.
Memory and CPU are the whole process's (every agent, leader and
followers together, and the driver), since they share one Go heap; the
Raft sizes are the largest seat's (raft-wal preallocates 64 MiB
segments, so the log's size on disk moves in those steps). One run per
size on this 2-core machine while four other sessions compiled and tested
on it; the load average is shown. Restore time is the first seat's state,
snapshotted into memory after the soak, restored into a new state machine.

What the runs showed (docs/scale.md has the profiles). Session 18:
before the held assignments view, every state change woke every node's
query, each answer carried every Node in full and each node then made a
pass: on 100 nodes that cost 1.5 GiB of heap and a core while idle, and
stretched creates to a p99 of 5.9 s; with it, a quarter of the heap,
half the idle CPU, a p99 of 2.2 s. 200 and 300 nodes did not form.
Session 19 profiled 300 and 1,000 nodes and removed what grew: a fresh
64 KiB buffer per gossip packet (48% of a 300-node sim's CPU; the sim's
transport copies each packet at its size), the gossip peers file
rewritten at every join (n^2 per agent), the 256 blocks of the default
/16 pod range (no fleet of more than 256 nodes could register every
node: the earlier 300-node runs could not have formed for that reason
alone; the sim uses a /9), the assignments view's and the leader's JSON
copies of every Node or every pod at each change (replication read every
pod of the namespace once per controller per change), held queries
reading every pod at each change, the API's sorted copy of every member
per request, and the fencer's scan of every member per tick (10% of a
1,000-node sim). Above 100 nodes the sim runs the large gossip profile
(1 s probes, 500 ms timeout, 8 s grace) and its seats Raft with 5 s
timeouts (a starved 1,000-node start restarted 375 elections in four
minutes).

Session 19 then: 300 nodes registered and were all Ready, but with
gossip retransmits halved (tried, and undone) some agents still missed
up to 8 members after 120 s; 1,000 nodes did not form (memberlist's
handler queues dropped 36,000 messages in 3 minutes; the 1,000-node line
below "this session" is an earlier start, all agents at once).

Session 20 (the lines without a note are its code): a large sim's
clients start 10 ms apart and each joins a random node started a second
before it rather than the seats, and a client forwards to its own server
(rendezvous hashing) instead of all to the first. 300 nodes now form and
run the whole report: 3,000 pods bound and Running at 75 pods/s, the
crash of 3 and of 30 nodes detected in 12 to 14 s (the large profile's
1 s probes) with every replica back in 13 to 16 s, and no false positive
through the run and the soak. Gossip is the slow step and it varies from
run to run: timed alone (agent/sim_converge_test.go) one 300-node start
converged in 25 s, another under more load from other sessions flapped
for four minutes (2,300 refutations, 1,300 probes that failed over UDP
and succeeded over TCP) and did not converge; the report's own run took
167 s. No packet was lost (the kernel counted no UDP receive error and
memberlist's handler queue never filled): goroutines waited up to half a
second to run, the large profile's probe timeout, so live agents were
suspected and refuted in waves. In these runs Ready was read only after
gossip converged, so that row is gossip's time (the test now records
Ready when it happens). The 100-node run started while a unit test run
of this session loaded the machine (load 9.4), hence its 91 s of gossip.

1,000 nodes (clients 25 ms apart) still do not form: after 5 minutes
the agent that knew fewest members knew 742, at most 373 nodes had been
Ready at once, memberlist's handler queues had dropped 172,849 messages
(8,815 probes failed over UDP and succeeded over TCP, 4,585
refutations), and the process held 17.5 GiB of heap (18.4 GiB RSS): the
sim's deeper handler queues (8,192 messages per agent) hold a thousand
agents' backlog, each message keeping its packet. Each figure after that
step is "not measured" for that reason.
`

func writeScale(w io.Writer, lines []scaleLine) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprint(w, scaleText)
	type key struct {
		nodes   int
		variant string
	}
	by := map[key][]scaleLine{}
	var keys []key
	for _, l := range lines {
		k := key{l.Nodes, l.Variant}
		if by[k] == nil {
			keys = append(keys, k)
		}
		by[k] = append(by[k], l)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].nodes != keys[j].nodes {
			return keys[i].nodes < keys[j].nodes
		}
		return keys[i].variant < keys[j].variant
	})
	for _, k := range keys {
		ls := by[k]
		get := func(k string) []float64 {
			var out []float64
			for _, l := range ls {
				if v, ok := l.Vals[k]; ok {
					out = append(out, v)
				}
			}
			return out
		}
		last := ls[len(ls)-1]
		title := fmt.Sprintf("### %d nodes (%d seats), %d pods", k.nodes, last.Seats, last.Pods)
		if k.variant != "" {
			title += ": " + k.variant
		}
		fmt.Fprintf(w, "%s\n\n", title)
		fmt.Fprintf(w, "Load average (1/5/15 min) at the start and the end of the last run: %s.\n\n", strings.ReplaceAll(last.Load, "->", "→"))
		profile := last.Profile
		if profile == "" {
			profile = "lan"
		}
		fmt.Fprintf(w, "Gossip profile: %s", profile)
		if last.Every > 0 {
			fmt.Fprintf(w, "; the seats started together, then a client every %g ms", last.Every)
		} else {
			fmt.Fprint(w, "; every agent started at once")
		}
		fmt.Fprint(w, ".\n\n")
		for _, l := range ls {
			if l.Stopped != "" {
				fmt.Fprintf(w, "A run stopped at the step \"%s\", not reached in its time: at most %d of %d nodes were Ready at once", l.Stopped, int(l.Vals["ready_max"]), l.Nodes)
				if m := l.Vals["gossip_min_members"]; m > 0 {
					fmt.Fprintf(w, ", and the agent that knew fewest members knew %d", int(m))
				}
				fmt.Fprint(w, "; the figures after it are missing.\n\n")
			}
		}
		rows := [][2]string{
			{"start → gossip converged, s", mmm(get("gossip_converged_s"))},
			{"start → every node Ready in the API, s", mmm(get("all_ready_s"))},
			{"first create → last create answered, s", mmm(get("create_s"))},
			{"first create → all bound, s", mmm(get("all_bound_s"))},
			{"first create → all reported Running, s", mmm(get("all_running_s"))},
			{"pods bound per s", mmm(get("bound_pods_per_s"))},
			{"pods Running per s", mmm(get("running_pods_per_s"))},
			{"create (POST) latency p50, ms", mmm(get("create_p50_ms"))},
			{"create (POST) latency p99, ms", mmm(get("create_p99_ms"))},
			{"create (POST) latency max, ms", mmm(get("create_max_ms"))},
			{"list of every pod (GET, resourceVersion=0) p50, ms", mmm(get("list_p50_ms"))},
			{"list of every pod p99, ms", mmm(get("list_p99_ms"))},
		}
		for i, what := range []string{"1%", "10%"} {
			p := fmt.Sprintf("kill%d_", i)
			if len(get(p+"killed")) == 0 {
				continue
			}
			rows = append(rows,
				[2]string{"crash of " + what + " of the nodes: nodes crashed", mmm(get(p + "killed"))},
				[2]string{"… their RC replicas", mmm(get(p + "replicas_lost"))},
				[2]string{"… crash → all crashed nodes NotReady, s", mmm(get(p + "all_not_ready_s"))},
				[2]string{"… crash → every RC replica Running on a live node, s", mmm(get(p + "replacements_running_s"))},
			)
		}
		rows = append(rows,
			[2]string{"idle soak after the crashes, s", mmm(get("soak_s"))},
			[2]string{"false positives (live nodes seen NotReady), whole run", mmm(get("false_not_ready"))},
			[2]string{"heap in use after the pods ran (or when the run was given up), MiB, whole process", mmm(get("heap_inuse_mib"))},
			[2]string{"… per hollow node, KiB", mmm(get("heap_per_node_kib"))},
			[2]string{"process RSS, MiB", mmm(get("rss_mib"))},
			[2]string{"goroutines", mmm(get("goroutines"))},
			[2]string{"CPU from the start until it was given up on, cores", mmm(get("cpu_cores_start"))},
			[2]string{"CPU while pods were created and started, cores", mmm(get("cpu_cores_busy"))},
			[2]string{"CPU during the idle soak, cores", mmm(get("cpu_cores_idle"))},
			[2]string{"Raft log on disk (largest seat), MiB", mmm(get("raft_wal_mib"))},
			[2]string{"Raft snapshots on disk (largest seat), MiB", mmm(get("raft_snapshots_mib"))},
			[2]string{"the state as a snapshot holds it, MiB", mmm(get("state_snapshot_mib"))},
			[2]string{"… restored into a new state machine, s", mmm(get("restore_s"))},
		)
		rows = append(rows, [2]string{"the leader's RSS and CPU, and each follower's", scaleSharedProcess})
		var measured [][2]string
		for _, r := range rows {
			switch {
			case r[1] != "not run":
				measured = append(measured, r)
			case k.variant == "":
				// The commit's own figures: a row it lacks says why.
				measured = append(measured, [2]string{r[0], scaleMissing(last, r[0])})
			}
		}
		table(w, measured)
	}
}

// scaleSharedProcess is the leader's and followers' own RSS and CPU: a
// sim runs every agent in one process.
const scaleSharedProcess = "not measured: every agent of the sim, seats and clients, shares one process and one Go heap, so no agent has an RSS or CPU of its own (the process's are above)"

// scaleMissing says why the commit's own run lacks a row.
func scaleMissing(l scaleLine, row string) string {
	switch {
	case l.Stopped != "":
		return fmt.Sprintf("not measured: the run stopped at \"%s\"", l.Stopped)
	case strings.HasPrefix(row, "CPU from the start until it was given up"):
		return "not measured: the run was not given up on (the CPU of each step is below)"
	case strings.Contains(row, "snapshot") || strings.Contains(row, "restored"):
		return "not measured: no seat took a snapshot during the run"
	}
	return "not measured"
}
