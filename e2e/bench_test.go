package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// The lab benchmarks (make bench-lab) run only with SHOAL_BENCH=1 on top
// of SHOAL_E2E=1: they take minutes and measure, they do not assert
// speed. Each result is one JSON line appended to $SHOAL_BENCH_OUT, which
// bench/run.sh turns into BENCHMARKS.md.

const benchWait = 3 * time.Minute

func requireBench(t *testing.T) {
	t.Helper()
	requireE2E(t)
	if os.Getenv("SHOAL_BENCH") != "1" {
		t.Skip("set SHOAL_BENCH=1 to run the lab benchmarks")
	}
}

// benchRuns is how many times each measurement repeats (SHOAL_BENCH_RUNS).
func benchRuns(t *testing.T, def int) int {
	if s := os.Getenv("SHOAL_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SHOAL_BENCH_RUNS=%q: want a positive integer", s)
		}
		return n
	}
	return def
}

// record logs one measurement and appends it to $SHOAL_BENCH_OUT.
func record(t *testing.T, bench string, fields map[string]any) {
	t.Helper()
	fields["bench"] = bench
	line, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("result %s", line)
	out := os.Getenv("SHOAL_BENCH_OUT")
	if out == "" {
		return
	}
	fh, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("open %s: %v", out, err)
	}
	defer fh.Close()
	if _, err := fh.Write(append(line, '\n')); err != nil {
		t.Fatalf("write %s: %v", out, err)
	}
}

func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1)+0.5)]
}

func benchRC(name string, replicas int, mem string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ReplicationController
metadata: {name: %[1]s}
spec:
  replicas: %[2]d
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers:
      - name: c
        image: %[3]s
        command: ["sleep", "100000"]
        resources: {requests: {memory: %[4]s}}
`, name, replicas, image, mem)
}

// podsOf lists the pods labelled app=app, asking the first live node that
// answers.
func (f *fleet) podsOf(app string, down map[string]bool) ([]api.Pod, error) {
	var lastErr error
	for _, node := range f.liveNodes(down) {
		out, err := f.tryOn(node, "get", "pods", "-l", "app="+app, "-o", "json")
		if err != nil {
			lastErr = fmt.Errorf("%v: %s", err, out)
			continue
		}
		var l api.PodList
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			return nil, fmt.Errorf("decode pods: %w", err)
		}
		return l.Items, nil
	}
	return nil, lastErr
}

// waitAppRunning polls every 100ms until want pods of app run, none on a
// node in down, and returns when each pod name was first seen Running,
// measured from start.
func (f *fleet) waitAppRunning(app string, want int, down map[string]bool, start time.Time) map[string]time.Duration {
	f.t.Helper()
	seen := map[string]time.Duration{}
	var last string
	for time.Since(start) < benchWait {
		pods, err := f.podsOf(app, down)
		now := time.Since(start)
		if err != nil {
			last = err.Error()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		ok := len(pods) == want
		var desc []string
		for i := range pods {
			p := &pods[i]
			desc = append(desc, p.ObjectMeta.Name+"="+string(p.Status.Phase)+"@"+p.Spec.NodeName)
			if running(p) && !down[p.Spec.NodeName] {
				if _, dup := seen[p.ObjectMeta.Name]; !dup {
					seen[p.ObjectMeta.Name] = now
				}
			} else {
				ok = false
			}
		}
		if ok {
			return seen
		}
		last = strings.Join(desc, " ")
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("%d pods of %s never all Running off %v; last: %s", want, app, keys(down), last)
	return nil
}

func (f *fleet) waitAppGone(app string) {
	f.t.Helper()
	deadline := time.Now().Add(benchWait)
	for time.Now().Before(deadline) {
		pods, err := f.podsOf(app, nil)
		if err == nil && len(pods) == 0 {
			if c, err := f.containerdCounts(nil); err == nil && total(c) == 0 {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	f.t.Fatalf("pods of %s never went away", app)
}

// TestBenchPodStart: on a 3-node lab, apply one RC of 30 pods and time
// each pod from the apply to Running (first seen so by polling every
// 100ms), and the whole set; the RC is deleted between runs.
func TestBenchPodStart(t *testing.T) {
	requireBench(t)
	f := startFleet(t, labName("bs"), "--nodes", "3")
	f.importBusybox()
	const replicas = 30
	for run := 1; run <= benchRuns(t, 3); run++ {
		app := fmt.Sprintf("start%d", run)
		start := time.Now()
		f.apply(benchRC(app, replicas, "16Mi"))
		seen := f.waitAppRunning(app, replicas, nil, start)
		recordStart(t, "pod-start", run, replicas, 3, seen, time.Since(start))
		f.run("delete", "rc", app)
		f.waitAppGone(app)
	}
}

// TestBenchFailover: on a 4-node lab (3 Raft seats and a client), kill a
// node that runs replicas of an 8-pod RC, never n1 (the CLI's) nor the
// leader, and time from the kill until the RC's 8 pods run elsewhere. The
// node is healed and Ready again before the next round.
func TestBenchFailover(t *testing.T) {
	requireBench(t)
	// The defaults, and the grace cut to 1 s: the setting a chaos tester
	// turns first, measured beside Swarm's tuned heartbeat (ref_swarm_test.go).
	for _, v := range []struct{ bench, grace string }{{"failover", ""}, {"failover_grace1s", "1s"}} {
		t.Run(v.bench, func(t *testing.T) {
			args := []string{"--nodes", "4"}
			if v.grace != "" {
				args = append(args, "--agent-arg=--node-grace="+v.grace)
			}
			benchFailover(t, v.bench, args)
		})
	}
}

func benchFailover(t *testing.T, bench string, labArgs []string) {
	f := startFleet(t, labName("bf"), labArgs...)
	f.importBusybox()
	const app, replicas = "failover", 8
	f.apply(benchRC(app, replicas, "16Mi"))
	f.waitAppRunning(app, replicas, nil, time.Now())
	for run := 1; run <= benchRuns(t, 5); run++ {
		victim := f.failoverVictim(app)
		start := time.Now()
		f.run("lab", "kill", f.name, victim, "--state-root", f.stateRoot)
		dead := map[string]bool{victim: true}
		detected := f.waitNodeNotReady(victim, dead, start)
		f.waitAppRunning(app, replicas, dead, start)
		took := time.Since(start)
		record(t, bench, map[string]any{
			"run": run, "node": victim, "pods": replicas, "seconds": seconds(took), "not_ready_s": seconds(detected),
		})
		f.run("lab", "heal", f.name, victim, "--state-root", f.stateRoot)
		f.waitNodeReady(victim)
		f.waitAppRunning(app, replicas, nil, time.Now())
	}
}

// waitNodeNotReady polls every 100ms until a live node reports node's
// Ready condition not True, and returns how long after start that was.
func (f *fleet) waitNodeNotReady(node string, down map[string]bool, start time.Time) time.Duration {
	f.t.Helper()
	for time.Since(start) < benchWait {
		if ready, known := f.nodeReady(node, down); known && !ready {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("node %s never reported not Ready", node)
	return 0
}

// failoverVictim is the node, other than n1 and the leader, running the
// most replicas of app (so every kill forces replacements).
func (f *fleet) failoverVictim(app string) string {
	f.t.Helper()
	pods, err := f.podsOf(app, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	leader := f.waitLeader(nil)
	counts := map[string]int{}
	for _, p := range pods {
		counts[p.Spec.NodeName]++
	}
	best := ""
	for _, n := range f.liveNodes(map[string]bool{"n1": true, leader: true}) {
		if counts[n] > counts[best] {
			best = n
		}
	}
	if best == "" {
		f.t.Fatalf("no node but n1 and the leader %s runs replicas: %v", leader, counts)
	}
	return best
}

// TestBenchNetwork: TCP throughput and round trips between two pods on
// different nodes of a 3-node lab, and with the same tool between two
// bare network namespaces joined by one veth pair: the cost of the pod
// network is the ratio. The tool (bench/netbench) is built static and
// packaged as an image, so in the lab it runs inside the pods via `shoal
// exec`, and in the baseline inside the namespaces via `ip netns exec`.
func TestBenchNetwork(t *testing.T) {
	requireBench(t)
	f, srv, tool := startNetbenchLab(t, labName("bn"), "")
	netbenchRuns(t, "network", tool, srv.Status.PodIP+":5201", func(args ...string) map[string]float64 {
		return parseTool(t, f.run(append([]string{"exec", "nbcli", "--", "/bin/busybox"}, args...)...))
	})
}

// vethPair is two network namespaces of this test joined by one veth pair
// with a /30 between them: nothing else, no route outside.
type vethPair struct{ a, b, ipA, ipB string }

func newVethPair(t *testing.T) vethPair {
	t.Helper()
	tag := fmt.Sprint(os.Getpid() % 100000)
	p := vethPair{a: "sbench-a" + tag, b: "sbench-b" + tag, ipA: "10.253.77.1", ipB: "10.253.77.2"}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", p.a)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.a).Run() })
	ip("netns", "add", p.b)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.b).Run() })
	ip("-n", p.a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", p.b)
	ip("-n", p.a, "addr", "add", p.ipA+"/30", "dev", "va")
	ip("-n", p.b, "addr", "add", p.ipB+"/30", "dev", "vb")
	for _, ns := range []string{p.a, p.b} {
		ip("-n", ns, "link", "set", "lo", "up")
	}
	ip("-n", p.a, "link", "set", "va", "up")
	ip("-n", p.b, "link", "set", "vb", "up")
	return p
}

// TestBenchFootprint: on a 5-node lab, each agent's resident memory when
// idle and the CPU the idle fleet's agents (gossip, Raft, reconcilers)
// use over a minute; then the agents' memory with 50 pods running.
func TestBenchFootprint(t *testing.T) {
	requireBench(t)
	// Each run is a fresh lab, taken down (the subtest's cleanup) before
	// the next starts, so no other fleet's work lands in the CPU window.
	for run := 1; run <= benchRuns(t, 3); run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			benchFootprintOnce(t)
		})
	}
}

// benchFootprintOnce measures one fresh 5-node lab: idle RSS and CPU, then
// RSS with 50 pods.
func benchFootprintOnce(t *testing.T) {
	f := startFleet(t, labName("bp"), "--nodes", "5")
	f.importBusybox()
	// Idle means past the start-up work (image import, first elections
	// and registrations): let the fleet settle before measuring.
	time.Sleep(20 * time.Second)
	idle, idleAnon, idleFile := f.agentMem("VmRSS"), f.agentMem("RssAnon"), f.agentMem("RssFile")
	window := cpuWindow(t)
	cpu0, wall0 := f.agentCPU(), time.Now()
	time.Sleep(window)
	cpu := f.agentCPU() - cpu0
	wall := time.Since(wall0)
	record(t, "footprint-idle", map[string]any{
		"nodes": 5, "rss_mb": idle, "rss_anon_mb": idleAnon, "rss_file_mb": idleFile, "cpu_seconds": seconds(cpu), "window_s": seconds(wall),
		"cpu_percent_of_one_core": 100 * cpu.Seconds() / wall.Seconds(),
	})
	const app, replicas = "foot", 50
	f.apply(benchRC(app, replicas, "16Mi"))
	f.waitAppRunning(app, replicas, nil, time.Now())
	time.Sleep(10 * time.Second)
	record(t, "footprint-50pods", map[string]any{
		"nodes": 5, "pods": replicas,
		"rss_mb": f.agentMem("VmRSS"), "rss_anon_mb": f.agentMem("RssAnon"), "rss_file_mb": f.agentMem("RssFile"),
	})
}

// agentMem reads one memory line of /proc/PID/status (MB) of every node's
// agent process, by node: VmRSS is RssAnon (heap, stacks: the agent's own)
// plus RssFile (pages of the shoal binary, shared by every process running
// it on the machine).
func (f *fleet) agentMem(field string) map[string]float64 {
	f.t.Helper()
	out := map[string]float64{}
	for _, n := range f.labState().Nodes {
		mb, err := procMemMB(n.PID, field)
		if err != nil {
			f.t.Fatalf("agent %s: %v", n.Name, err)
		}
		out[n.Name] = mb
	}
	return out
}

// agentCPU sums user and system time of every node's agent process from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func (f *fleet) agentCPU() time.Duration {
	f.t.Helper()
	var total time.Duration
	for _, n := range f.labState().Nodes {
		d, err := procCPU(n.PID)
		if err != nil {
			f.t.Fatalf("agent %s: %v", n.Name, err)
		}
		total += d
	}
	return total
}
