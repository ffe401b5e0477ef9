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
fails below 23).

Beside it, the same roll on the Docker Swarm reference lab
(e2e/ref_swarm_rolling_test.go, TestRefSwarmRollingUpdate): 3 managers, a
service of 30 replicas updated with ` + "`docker service update --detach\n--no-resolve-image --image`" + `. The probe is a health check running the
same command every second (Docker reports a task Running only once it is
healthy), the grace period is ` + "`--stop-grace-period 1s`" + `. Swarm cannot
surge and run short at once as the Deployment does: stop-first with
` + "`--update-parallelism 7`" + ` is maxUnavailable (never fewer than 23, no
surge), start-first with parallelism 8 is maxSurge (up to 38, none
missing). The time is until all 30 tasks meant to run are Running the new
image, read from the manager every ~100 ms, as is the minimum Running;
Swarm itself marks the update completed its 5 s monitor period later.
The shoal and Swarm rows come from separate runs on the same machine.

`

// writeRolling is the rolling update section, from the rolling-update
// lines and the Swarm reference's.
func writeRolling(w io.Writer, lab map[string]series) {
	fmt.Fprint(w, rollingText)
	s := lab["rolling-update"]
	stop, start := lab["swarm_rolling-update"], lab["swarm_rolling-update-start-first"]
	rows := [][2]string{
		{"30 replicas, shoal: set image → rollout status done, s", mmm(s["total_s"])},
		{"30 replicas, shoal: minimum Ready seen while rolling", mmm(s["min_ready"])},
		{"30 replicas, Swarm stop-first ×7: update → all 30 Running the new image, s", mmm(stop["total_s"])},
		{"30 replicas, Swarm stop-first ×7: update → Swarm marks it completed, s", mmm(stop["completed_s"])},
		{"30 replicas, Swarm stop-first ×7: minimum Running seen while rolling", mmm(stop["min_ready"])},
		{"30 replicas, Swarm start-first ×8: update → all 30 Running the new image, s", mmm(start["total_s"])},
		{"30 replicas, Swarm start-first ×8: update → Swarm marks it completed, s", mmm(start["completed_s"])},
		{"30 replicas, Swarm start-first ×8: minimum Running seen while rolling", mmm(start["min_ready"])},
		{"time, shoal ÷ Swarm stop-first ×7 (medians)", ratio(s["total_s"], stop["total_s"], true, "Swarm")},
		{"time, shoal ÷ Swarm start-first ×8 (medians)", ratio(s["total_s"], start["total_s"], true, "Swarm")},
	}
	table(w, rows)
}
