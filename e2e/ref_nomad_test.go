package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The Nomad reference benchmarks (bench/run.sh ref with nomad in
// REF_PEERS): shoal's lab benchmarks measured again on Nomad v2.0.5 built
// from source (bench/nomad-build.sh), in the same namespaces, through the
// same helpers, under bench names starting "nomad_". They run only with
// SHOAL_E2E=1 SHOAL_BENCH=1 SHOAL_BENCH_REF=1 and a Nomad binary.

// TestRefNomadStart is TestBenchPodStart on Nomad: 3 agents (server and
// client each), one service job of 30 allocations of `busybox sleep`
// (raw_exec), timed from `nomad job run` to each allocation and all
// running (polled every 100ms); the job is purged between runs.
func TestRefNomadStart(t *testing.T) {
	bin := requireRefNomad(t)
	l := newNomadLab(t, bin, "s", 3, 3, false)
	const count = 30
	for run := 1; run <= benchRuns(t, 3); run++ {
		id := fmt.Sprintf("start%d", run)
		start := time.Now()
		l.runJob(id, count)
		seen := l.waitAllocsRunning(id, count, nil, start)
		recordStart(t, "nomad_start", run, count, 3, seen, time.Since(start))
		l.stopJob(id)
		l.waitNoTasks()
	}
}

// TestRefNomadFailover is TestBenchFailover on Nomad: 4 agents (3 servers
// that are clients too, 1 client), a job of 8 allocations; kill the node
// other than n1 and the leader that runs most of them (its agent, its
// tasks and its link at once) and time until the 8 run elsewhere. The node
// comes back and is ready before the next round. Two settings, each on a
// fresh lab: Nomad's defaults (nomad_failover: a client is down after its
// heartbeat TTL, at least min_heartbeat_ttl 10s, plus heartbeat_grace
// 10s), and both cut to 1s (nomad_failover_tuned), as a chaos tester
// would.
func TestRefNomadFailover(t *testing.T) {
	bin := requireRefNomad(t)
	for _, phase := range []struct {
		bench string
		tuned bool
	}{{"nomad_failover", false}, {"nomad_failover_tuned", true}} {
		t.Run(phase.bench, func(t *testing.T) {
			l := newNomadLab(t, bin, "f", 4, 3, phase.tuned)
			const count = 8
			id := "failover"
			l.runJob(id, count)
			l.waitAllocsRunning(id, count, nil, time.Now())
			for run := 1; run <= benchRuns(t, 5); run++ {
				victim := l.nomadVictim(id)
				start := time.Now()
				l.kill(victim)
				dead := map[string]bool{victim.name: true}
				detected := l.waitNodeDown(victim, start)
				l.waitAllocsRunning(id, count, dead, start)
				took := time.Since(start)
				record(t, phase.bench, map[string]any{
					"run": run, "node": victim.name, "pods": count, "seconds": seconds(took), "not_ready_s": seconds(detected),
					"tuned": phase.tuned,
				})
				l.healAgent(victim)
				l.waitNodesReady(nil)
				l.waitAllocsRunning(id, count, nil, time.Now())
			}
		})
	}
}

// nomadVictim is the node, other than n1 and the leader, running the most
// allocations of job id.
func (l *nomadLab) nomadVictim(id string) *swarmNode {
	l.t.Helper()
	as, err := l.allocs(id)
	if err != nil {
		l.t.Fatal(err)
	}
	leader := l.leaderName()
	counts := map[string]int{}
	for _, a := range as {
		if a.DesiredStatus == "run" && a.ClientStatus == "running" {
			counts[a.NodeName]++
		}
	}
	var best *swarmNode
	for _, nd := range l.nodes[1:] {
		if nd.name != leader && counts[nd.name] > 0 && (best == nil || counts[nd.name] > counts[best.name]) {
			best = nd
		}
	}
	if best == nil {
		l.t.Fatalf("no node but n1 and the leader %s runs allocations: %v", leader, counts)
	}
	return best
}

// TestRefNomadFootprint is TestBenchFootprint on Nomad: a fresh 5-node
// lab (3 servers that are clients too, 2 clients), each agent's resident
// memory when idle and the CPU the idle agents use over the window, then
// with 50 allocations running.
func TestRefNomadFootprint(t *testing.T) {
	bin := requireRefNomad(t)
	for run := 1; run <= benchRuns(t, 3); run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			l := newNomadLab(t, bin, "p", 5, 3, false)
			time.Sleep(20 * time.Second) // past the start-up work, as for shoal's lab
			agents := map[string]int{}
			for _, nd := range l.nodes {
				agents[nd.name] = nd.cmd.Process.Pid
			}
			window := cpuWindow(t)
			idle := pidsMem(t, agents, "VmRSS")
			anon, file := pidsMem(t, agents, "RssAnon"), pidsMem(t, agents, "RssFile")
			cpu0, wall0 := pidsCPU(t, agents), time.Now()
			time.Sleep(window)
			cpu, wall := pidsCPU(t, agents)-cpu0, time.Since(wall0)
			record(t, "nomad_footprint-idle", map[string]any{
				"nodes": 5, "rss_mb": idle, "rss_anon_mb": anon, "rss_file_mb": file, "cpu_seconds": seconds(cpu), "window_s": seconds(wall),
				"cpu_percent_of_one_core": 100 * cpu.Seconds() / wall.Seconds(),
			})
			const count = 50
			l.runJob("foot", count)
			l.waitAllocsRunning("foot", count, nil, time.Now())
			time.Sleep(10 * time.Second)
			record(t, "nomad_footprint-50pods", map[string]any{
				"nodes": 5, "pods": count,
				"rss_mb": pidsMem(t, agents, "VmRSS"), "rss_anon_mb": pidsMem(t, agents, "RssAnon"), "rss_file_mb": pidsMem(t, agents, "RssFile"),
				"helpers_anon_mb": l.helpersMem(agents),
			})
		})
	}
}

// helpersMem is, per node, the anonymous resident memory (RssAnon: their
// own, not the nomad binary's pages they share) of the nomad processes
// other than the agent: raw_exec starts an executor and a log monitor
// (each the nomad binary) beside every task, where shoal and Swarm hand a
// task to containerd's shim (not counted on either side).
func (l *nomadLab) helpersMem(agents map[string]int) map[string]float64 {
	l.t.Helper()
	out := map[string]float64{}
	for _, nd := range l.nodes {
		for _, pid := range l.nodePIDs(nd) {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if pid == agents[nd.name] || strings.TrimSpace(string(comm)) != "nomad" {
				continue
			}
			if mb, err := procMemMB(pid, "RssAnon"); err == nil {
				out[nd.name] += mb
			}
		}
	}
	return out
}
