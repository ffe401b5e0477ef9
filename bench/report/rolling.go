package main

import (
	"fmt"
	"io"
)

const rollingText = `## Rolling update of a Deployment (e2e/bench_rolling_test.go, TestBenchRollingUpdate)

A 3-node lab; a Deployment of 30 replicas (maxSurge 25%, maxUnavailable
25%: never fewer than 23 Ready) whose readiness probe (exec, every second)
passes once the container has started, rolled to another image with
` + "`kubectl set image`" + ` (alternating between two images, one roll per run).
The time is from the command to ` + "`kubectl rollout status`" + ` returning; a
sampler counts the Ready, not terminating pods through the API all along
(about every 100 ms), and the least it saw is the minimum Ready (the test
fails below 23). No Swarm figure yet: a ` + "`docker service update`" + ` of such a
service on the reference lab made no progress within a minute in the one
attempt, not yet understood.

`

// writeRolling is the rolling update section, from the rolling-update
// lines.
func writeRolling(w io.Writer, lab map[string]series) {
	fmt.Fprint(w, rollingText)
	s := lab["rolling-update"]
	rows := [][2]string{
		{"30 replicas, shoal: set image → rollout status done, s", mmm(s["total_s"])},
		{"30 replicas, shoal: minimum Ready seen while rolling", mmm(s["min_ready"])},
	}
	table(w, rows)
}
