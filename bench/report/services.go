package main

import (
	"fmt"
	"io"
	"strings"
)

const servicesText = `## Services (TestBenchServices, BenchmarkSyncOneChange)

Issue 19's numbers. A 3-node lab: a bench/netbench server pod on n2 behind
the Service nb (ClusterIP port 80 → 5201), its client pod on n3. Each run
measures the same pair of pods directly (pod IP) and through the
ClusterIP: 2,000 new connections one after the other, each a one-byte
exchange then closed, first on one path then on the other (which goes
first alternates by run). Throughput and round trips are measured on
both paths from one client process with a connection on each, taking
turns, so both paths see the same moments of a busy machine (two runs
taken one after the other differed by more than the paths do): one TCP
stream to each for 5 s in all, in turns of half a second
(` + "`netbench tputpair`" + `), and 20,000 one-byte round trips on each (busy-polled,
as in the pod network section), in turns of 100 (` + "`netbench rrpair`" + `). Through the ClusterIP the
client's node DNATs the first packet of each connection (nftables,
` + "`numgen random`" + ` over the ready endpoints) and conntrack translates every
later packet both ways; nothing SNATs.

The same comparison without a lab: ` + "`go test -bench ServiceRoundTrip ./agent/node/svcproxy/`" + `
(root), one-byte round trips between two pods of one node namespace,
directly and through the ClusterIP, taking turns every 100 on a
connection each (blocking reads): the DNAT's own cost per round trip.

DNS: 20,000 A queries for ` + "`nb.default.svc.cluster.local`" + ` from the client pod
to its node's DNS server (UDP, 4 sockets with one query in flight each).

Ready change: a pod on n2 behind the Service rdy has an exec readiness
probe (every 1 s) testing a file; the test creates or removes the file and
polls at once the pod's Ready condition through the API (every 20 ms plus
a CLI call) and every node's service table (` + "`nft list table`" + ` every 10 ms)
for the pod's IP. "after Ready" is from the API first showing the new
condition to the last node's table showing the change; it can come out
below 0 when the rules win the race against the API poll. The probe's
period, not shoal, dominates the total.

Rule update: ` + "`go test -bench SyncOneChange ./agent/node/svcproxy/`" + ` (root) in a
namespace of its own, with 10 to 1,000 Services of two ports each (TCP,
UDP with a nodePort) and 3 or 10 endpoints: one Sync that moves one
Service's endpoints. A Sync plans only the Services that changed (each
applied Service is kept with its rules, as kube-proxy's partial syncs
do); such a change (endpoints only) is one netlink batch
(github.com/google/nftables: flush the Service's chains, add their new
rule; one atomic transaction) on a socket kept open, since closing one
waits for an RCU grace period (8-20 ms); any other change is one ` + "`nft -f`" + `
transaction (knftables), whose nft process alone costs 20–30 ms at 1,000
Services since it loads its cache of the whole table first. The figure
is the rules only: deleting the UDP flows a change made stale follows
(a dump of the conntrack table). PlanOneChange is the proxy's own share
(validation and the comparison of every Service with what was applied,
the changed Service's rules built, the diff); FullRebuild is the one
transaction a restarted agent runs. What still grows with the number of
Services: validation and that comparison, and the kernel's validation of
the table on commit.
`

// serviceBench reports whether a Go benchmark belongs to this section.
func serviceBench(name string) bool {
	for _, p := range []string{"BenchmarkSyncOneChange/", "BenchmarkSyncFullRebuild/", "BenchmarkPlanOneChange/", "BenchmarkServiceRoundTrip"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// writeServices is the Services section, from the services* lines and the
// service proxy's Go benchmarks, with the goals checked against
// the medians.
func writeServices(w io.Writer, micro, lab map[string]series) {
	fmt.Fprint(w, servicesText)
	s, dns, ready := lab["services"], lab["services-dns"], lab["services-ready"]
	table(w, [][2]string{
		{"TCP throughput, pod → pod, Gbit/s", mmm(s["direct_gbit_s"])},
		{"TCP throughput, pod → ClusterIP → pod, Gbit/s", mmm(s["vip_gbit_s"])},
		{"ratio ClusterIP / direct (goal ≥ 0.95)", mmm(s["tput_ratio"])},
		{"round trip p50, direct, µs", mmm(s["direct_rr_p50_us"])},
		{"round trip p50, through the ClusterIP, µs", mmm(s["vip_rr_p50_us"])},
		{"ratio of round trip p50s, ClusterIP / direct (goal ≤ 1.10)", mmm(s["rr_p50_ratio"])},
		{"new connections/s, direct", mmm(s["direct_conn_per_s"])},
		{"new connections/s, through the ClusterIP", mmm(s["vip_conn_per_s"])},
		{"new connection p99, direct, µs", mmm(s["direct_conn_p99_us"])},
		{"new connection p99, through the ClusterIP, µs", mmm(s["vip_conn_p99_us"])},
		{"DNS queries/s from a pod", mmm(dns["queries_per_s"])},
		{"DNS p50, µs", mmm(dns["p50_us"])},
		{"DNS p99, µs", mmm(dns["p99_us"])},
		{"made Ready: file → Ready in the API, s", mmm(ready["up_probe_s"])},
		{"made Ready: file → endpoint in every node's rules, s", mmm(ready["up_rules_s"])},
		{"made Ready: Ready in the API → every node's rules, s (goal < 1)", mmm(ready["up_after_ready_s"])},
		{"made not Ready: file gone → not Ready in the API, s", mmm(ready["down_probe_s"])},
		{"made not Ready: file gone → endpoint out of every node's rules, s", mmm(ready["down_rules_s"])},
		{"made not Ready: not Ready in the API → every node's rules, s (goal < 1)", mmm(ready["down_after_ready_s"])},
	})
	var rows [][2]string
	for _, size := range []string{"services=10/endpoints=3", "services=100/endpoints=3", "services=1000/endpoints=3", "services=1000/endpoints=10"} {
		rows = append(rows,
			[2]string{size + ": one change, ms (goal < 50)", mmm(scale(micro["BenchmarkSyncOneChange/"+size]["ns/op"], 1e-6))},
			[2]string{size + ": … of which the proxy's own planning, ms", mmm(scale(micro["BenchmarkPlanOneChange/"+size]["ns/op"], 1e-6))},
			[2]string{size + ": full rebuild, ms", mmm(scale(micro["BenchmarkSyncFullRebuild/"+size]["ns/op"], 1e-6))},
		)
	}
	rt := micro["BenchmarkServiceRoundTrip"]
	rows = append(rows,
		[2]string{"same node, no lab: round trip p50, direct, µs", mmm(scale(rt["direct-p50-ns"], 1e-3))},
		[2]string{"same node, no lab: round trip p50, through the ClusterIP, µs", mmm(scale(rt["clusterip-p50-ns"], 1e-3))},
		[2]string{"same node, no lab: ratio ClusterIP / direct", mmm(rt["ratio"])},
	)
	table(w, rows)

	type goal struct {
		what string
		vs   []float64
		ok   func(float64) bool
		why  string // said when missed
	}
	goals := []goal{
		{"throughput through the ClusterIP ≥ 0.95 of direct", s["tput_ratio"], func(v float64) bool { return v >= 0.95 }, ""},
		{"round trip p50 through the ClusterIP within 10% of direct", s["rr_p50_ratio"], func(v float64) bool { return v <= 1.10 }, servicesRRWhy},
		{"Ready change in every node's rules < 1 s after the API shows it", append(append([]float64{}, ready["up_after_ready_s"]...), ready["down_after_ready_s"]...),
			func(v float64) bool { return v < 1 }, ""},
		{"one rule change with 1,000 Services × 10 endpoints < 50 ms", scale(micro["BenchmarkSyncOneChange/services=1000/endpoints=10"]["ns/op"], 1e-6),
			func(v float64) bool { return v < 50 }, servicesRuleWhy},
	}
	fmt.Fprintln(w, "Goals, judged on the medians:")
	fmt.Fprintln(w)
	for _, g := range goals {
		if len(g.vs) == 0 {
			fmt.Fprintf(w, "- %s: not run.\n", g.what)
			continue
		}
		m := medianOf(g.vs)
		if g.ok(m) {
			fmt.Fprintf(w, "- %s: **met** (median %s).\n", g.what, num(m))
			continue
		}
		fmt.Fprintf(w, "- %s: **missed** (median %s). %s\n", g.what, num(m), g.why)
	}
	fmt.Fprintln(w)
}

const servicesRRWhy = `What the ClusterIP path adds to every
packet: conntrack rewrites it in both directions on the client's node
(the direct path is tracked too, since the node's table has NAT chains,
but not rewritten); no rule is evaluated for an established connection's
packets but the filter hook's ` + "`ct state new`" + ` test, which the direct path
pays as well. Doing without the rewrite would need the translation at
connect time (eBPF socket-level load balancing, as Cilium does), which
nftables cannot do.`

const servicesRuleWhy = `Validation and the comparison of each
Service with what was applied visit every Service, and the kernel
validates the table on commit.`
