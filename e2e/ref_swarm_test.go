package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Docker Swarm reference benchmarks (bench/run.sh ref, make
// bench-ref): shoal's lab benchmarks measured again on a Swarm of dockerd
// daemons in network namespaces on the same machine, so the report can
// give ratios from one run. Results go through record() like shoal's,
// under bench names starting "swarm_". They run only with SHOAL_E2E=1
// SHOAL_BENCH=1 SHOAL_BENCH_REF=1 and Debian's docker.io installed.

// TestRefSwarmStart is TestBenchPodStart on Swarm: 3 managers, one
// service of 30 replicas (sleep), time from `docker service create` to
// each task and all tasks Running (polled every 100ms); the service is
// removed between runs.
func TestRefSwarmStart(t *testing.T) {
	requireRef(t)
	l := newSwarmLab(t, "s", 3)
	l.formSwarm(3)
	l.loadImage(buildBusybox(t), refImage)
	n1 := l.nodes[0]
	const replicas = 30
	for run := 1; run <= benchRuns(t, 3); run++ {
		svc := fmt.Sprintf("start%d", run)
		start := time.Now()
		l.run(n1, "service", "create", "--detach", "--no-resolve-image", "--name", svc,
			"--replicas", fmt.Sprint(replicas), refImage, "sleep", "100000")
		seen := l.waitServiceRunning(n1, svc, replicas, nil, start)
		recordStart(t, "swarm_start", run, replicas, 3, seen, time.Since(start))
		l.run(n1, "service", "rm", svc)
		l.waitNoContainers(nil)
	}
}

// TestRefSwarmFailover is TestBenchFailover on Swarm: 4 nodes (3 managers
// and a worker), a service of 8 replicas; kill a node running replicas,
// never n1 (the CLI's) nor the leader, and time from the kill until the 8
// replicas run elsewhere. The node is healed and Ready again before the
// next round. Three settings, each with a fresh service:
//   - swarm_failover: Swarm's defaults, what a user gets (dispatcher
//     heartbeat 5s, so a node is Down after 3 missed beats, 15s; a task
//     restarts after a restart delay of 5s);
//   - swarm_failover_hb1s: `docker swarm update --dispatcher-heartbeat 1s`;
//   - swarm_failover_tuned: heartbeat 1s and --restart-delay 0s, the
//     fastest Swarm is told to be.
func TestRefSwarmFailover(t *testing.T) {
	requireRef(t)
	l := newSwarmLab(t, "f", 4)
	l.formSwarm(3)
	l.loadImage(buildBusybox(t), refImage)
	n1 := l.nodes[0]
	const replicas = 8
	for _, phase := range []struct {
		bench, heartbeat string
		args             []string
	}{
		{"swarm_failover", "", nil},
		{"swarm_failover_hb1s", "1s", nil},
		{"swarm_failover_tuned", "1s", []string{"--restart-delay", "0s"}},
	} {
		if hb := phase.heartbeat; hb != "" && l.heartbeat() != hb {
			old, err := time.ParseDuration(l.heartbeat())
			if err != nil {
				t.Fatal(err)
			}
			l.run(n1, "swarm", "update", "--dispatcher-heartbeat", hb)
			// An agent learns the new period from the answer to its next
			// heartbeat, and until it beats again the managers give it
			// the old grace (3 periods); two old periods on, every node
			// runs on the new one.
			time.Sleep(2*old + time.Second)
		}
		heartbeat := l.heartbeat()
		svc := strings.TrimPrefix(phase.bench, "swarm_")
		args := append([]string{"service", "create", "--detach", "--no-resolve-image", "--name", svc,
			"--replicas", fmt.Sprint(replicas)}, phase.args...)
		l.run(n1, append(args, refImage, "sleep", "100000")...)
		l.waitServiceRunning(n1, svc, replicas, nil, time.Now())
		for run := 1; run <= benchRuns(t, 5); run++ {
			victim := l.failoverVictim(svc)
			start := time.Now()
			l.kill(victim)
			dead := map[string]bool{victim.name: true}
			detected := l.waitNodeDown(victim, start)
			l.waitServiceRunning(n1, svc, replicas, dead, start)
			took := time.Since(start)
			record(t, phase.bench, map[string]any{
				"run": run, "node": victim.name, "pods": replicas, "seconds": seconds(took), "not_ready_s": seconds(detected),
				"heartbeat": heartbeat, "restart_delay": restartDelay(phase.args),
			})
			l.heal(victim)
			l.waitNodesReady(nil)
			l.waitServiceRunning(n1, svc, replicas, nil, time.Now())
		}
		l.run(n1, "service", "rm", svc)
		l.waitNoContainers(nil)
	}
}

// heartbeat is the swarm's dispatcher heartbeat period, as Go prints it.
func (l *swarmLab) heartbeat() string {
	l.t.Helper()
	return strings.TrimSpace(l.run(l.nodes[0], "info", "--format", "{{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}"))
}

func restartDelay(args []string) string {
	if i := slices.Index(args, "--restart-delay"); i >= 0 {
		return args[i+1]
	}
	return "5s" // Swarm's default
}

// failoverVictim is the node, other than n1 and the leader, running the
// most replicas of svc (so every kill forces replacements).
func (l *swarmLab) failoverVictim(svc string) *swarmNode {
	l.t.Helper()
	n1 := l.nodes[0]
	ts, err := l.tasks(n1, svc)
	if err != nil {
		l.t.Fatal(err)
	}
	out := l.run(n1, "node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}")
	leader := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "Leader" {
			leader = f[0]
		}
	}
	counts := map[string]int{}
	for _, tk := range ts {
		counts[tk.node]++
	}
	var best *swarmNode
	for _, nd := range l.nodes[1:] {
		if nd.name != leader && counts[nd.name] > 0 && (best == nil || counts[nd.name] > counts[best.name]) {
			best = nd
		}
	}
	if best == nil {
		l.t.Fatalf("no node but n1 and the leader %s runs replicas: %v", leader, counts)
	}
	return best
}

// waitNodeDown polls every 100ms until the managers report nd Down, and
// returns how long after start that was.
func (l *swarmLab) waitNodeDown(nd *swarmNode, start time.Time) time.Duration {
	l.t.Helper()
	for time.Since(start) < refWait {
		if m, err := l.nodeStates(l.nodes[0]); err == nil && m[nd.name] == "Down" {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("swarm never reported %s Down", nd.name)
	return 0
}

// buildBusybox writes the e2e busybox image (Debian's busybox-static
// packaged by shoal's own image builder) as an OCI archive.
func buildBusybox(t *testing.T) string {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "busybox.tar")
	if out, err := exec.Command(shoalBin, "image", "build-busybox", "-o", archive, "--ref", refImage).CombinedOutput(); err != nil {
		t.Fatalf("build busybox image: %v\n%s", err, out)
	}
	return archive
}

// TestRefSwarmNetwork is TestBenchNetwork on Swarm: netbench between two
// tasks on different nodes over a Swarm overlay network (VXLAN), beside
// the same tool between two bare namespaces joined by one veth pair. The
// services use DNS round robin: this kernel has no IPVS, which Swarm's
// virtual IPs need.
func TestRefSwarmNetwork(t *testing.T) {
	requireRef(t)
	const ref = "shoal.local/netbench:1"
	tool, archive := netbenchImage(t, ref)
	l := newSwarmLab(t, "n", 3)
	l.formSwarm(3)
	l.loadImage(archive, ref)
	n1, n2, n3 := l.nodes[0], l.nodes[1], l.nodes[2]
	l.run(n1, "network", "create", "--driver", "overlay", "nb")
	l.run(n1, "service", "create", "--detach", "--no-resolve-image", "--name", "nbsrv", "--network", "nb",
		"--endpoint-mode", "dnsrr", "--constraint", "node.hostname==n2", ref, "/bin/busybox", "serve", ":5201")
	l.run(n1, "service", "create", "--detach", "--no-resolve-image", "--name", "nbcli", "--network", "nb",
		"--endpoint-mode", "dnsrr", "--constraint", "node.hostname==n3", ref, "/bin/busybox", "sleep")
	l.waitServiceRunning(n1, "nbsrv", 1, nil, time.Now())
	l.waitServiceRunning(n1, "nbcli", 1, nil, time.Now())
	srv := l.serviceContainer(n2, "nbsrv")
	cli := l.serviceContainer(n3, "nbcli")
	srvIP := strings.TrimSpace(l.run(n2, "inspect", "--format", "{{(index .NetworkSettings.Networks \"nb\").IPAddress}}", srv))
	target := srvIP + ":5201"
	t.Logf("server task %s on n2 at %s (overlay nb), client task on n3", srv, target)
	netbenchRuns(t, "swarm_network", tool, target, func(args ...string) map[string]float64 {
		var out string
		waitFor(t, "overlay server answers", func() bool {
			var err error
			out, err = l.try(n3, append([]string{"exec", cli, "/bin/busybox"}, args...)...)
			return err == nil
		})
		return parseTool(t, out)
	})
}

// serviceContainer is the id of the one container of svc on nd.
func (l *swarmLab) serviceContainer(nd *swarmNode, svc string) string {
	l.t.Helper()
	ids := strings.Fields(l.run(nd, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc))
	if len(ids) != 1 {
		l.t.Fatalf("want one container of %s on %s, got %v", svc, nd.name, ids)
	}
	return ids[0]
}

// TestRefSwarmFootprint is TestBenchFootprint on Swarm: on a fresh 5-node
// swarm (3 managers, 2 workers) each node's dockerd resident memory when
// idle and the CPU the idle swarm's dockerds use over a minute, then with
// 50 replicas running. dockerd is what compares with a shoal agent (it
// holds the Swarm manager or agent); each node's containerd, which
// shoal's lab shares between its nodes and does not count, is recorded
// beside it (containerd_*).
func TestRefSwarmFootprint(t *testing.T) {
	requireRef(t)
	archive := buildBusybox(t)
	for run := 1; run <= benchRuns(t, 3); run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			refFootprintOnce(t, archive)
		})
	}
}

func refFootprintOnce(t *testing.T, archive string) {
	l := newSwarmLab(t, "p", 5)
	l.formSwarm(3)
	l.loadImage(archive, refImage)
	// Idle means past the start-up work, as for shoal's lab.
	time.Sleep(20 * time.Second)
	dockerd, containerd := l.daemonPIDs()
	window := cpuWindow(t)
	idle, idleCd := pidsMem(t, dockerd, "VmRSS"), pidsMem(t, containerd, "VmRSS")
	idleAnon, idleFile := pidsMem(t, dockerd, "RssAnon"), pidsMem(t, dockerd, "RssFile")
	cpu0, cpuCd0, wall0 := pidsCPU(t, dockerd), pidsCPU(t, containerd), time.Now()
	time.Sleep(window)
	cpu, cpuCd := pidsCPU(t, dockerd)-cpu0, pidsCPU(t, containerd)-cpuCd0
	wall := time.Since(wall0)
	record(t, "swarm_footprint-idle", map[string]any{
		"nodes": 5, "rss_mb": idle, "rss_anon_mb": idleAnon, "rss_file_mb": idleFile, "cpu_seconds": seconds(cpu), "window_s": seconds(wall),
		"cpu_percent_of_one_core": 100 * cpu.Seconds() / wall.Seconds(),
		"containerd_rss_mb":       idleCd, "containerd_cpu_percent_of_one_core": 100 * cpuCd.Seconds() / wall.Seconds(),
	})
	const svc, replicas = "foot", 50
	l.run(l.nodes[0], "service", "create", "--detach", "--no-resolve-image", "--name", svc,
		"--replicas", fmt.Sprint(replicas), refImage, "sleep", "100000")
	l.waitServiceRunning(l.nodes[0], svc, replicas, nil, time.Now())
	time.Sleep(10 * time.Second)
	record(t, "swarm_footprint-50pods", map[string]any{
		"nodes": 5, "pods": replicas,
		"rss_mb": pidsMem(t, dockerd, "VmRSS"), "rss_anon_mb": pidsMem(t, dockerd, "RssAnon"), "rss_file_mb": pidsMem(t, dockerd, "RssFile"),
		"containerd_rss_mb": pidsMem(t, containerd, "VmRSS"),
	})
}

// daemonPIDs are each node's dockerd and managed containerd, by node.
func (l *swarmLab) daemonPIDs() (dockerd, containerd map[string]int) {
	l.t.Helper()
	dockerd, containerd = map[string]int{}, map[string]int{}
	for _, nd := range l.nodes {
		// ip netns exec, unshare and the wrapper's sh each exec the next,
		// so the started process is dockerd itself.
		pid := nd.cmd.Process.Pid
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "dockerd" {
			l.t.Fatalf("process %d of %s is %q, not dockerd", pid, nd.name, comm)
		}
		dockerd[nd.name] = pid
		for _, p := range l.nodePIDs(nd) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.TrimSpace(string(comm)) == "containerd" {
				containerd[nd.name] = p
			}
		}
		if containerd[nd.name] == 0 {
			l.t.Fatalf("no containerd of %s", nd.name)
		}
	}
	return dockerd, containerd
}

func pidsMem(t *testing.T, pids map[string]int, field string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, pid := range pids {
		mb, err := procMemMB(pid, field)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = mb
	}
	return out
}

func pidsCPU(t *testing.T, pids map[string]int) time.Duration {
	t.Helper()
	var total time.Duration
	for name, pid := range pids {
		d, err := procCPU(pid)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		total += d
	}
	return total
}
