package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/deploy/lab"
)

const chaosReplicas = 6

const chaosRC = `apiVersion: v1
kind: ReplicationController
metadata: {name: chaos}
spec:
  replicas: 6
  template:
    metadata: {labels: {app: chaos}}
    spec:
      containers:
      - name: c
        image: ` + image + `
        command: ["sleep", "100000"]
        resources: {requests: {memory: 32Mi}}
`

// chaosWait bounds every wait of the chaos tests: a broken fleet, not a
// speed assertion (the time to replacement is logged, not asserted).
const chaosWait = 90 * time.Second

// TestChaos is the chaos
// scenario on one 4-node fleet (servers n1-n3, client n4), one fault after
// the other, each checked from the state and from containerd on every node.
func TestChaos(t *testing.T) {
	f := startFleet(t, labName("pc"), "--nodes", "4", "--node-memory", "1Gi")
	f.importBusybox()
	f.apply(chaosRC)
	f.waitReplicas(nil, "all replicas Running")
	f.waitContainerd(nil, chaosReplicas)

	// 1. Kill the client node: its replicas are replaced on live nodes.
	sockets := lab.ShimSocketsOfNode(f.name, "n4")
	start := time.Now()
	f.run("lab", "kill", f.name, "n4", "--state-root", f.stateRoot)
	dead := map[string]bool{"n4": true}
	for _, s := range sockets {
		if _, err := os.Stat(s); err == nil {
			t.Errorf("lab kill left the shim socket %s in the host's /run", s)
		}
	}
	f.waitReplicas(dead, "replacements Running after killing n4")
	t.Logf("kill n4 -> %d replicas Running elsewhere after %v", chaosReplicas, time.Since(start).Round(100*time.Millisecond))
	f.waitContainerd(dead, chaosReplicas)
	// It powers back on: whatever it ran before is not bound to it any more.
	f.run("lab", "heal", f.name, "n4", "--state-root", f.stateRoot)
	f.waitNodeReady("n4")
	f.waitContainerd(nil, chaosReplicas)
	f.holdContainerd(chaosReplicas)

	// 1b. Scaled up, the client n4 gets replicas again; cut off, it stops
	// them itself (self-fencing) while the fleet replaces them, and after
	// the heal exactly the desired count runs.
	const more = 10
	f.run("scale", "rc", "chaos", "--replicas", fmt.Sprint(more))
	f.waitReplicasN(nil, more, "scaled up")
	f.waitContainerd(nil, more)
	if counts, err := f.containerdCounts(nil); err != nil || counts["n4"] == 0 {
		t.Logf("n4 got no replica (%v, %v): client partition skipped", counts, err)
	} else {
		start = time.Now()
		f.run("lab", "partition", f.name, "n4", "--state-root", f.stateRoot)
		cut := map[string]bool{"n4": true}
		f.waitReplicasN(cut, more, "replacements Running while client n4 is cut off")
		t.Logf("partition client n4 -> replacements Running after %v", time.Since(start).Round(100*time.Millisecond))
		waitFor(t, "n4 stopped its replicas itself", func() bool {
			counts, err := f.containerdCounts(nil)
			return err == nil && counts["n4"] == 0
		})
		f.run("lab", "heal", f.name, "n4", "--state-root", f.stateRoot)
		f.waitNodeReady("n4")
		f.waitContainerd(nil, more)
		f.holdContainerd(more)
	}
	f.run("scale", "rc", "chaos", "--replicas", fmt.Sprint(chaosReplicas))
	f.waitReplicas(nil, "scaled back")
	f.waitContainerd(nil, chaosReplicas)

	// 2. Kill the leader: a new one is elected and the count stays.
	leader := f.leader(nil)
	start = time.Now()
	f.run("lab", "kill", f.name, leader, "--state-root", f.stateRoot)
	dead = map[string]bool{leader: true}
	newLeader := f.waitLeader(dead)
	t.Logf("kill leader %s -> new leader %s after %v", leader, newLeader, time.Since(start).Round(100*time.Millisecond))
	f.waitReplicas(dead, "replicas Running after killing the leader")
	f.waitContainerd(dead, chaosReplicas)
	f.run("lab", "heal", f.name, leader, "--state-root", f.stateRoot)
	f.waitNodeReady(leader)
	f.waitContainerd(nil, chaosReplicas)

	// 3. Partition a node that runs replicas (not the one the CLI asks),
	// then heal: exactly the desired count runs fleet-wide.
	victim := f.nodeWithReplicas()
	start = time.Now()
	f.run("lab", "partition", f.name, victim, "--state-root", f.stateRoot)
	cut := map[string]bool{victim: true}
	f.waitReplicas(cut, "replacements Running while "+victim+" is cut off")
	t.Logf("partition %s -> replacements Running after %v", victim, time.Since(start).Round(100*time.Millisecond))
	f.run("lab", "heal", f.name, victim, "--state-root", f.stateRoot)
	f.waitNodeReady(victim)
	f.waitContainerd(nil, chaosReplicas)
	f.holdContainerd(chaosReplicas)
}

// labState is the lab's state file: node addresses and containerd.
func (f *fleet) labState() *lab.Lab {
	f.t.Helper()
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

// tryOn runs the CLI against the agent of node.
func (f *fleet) tryOn(node string, args ...string) (string, error) {
	n, err := f.labState().Node(node)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(f.bin, args...)
	cmd.Env = append(append(os.Environ(), f.env...), "SHOAL_ADDR="+n.APIURL())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// liveNodes lists the lab's nodes not in down, by name.
func (f *fleet) liveNodes(down map[string]bool) []string {
	var out []string
	for _, n := range f.labState().Nodes {
		if !down[n.Name] {
			out = append(out, n.Name)
		}
	}
	return out
}

// replicaPods reads the RC's pods from the first live node that answers.
func (f *fleet) replicaPods(down map[string]bool) ([]api.Pod, error) {
	return f.podsOf("chaos", down) // e2e/bench_test.go
}

// waitReplicas waits until exactly chaosReplicas pods of the RC exist, all
// Running, none on a node in down.
func (f *fleet) waitReplicas(down map[string]bool, what string) {
	f.t.Helper()
	f.waitReplicasN(down, chaosReplicas, what)
}

// waitReplicasN waits until exactly want pods of the RC exist, all
// Running, none on a node in down.
func (f *fleet) waitReplicasN(down map[string]bool, want int, what string) {
	f.t.Helper()
	var last string
	deadline := time.Now().Add(chaosWait)
	for time.Now().Before(deadline) {
		pods, err := f.replicaPods(down)
		if err == nil {
			ok := len(pods) == want
			var desc []string
			for i := range pods {
				p := &pods[i]
				desc = append(desc, p.ObjectMeta.Name+"="+string(p.Status.Phase)+"@"+p.Spec.NodeName)
				if !running(p) || down[p.Spec.NodeName] {
					ok = false
				}
			}
			if ok {
				return
			}
			last = strings.Join(desc, " ")
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	f.t.Fatalf("never reached %s: %d replicas Running off %v; last: %s", what, want, keys(down), last)
}

// containerdCounts counts the running tasks of every live node's
// containerd namespace: what really runs, whatever the state says.
func (f *fleet) containerdCounts(down map[string]bool) (map[string]int, error) {
	l := f.labState()
	counts := map[string]int{}
	for _, node := range f.liveNodes(down) {
		ns := "shoal-" + l.Name + "-" + node
		out, err := exec.Command("ctr", "-a", l.Containerd, "-n", ns, "tasks", "ls").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("ctr tasks ls in %s: %v: %s", ns, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "RUNNING") {
				counts[node]++
			}
		}
	}
	return counts, nil
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// waitContainerd waits until the live nodes' containerds run want tasks in all.
func (f *fleet) waitContainerd(down map[string]bool, want int) {
	f.t.Helper()
	var last map[string]int
	var lastErr error
	deadline := time.Now().Add(chaosWait)
	for time.Now().Before(deadline) {
		counts, err := f.containerdCounts(down)
		if err == nil && total(counts) == want {
			return
		}
		last, lastErr = counts, err
		time.Sleep(500 * time.Millisecond)
	}
	f.t.Fatalf("containerd never ran %d replicas fleet-wide: last %v (err %v)", want, last, lastErr)
}

// holdContainerd checks that the count, once reached, stays: no replica
// comes back to life a moment later on a healed node.
func (f *fleet) holdContainerd(want int) {
	f.t.Helper()
	for i := 0; i < 10; i++ {
		counts, err := f.containerdCounts(nil)
		if err != nil {
			f.t.Fatal(err)
		}
		if total(counts) != want {
			f.t.Fatalf("fleet-wide replicas moved away from %d: %v", want, counts)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// clusterView is GET /shoal/v1/cluster of one agent.
type clusterView struct {
	Leader string `json:"leader"`
}

// leader asks the live servers who leads; "" when none knows.
func (f *fleet) leader(down map[string]bool) string {
	for _, node := range f.liveNodes(down) {
		n, _ := f.labState().Node(node)
		out, err := exec.Command("curl", "-s", "--max-time", "2", n.APIURL()+"/shoal/v1/cluster").Output()
		if err != nil {
			continue
		}
		var v clusterView
		if json.Unmarshal(out, &v) == nil && v.Leader != "" && !down[v.Leader] {
			return v.Leader
		}
	}
	return ""
}

func (f *fleet) waitLeader(down map[string]bool) string {
	f.t.Helper()
	deadline := time.Now().Add(chaosWait)
	for time.Now().Before(deadline) {
		if l := f.leader(down); l != "" {
			return l
		}
		time.Sleep(300 * time.Millisecond)
	}
	f.t.Fatalf("no new leader outside %v", keys(down))
	return ""
}

func (f *fleet) waitNodeReady(node string) {
	f.t.Helper()
	waitFor(f.t, "node "+node+" Ready", func() bool {
		ready, known := f.nodeReady(node, nil)
		return known && ready
	})
}

// nodeReady is node's Ready condition as the first live agent (not in
// down) that answers reports it; known is false when none answered.
func (f *fleet) nodeReady(node string, down map[string]bool) (ready, known bool) {
	for _, asker := range f.liveNodes(down) {
		out, err := f.tryOn(asker, "get", "node", node, "-o", "json")
		if err != nil {
			continue
		}
		var n api.Node
		if json.Unmarshal([]byte(out), &n) != nil {
			continue
		}
		for _, c := range n.Status.Conditions {
			ready = ready || (c.Type == "Ready" && c.Status == "True")
		}
		return ready, true
	}
	return false, false
}

// nodeWithReplicas picks a node that runs replicas and is not n1 (the
// node SHOAL_ADDR points at), preferring the one with most.
func (f *fleet) nodeWithReplicas() string {
	f.t.Helper()
	counts, err := f.containerdCounts(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	best, most := "", 0
	for _, node := range f.liveNodes(map[string]bool{"n1": true}) {
		if counts[node] > most {
			best, most = node, counts[node]
		}
	}
	if best == "" {
		f.t.Fatalf("no node but n1 runs replicas: %v", counts)
	}
	return best
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestChaosSeats kills two of the three servers of a 5-node fleet, one
// after the other: each time the leader removes the dead server from Raft
// and promotes a client, so the fleet is back to 3 voters and keeps
// placing pods.
func TestChaosSeats(t *testing.T) {
	f := startFleet(t, labName("pcs"), "--nodes", "5", "--node-memory", "1Gi")
	f.importBusybox()
	f.apply(strings.Replace(chaosRC, "replicas: 6", "replicas: 3", 1))
	dead := map[string]bool{}
	voters := f.waitVoters(dead, 3)
	// First a follower, then (with time between) the leader.
	var follower string
	leader := f.waitLeader(dead)
	for _, v := range voters {
		if v != leader {
			follower = v
			break
		}
	}
	for i, victim := range []string{follower, ""} {
		if victim == "" {
			victim = f.waitLeader(dead)
		}
		start := time.Now()
		f.run("lab", "kill", f.name, victim, "--state-root", f.stateRoot)
		dead[victim] = true
		got := f.waitVoters(dead, 3)
		t.Logf("kill %d: server %s -> voters %v after %v", i+1, victim, got, time.Since(start).Round(100*time.Millisecond))
	}
	f.waitLeader(dead)
	f.waitReplicaCount(dead, 3)

	// A promoted agent that loses power comes back with its seat (its
	// command line still says client).
	got := f.waitVoters(dead, 3)
	var promoted string
	for _, v := range got {
		if v == "n4" || v == "n5" {
			promoted = v
		}
	}
	if promoted == "" {
		t.Fatalf("no client was promoted: voters %v", got)
	}
	f.run("lab", "kill", f.name, promoted, "--state-root", f.stateRoot)
	f.run("lab", "heal", f.name, promoted, "--state-root", f.stateRoot)
	waitFor(t, promoted+" back with its Raft seat", func() bool {
		n, _ := f.labState().Node(promoted)
		out, err := exec.Command("curl", "-s", "--max-time", "2", n.APIURL()+"/shoal/v1/cluster").Output()
		var v struct {
			Server bool `json:"server"`
		}
		return err == nil && json.Unmarshal(out, &v) == nil && v.Server
	})
	got = f.waitVoters(dead, 3)
	t.Logf("killed and restarted promoted %s -> voters %v", promoted, got)
	f.waitNodeReady(promoted)
	f.waitReplicaCount(dead, 3)

	// The smaller fleet still scales and deletes through the CLI.
	live := f.liveNodes(dead)[0]
	cli := func(args ...string) string {
		out, err := f.tryOn(live, args...)
		if err != nil {
			t.Fatalf("shoal %v: %v\n%s", args, err, out)
		}
		return out
	}
	cli("scale", "rc", "chaos", "--replicas", "5")
	f.waitReplicaCount(dead, 5)
	if out := cli("get", "rc", "chaos"); !strings.Contains(strings.Join(strings.Fields(out), " "), "chaos 5 5 5") {
		t.Fatalf("get rc: want DESIRED CURRENT READY 5 5 5:\n%s", out)
	}
	cli("delete", "rc", "chaos")
	f.waitReplicaCount(dead, 0)
	f.waitContainerd(dead, 0)
}

// raftView is GET /shoal/v1/raft.
type raftView struct {
	Leader  string `json:"leader"`
	Servers []struct {
		ID       string `json:"id"`
		Suffrage string `json:"suffrage"`
	} `json:"servers"`
}

// waitVoters waits until a live agent reports a Raft configuration of
// exactly want voters, none of them in down, and returns them.
func (f *fleet) waitVoters(down map[string]bool, want int) []string {
	f.t.Helper()
	var last string
	deadline := time.Now().Add(chaosWait)
	for time.Now().Before(deadline) {
		for _, node := range f.liveNodes(down) {
			n, _ := f.labState().Node(node)
			out, err := exec.Command("curl", "-s", "--max-time", "2", n.APIURL()+"/shoal/v1/raft").Output()
			if err != nil {
				continue
			}
			var v raftView
			if json.Unmarshal(out, &v) != nil || v.Leader == "" {
				last = string(out)
				continue
			}
			var voters []string
			ok := true
			for _, s := range v.Servers {
				if s.Suffrage == "Voter" {
					voters = append(voters, s.ID)
					ok = ok && !down[s.ID]
				}
			}
			last = string(out)
			if ok && len(voters) == want {
				return voters
			}
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	f.t.Fatalf("never %d voters outside %v; last: %s", want, keys(down), last)
	return nil
}

// waitReplicaCount waits until want replicas run, none on a node in down.
func (f *fleet) waitReplicaCount(down map[string]bool, want int) {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("%d replicas Running", want), func() bool {
		pods, err := f.replicaPods(down)
		if err != nil || len(pods) != want {
			return false
		}
		for i := range pods {
			if !running(&pods[i]) || down[pods[i].Spec.NodeName] {
				return false
			}
		}
		return true
	})
}
