package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchIdleRoles: on a 5-node lab, each agent's CPU over the idle
// window by its role (the leader, a follower seat, a client): where the
// footprint benchmark's fleet total goes (docs/performance.md).
func TestBenchIdleRoles(t *testing.T) {
	requireBench(t)
	for run := 1; run <= benchRuns(t, 3); run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			f := startFleet(t, labName("bi"), "--nodes", "5")
			time.Sleep(20 * time.Second) // past the start-up work, as the footprint benchmark
			roles := f.roles()
			window := cpuWindow(t)
			cpu0, wall0 := f.agentCPUByNode(), time.Now()
			time.Sleep(window)
			cpu1, wall := f.agentCPUByNode(), time.Since(wall0)
			by := map[string][]float64{}
			for name, c := range cpu1 {
				by[roles[name]] = append(by[roles[name]], 100*(c-cpu0[name]).Seconds()/wall.Seconds())
			}
			rec := map[string]any{"nodes": 5, "window_s": seconds(wall), "rss_mb": f.agentMem("VmRSS")}
			for role, pcts := range by {
				rec[role+"_cpu_percent_of_one_core"] = median(pcts)
			}
			record(t, "idle-roles", rec)
		})
	}
}

// TestBenchIdlePods: on a 1-node lab, the agent's and containerd's CPU
// (containerd and its shims) over the idle window with 0, 30 and 100 pods
// running: the idle cost of one pod (issue 30's goal: 0.05 % of a core,
// agent and containerd together).
func TestBenchIdlePods(t *testing.T) {
	requireBench(t)
	for run := 1; run <= benchRuns(t, 3); run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			f := startFleet(t, labName("bq"), "--nodes", "1", "--node-memory", "3Gi")
			f.importBusybox()
			time.Sleep(15 * time.Second)
			const app = "idle"
			for _, pods := range []int{0, 30, 100} {
				if pods > 0 {
					f.apply(benchRC(app, pods, "16Mi"))
					f.waitAppRunning(app, pods, nil, time.Now())
					time.Sleep(15 * time.Second) // past the starts and their status reports
				}
				agent, containerd, shims, wall := f.idleCPU(cpuWindow(t))
				record(t, fmt.Sprintf("idle-pods-%d", pods), map[string]any{
					"pods": pods, "window_s": seconds(wall),
					"agent_cpu_percent_of_one_core":      agent,
					"containerd_cpu_percent_of_one_core": containerd,
					"shims_cpu_percent_of_one_core":      shims,
					"agent_rss_mb":                       f.agentMem("VmRSS"),
				})
			}
		})
	}
}

// roles names each node's role: leader, follower (a Raft seat) or client.
func (f *fleet) roles() map[string]string {
	f.t.Helper()
	leader := f.waitLeader(nil)
	n, _ := f.labState().Node(leader)
	out, err := exec.Command("curl", "-s", "--max-time", "5", n.APIURL()+"/shoal/v1/raft").Output()
	if err != nil {
		f.t.Fatalf("raft servers from %s: %v", leader, err)
	}
	var v struct {
		Servers []struct {
			ID string `json:"id"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		f.t.Fatalf("raft servers: %v: %s", err, out)
	}
	roles := map[string]string{}
	for _, node := range f.labState().Nodes {
		roles[node.Name] = "client"
	}
	for _, s := range v.Servers {
		roles[s.ID] = "follower"
	}
	roles[leader] = "leader"
	return roles
}

// agentCPUByNode is each agent's user+system time.
func (f *fleet) agentCPUByNode() map[string]time.Duration {
	f.t.Helper()
	out := map[string]time.Duration{}
	for _, n := range f.labState().Nodes {
		d, err := procCPU(n.PID)
		if err != nil {
			f.t.Fatalf("agent %s: %v", n.Name, err)
		}
		out[n.Name] = d
	}
	return out
}

// idleCPU measures over window the CPU, in % of one core, of the lab's
// agents, of its containerd and of its containerd's shims running then.
func (f *fleet) idleCPU(window time.Duration) (agent, containerd, shims float64, wall time.Duration) {
	f.t.Helper()
	l := f.labState()
	if l.ContainerdPID == 0 {
		f.t.Fatal("the lab runs no containerd of its own to measure")
	}
	// Only this lab's shims: other labs and the package tests on the
	// machine run shims too, and one ending during the window made the
	// sum negative.
	shimPIDs := shimsOf(l.Containerd)
	sum := func(pids []int) time.Duration {
		var total time.Duration
		for _, pid := range pids {
			if d, err := procCPU(pid); err == nil {
				total += d
			}
		}
		return total
	}
	a0, c0, s0, t0 := f.agentCPU(), sum([]int{l.ContainerdPID}), sum(shimPIDs), time.Now()
	time.Sleep(window)
	a1, c1, s1 := f.agentCPU(), sum([]int{l.ContainerdPID}), sum(shimPIDs)
	wall = time.Since(t0)
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	return pct(a1 - a0), pct(c1 - c0), pct(s1 - s0), wall
}

// shimsOf lists the containerd shims serving the containerd at address
// (each is started with "-address" and its socket).
func shimsOf(address string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "containerd-shim") {
			continue
		}
		args, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && slices.Contains(strings.Split(string(args), "\x00"), address) {
			out = append(out, pid)
		}
	}
	return out
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
