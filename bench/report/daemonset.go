package main

import (
	"fmt"
	"io"
)

const daemonSetText = `## DaemonSet on a lab (e2e/bench_daemonset_test.go, TestBenchDaemonSet)

A 5-node lab (3 Raft seats, 2 clients; the busybox image imported on every
node). A DaemonSet is applied with kubectl; the leader's daemon set
controller makes one pod pinned to each node, placement binds each to its
node, and each pod is timed from the apply to first seen Running (polling
the API every 100 ms); the total is apply to a pod Running on every node.
The DaemonSet is deleted and its pods gone between runs.

`

// writeDaemonSet is the DaemonSet section, from the daemonset-start lines.
func writeDaemonSet(w io.Writer, lab map[string]series) {
	fmt.Fprint(w, daemonSetText)
	s := lab["daemonset-start"]
	table(w, [][2]string{
		{"5 nodes: apply → a pod Running on every node, s", mmm(s["total_s"])},
		{"per-node apply → Running p50, s", mmm(s["p50_s"])},
		{"per-node apply → Running p99, s", mmm(s["p99_s"])},
	})
}
