package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Issue 25: edge autonomy. Three workloads on four nodes (servers n1-n3,
// the client n4): a Deployment whose pods tolerate
// node.kubernetes.io/unreachable for good, a DaemonSet (its pods get that
// toleration by default) and an RC with shoal's default (none).
const edgeKeep = `apiVersion: apps/v1
kind: Deployment
metadata: {name: keep}
spec:
  replicas: 4
  selector: {matchLabels: {app: keep}}
  template:
    metadata: {labels: {app: keep}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
      containers:
      - name: keep
        image: ` + image + `
        command: ["sh", "-c", "mkdir -p /www && echo keep > /www/index.html && httpd -p 8080 -h /www && exec sleep 100000"]
        resources: {requests: {memory: 32Mi}}
`

const edgeDaemon = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: daemon}
spec:
  selector: {matchLabels: {app: daemon}}
  template:
    metadata: {labels: {app: daemon}}
    spec:
      containers:
      - {name: daemon, image: ` + image + `, command: ["sleep", "100000"], resources: {requests: {memory: 16Mi}}}
`

const edgePlain = `apiVersion: v1
kind: ReplicationController
metadata: {name: plain}
spec:
  replicas: 4
  template:
    metadata: {labels: {app: plain}}
    spec:
      containers:
      - {name: plain, image: ` + image + `, command: ["sleep", "100000"], resources: {requests: {memory: 32Mi}}}
`

// edgeCut is how long the site stays cut off: long beside the grace (2 s)
// and the failover, short beside a test's budget.
const edgeCut = 60 * time.Second

// edgeWant is the desired count of each workload, by container name.
type edgeWant map[string]int

// edgeContainer is a running container as a node's containerd holds it.
type edgeContainer struct {
	id, pod, startedAt string
}

// nodeContainers reads node's containerd: its running containers, by
// container name.
func (f *fleet) nodeContainers(node string) (map[string][]edgeContainer, error) {
	l := f.labState()
	ns := "shoal-" + l.Name + "-" + node
	out, err := exec.Command("ctr", "-a", l.Containerd, "-n", ns, "tasks", "ls").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ctr tasks ls in %s: %v: %s", ns, err, out)
	}
	byName := map[string][]edgeContainer{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != "RUNNING" {
			continue
		}
		info, err := exec.Command("ctr", "-a", l.Containerd, "-n", ns, "containers", "info", fields[0]).Output()
		if err != nil {
			continue // removed since the listing
		}
		var c struct{ Labels map[string]string }
		if err := json.Unmarshal(info, &c); err != nil {
			return nil, fmt.Errorf("ctr containers info %s: %w", fields[0], err)
		}
		name := c.Labels["io.shoal.container.name"]
		byName[name] = append(byName[name], edgeContainer{id: fields[0], pod: c.Labels["io.shoal.pod.name"], startedAt: c.Labels["io.shoal.container.started-at"]})
	}
	for _, cs := range byName {
		sort.Slice(cs, func(i, j int) bool { return cs[i].id < cs[j].id })
	}
	return byName, nil
}

// edgeCounts counts each workload's running containers fleet-wide.
func (f *fleet) edgeCounts() (map[string]int, map[string]map[string]int, error) {
	total := map[string]int{}
	perNode := map[string]map[string]int{}
	for _, node := range f.liveNodes(nil) {
		cs, err := f.nodeContainers(node)
		if err != nil {
			return nil, nil, err
		}
		perNode[node] = map[string]int{}
		for name, list := range cs {
			total[name] += len(list)
			perNode[node][name] = len(list)
		}
	}
	return total, perNode, nil
}

// waitEdgeCounts waits until every node's containerd together runs
// exactly the desired count of each workload, then checks it holds.
func (f *fleet) waitEdgeCounts(want edgeWant, what string) map[string]map[string]int {
	f.t.Helper()
	var last string
	deadline := time.Now().Add(chaosWait)
	for time.Now().Before(deadline) {
		total, perNode, err := f.edgeCounts()
		if err == nil && fmt.Sprint(total) == fmt.Sprint(want) {
			for range 6 {
				time.Sleep(500 * time.Millisecond)
				again, _, err := f.edgeCounts()
				if err != nil || fmt.Sprint(again) != fmt.Sprint(want) {
					f.t.Fatalf("%s: the desired counts were reached, then left: %v (err %v)", what, again, err)
				}
			}
			return perNode
		}
		last = fmt.Sprintf("%v per node %v (err %v)", total, perNode, err)
		time.Sleep(500 * time.Millisecond)
	}
	f.t.Fatalf("%s: containerd never ran exactly %v; last %s", what, want, last)
	return nil
}

// servesInNode fetches the page of every pod IP from inside node's network
// namespace, where the node's own pods stay reachable while it is cut off.
func (f *fleet) servesInNode(node string, ips []string) error {
	n, err := f.labState().Node(node)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		out, err := exec.Command("ip", "netns", "exec", n.Netns, "curl", "-s", "--max-time", "2", "http://"+ip+":8080/index.html").CombinedOutput()
		if err != nil || string(out) != "keep\n" {
			return fmt.Errorf("http://%s:8080 in %s: %v %q", ip, node, err, out)
		}
	}
	return nil
}

// keepIPs are the pod IPs of the keep Deployment's pods on node.
func (f *fleet) keepIPs(node string, down map[string]bool) []string {
	f.t.Helper()
	pods, err := f.podsOf("keep", down)
	if err != nil {
		f.t.Fatal(err)
	}
	var ips []string
	for i := range pods {
		if pods[i].Spec.NodeName == node {
			ips = append(ips, pods[i].Status.PodIP)
		}
	}
	return ips
}

// kept is what a cut-off node must go on running unchanged: its keep and
// daemon containers with their start times.
func kept(cs map[string][]edgeContainer) string {
	return fmt.Sprint(cs["keep"], cs["daemon"])
}

func TestEdgeAutonomy(t *testing.T) {
	f := startFleet(t, labName("pe"), "--nodes", "4", "--node-memory", "1Gi")
	f.importBusybox()
	k := kubectlOn(t, f)
	for name, m := range map[string]string{"keep.yaml": edgeKeep, "daemon.yaml": edgeDaemon, "plain.yaml": edgePlain} {
		k.ok("apply", "-f", k.file(name, m))
	}
	want := edgeWant{"keep": 4, "daemon": 4, "plain": 4}
	perNode := f.waitEdgeCounts(want, "all three workloads running")

	// The site: a node other than n1 (the CLI's) that runs a kept pod and
	// a replica of the RC; the client n4 first.
	leader := f.leader(nil)
	victim := ""
	for _, n := range []string{"n4", "n3", "n2"} {
		if n != leader && perNode[n]["keep"] > 0 && perNode[n]["plain"] > 0 {
			victim = n
			break
		}
	}
	if victim == "" {
		t.Fatalf("no node besides n1 and the leader %s runs both a kept pod and a replica: %v", leader, perNode)
	}

	cut := func(t *testing.T, restart bool) {
		t.Helper()
		down := map[string]bool{victim: true}
		before, err := f.nodeContainers(victim)
		if err != nil {
			t.Fatal(err)
		}
		ips := f.keepIPs(victim, nil)
		if err := f.servesInNode(victim, ips); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		f.run("lab", "partition", f.name, victim, "--state-root", f.stateRoot)
		var moved time.Duration
		restarted := !restart
		checks := 0
		for time.Since(start) < edgeCut || moved == 0 {
			if time.Since(start) > edgeCut+chaosWait {
				t.Fatalf("the RC's replicas never moved off %s", victim)
			}
			if !restarted && time.Since(start) > edgeCut/3 {
				f.run("lab", "restart", f.name, victim, "--state-root", f.stateRoot)
				restarted = true
			}
			// The kept pods serve the whole time, from the same containers.
			if err := f.servesInNode(victim, ips); err != nil {
				t.Fatalf("%v after the cut: a kept pod stopped serving: %v", time.Since(start).Round(time.Second), err)
			}
			now, err := f.nodeContainers(victim)
			if err != nil {
				t.Fatal(err)
			}
			if kept(now) != kept(before) {
				t.Fatalf("%v after the cut: the cut-off node's kept containers changed: %s, were %s", time.Since(start).Round(time.Second), kept(now), kept(before))
			}
			checks++
			if moved > 0 && len(now["plain"]) > 0 {
				t.Fatalf("%v after the cut: the cut-off node runs a replica again after the RC's moved: %v", time.Since(start).Round(time.Second), now["plain"])
			}
			if moved == 0 {
				if pods, err := f.podsOf("plain", down); err == nil {
					n := 0
					for i := range pods {
						if running(&pods[i]) && pods[i].Spec.NodeName != victim {
							n++
						}
					}
					if n == want["plain"] && len(now["plain"]) == 0 {
						moved = time.Since(start)
						t.Logf("partition %s (agent restarted: %v): the RC's %d replicas Running elsewhere and none left on %s after %v",
							victim, restart, n, victim, moved.Round(100*time.Millisecond))
					}
				}
			}
			time.Sleep(time.Second)
		}
		t.Logf("%s cut off for %v: %d checks, kept pods served and unchanged throughout", victim, time.Since(start).Round(time.Second), checks)
		f.run("lab", "heal", f.name, victim, "--state-root", f.stateRoot)
		f.waitNodeReady(victim)
		f.waitEdgeCounts(want, "after the heal")
		after, err := f.nodeContainers(victim)
		if err != nil {
			t.Fatal(err)
		}
		if kept(after) != kept(before) {
			t.Fatalf("the healed node's kept containers changed: %s, were %s", kept(after), kept(before))
		}
		// Their status flows back: Running again, not Unknown.
		waitFor(t, "the kept pods Running again in the state", func() bool {
			for _, app := range []string{"keep", "daemon"} {
				pods, err := f.podsOf(app, nil)
				if err != nil {
					return false
				}
				for i := range pods {
					if !running(&pods[i]) || pods[i].Status.Phase == api.PodUnknown {
						return false
					}
				}
			}
			return true
		})
	}
	if !t.Run("partition", func(t *testing.T) { cut(t, false) }) {
		return
	}
	// The RC's replicas left the site; more of them bring some back, so
	// the restarted agent has replicas to stop as well as pods to keep.
	want["plain"] = 8
	k.ok("scale", "rc", "plain", "--replicas=8")
	if perNode = f.waitEdgeCounts(want, "the RC scaled up"); perNode[victim]["plain"] == 0 {
		t.Fatalf("no replica of the scaled RC on %s: %v", victim, perNode)
	}
	t.Run("partition with an agent restart", func(t *testing.T) { cut(t, true) })
}
