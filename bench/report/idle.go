package main

import (
	"fmt"
	"io"
)

// writeIdle is the idle cost by role and per pod (e2e/bench_idle_test.go;
// issue 30), after the footprint table.
func writeIdle(w io.Writer, lab map[string]series) {
	roles := lab["idle-roles"]
	if len(roles) == 0 && len(lab["idle-pods-0"]) == 0 {
		return
	}
	fmt.Fprint(w, idleText)
	rows := [][2]string{
		{"idle leader's CPU, % of one core", mmm(roles["leader_cpu_percent_of_one_core"])},
		{"idle follower seat's CPU, % of one core (median of the followers)", mmm(roles["follower_cpu_percent_of_one_core"])},
		{"idle client's CPU, % of one core (median of the clients)", mmm(roles["client_cpu_percent_of_one_core"])},
		{"agent RSS, MB (median over the 5 agents)", mmm(roles["rss_mb (median over nodes)"])},
	}
	total := func(pods int) float64 {
		s := lab[fmt.Sprintf("idle-pods-%d", pods)]
		return medianOf(s["agent_cpu_percent_of_one_core"]) + medianOf(s["containerd_cpu_percent_of_one_core"]) + medianOf(s["shims_cpu_percent_of_one_core"])
	}
	for _, pods := range []int{0, 30, 100} {
		s := lab[fmt.Sprintf("idle-pods-%d", pods)]
		if len(s) == 0 {
			continue
		}
		rows = append(rows,
			[2]string{fmt.Sprintf("%d pods on one node: agent's CPU, %% of one core", pods), mmm(s["agent_cpu_percent_of_one_core"])},
			[2]string{fmt.Sprintf("%d pods on one node: containerd's CPU, %% of one core", pods), mmm(s["containerd_cpu_percent_of_one_core"])},
			[2]string{fmt.Sprintf("%d pods on one node: the shims' CPU, %% of one core", pods), mmm(s["shims_cpu_percent_of_one_core"])},
		)
	}
	if len(lab["idle-pods-0"]) > 0 && len(lab["idle-pods-100"]) > 0 {
		rows = append(rows, [2]string{"idle cost of one pod (0 → 100 pods, agent + containerd + shims, medians), % of one core",
			fmt.Sprintf("%.3f", (total(100)-total(0))/100)})
	}
	table(w, rows)
}

const idleText = `### Idle CPU by role and per pod (e2e/bench_idle_test.go)

` + "`TestBenchIdleRoles`" + `: the footprint's idle 5-node lab, each agent's CPU
over the window by its role. ` + "`TestBenchIdlePods`" + `: a 1-node lab with 0, then
30, then 100 pods of ` + "`sleep`" + ` running, the agent's, containerd's and the
shims' CPU over the window (issue 30's goal: 0.05 % of a core per pod,
agent and containerd together). docs/performance.md says where it goes.

`
