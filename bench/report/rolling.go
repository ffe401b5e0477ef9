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
fails below 23). On the Swarm reference (TestRefSwarmRollingUpdate, run
by bench/run.sh ref): a service of 30 replicas with a health check
(every second) updated with ` + "`docker service update --image`" + `, which
returns once the update converged; the minimum is of healthy containers.
swarm_rolling is Swarm's default (one task at a time, stop-first, each
batch watched for 5 s); swarm_rolling_p7 updates 7 at a time, the
Deployment's unavailability budget.

`

// writeRolling is the rolling update section, from the rolling-update
// lines and, when the reference run recorded them, the swarm_rolling ones.
func writeRolling(w io.Writer, lab map[string]series) {
	fmt.Fprint(w, rollingText)
	s := lab["rolling-update"]
	rows := [][2]string{
		{"30 replicas, shoal: set image → rollout status done, s", mmm(s["total_s"])},
		{"30 replicas, shoal: minimum Ready seen while rolling", mmm(s["min_ready"])},
	}
	if sw := lab["swarm_rolling"]; len(sw) > 0 {
		p7 := lab["swarm_rolling_p7"]
		rows = append(rows,
			[2]string{"30 replicas, Swarm defaults: service update → converged, s", mmm(sw["total_s"])},
			[2]string{"30 replicas, Swarm defaults: minimum healthy seen", mmm(sw["min_ready"])},
			[2]string{"30 replicas, Swarm --update-parallelism 7: service update → converged, s", mmm(p7["total_s"])},
			[2]string{"30 replicas, Swarm --update-parallelism 7: minimum healthy seen", mmm(p7["min_ready"])},
		)
	}
	table(w, rows)
}
