package main

import (
	"fmt"
	"io"
)

const edgeText = `## A cut-off edge site (e2e/bench_edge_test.go, TestBenchEdgePartition)

A 4-node lab (3 Raft seats, the client n4 as the site); a Deployment whose
pods tolerate ` + "`node.kubernetes.io/unreachable`" + ` for good, a DaemonSet and an
RC with shoal's default (no toleration). n4 is partitioned for 10 s, 60 s
(and 10 min with SHOAL_BENCH_EDGE_LONG=1), then healed. A kept pod on n4 is
fetched over HTTP inside n4's network namespace every 100 ms: its downtime
is the time those fetches failed (goal 0, docs/liveness.md); the RC's
failover is partition → all its replicas Running off n4.

`

// writeEdge is the edge section, from the edge-partition-* lines.
func writeEdge(w io.Writer, lab map[string]series) {
	fmt.Fprint(w, edgeText)
	var rows [][2]string
	for _, cut := range []string{"10", "60", "600"} {
		s := lab["edge-partition-"+cut+"s"]
		rows = append(rows,
			[2]string{cut + " s cut: downtime of a kept pod on the site, s", mmm(s["kept_down_s"])},
			[2]string{cut + " s cut: the RC's replicas Running elsewhere, s", mmm(s["rc_failover_s"])},
			[2]string{cut + " s cut: runs in which a kept pod's container restarted", yeses(s["kept_restarted"])},
		)
	}
	table(w, rows)
}

// yeses counts the runs in which a yes/no figure was yes.
func yeses(vs []float64) string {
	if len(vs) == 0 {
		return "not run"
	}
	n := 0
	for _, v := range vs {
		if v != 0 {
			n++
		}
	}
	return fmt.Sprintf("%d of %d", n, len(vs))
}
