package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// daemonSetManifest is a DaemonSet of the test image; nodeSelector is the
// inside of its flow map, or "" for none.
func daemonSetManifest(name, nodeSelector string) string {
	if nodeSelector != "" {
		nodeSelector = "\n      nodeSelector: {" + nodeSelector + "}"
	}
	return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ` + name + `
spec:
  selector:
    matchLabels: {app: ` + name + `}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1}
  template:
    metadata:
      labels: {app: ` + name + `}
    spec:` + nodeSelector + `
      containers:
      - name: main
        image: ` + image + `
        command: ["sleep", "100000"]
`
}

// daemonPod is one pod of a DaemonSet as kubectl lists it.
type daemonPod struct {
	name, uid, node, phase, image string
	ready                         bool
}

func (k *kubectlFleet) daemonPods(app string) ([]daemonPod, error) {
	out, err := k.try("get", "pods", "-l", "app="+app, "-o", "json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
				UID  string `json:"uid"`
			} `json:"metadata"`
			Spec struct {
				NodeName   string `json:"nodeName"`
				Containers []struct {
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
			Status struct {
				Phase      string `json:"phase"`
				Conditions []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, err
	}
	var ps []daemonPod
	for _, it := range list.Items {
		p := daemonPod{name: it.Metadata.Name, uid: it.Metadata.UID, node: it.Spec.NodeName, phase: it.Status.Phase, image: it.Spec.Containers[0].Image}
		for _, c := range it.Status.Conditions {
			p.ready = p.ready || c.Type == "Ready" && c.Status == "True"
		}
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].node < ps[j].node })
	return ps, nil
}

// onePerNode tells whether ps is exactly one Running, Ready pod on each of
// nodes.
func onePerNode(ps []daemonPod, nodes ...string) bool {
	if len(ps) != len(nodes) {
		return false
	}
	sort.Strings(nodes)
	for i, p := range ps {
		if p.node != nodes[i] || p.phase != "Running" || !p.ready {
			return false
		}
	}
	return true
}

func (k *kubectlFleet) waitDaemonPods(what, app string, cond func([]daemonPod) bool) []daemonPod {
	k.t.Helper()
	var last []daemonPod
	waitFor(k.t, what, func() bool {
		ps, err := k.daemonPods(app)
		last = ps
		return err == nil && cond(ps)
	})
	return last
}

// TestDaemonSets drives DaemonSets through the machine's kubectl on a
// 3-node lab (one Raft seat, so the client nodes can be killed): one pod
// per node, a nodeSelector, a rolling image update sampled while it rolls,
// and a killed node whose pod stays with it.
func TestDaemonSets(t *testing.T) {
	f := startFleet(t, labName("pds"), "--nodes", "3", "--servers", "1")
	f.importBusybox()
	k := kubectlOn(t, f)
	const image2 = "shoal.local/busybox:2"
	archive := filepath.Join(t.TempDir(), "busybox2.tar")
	k.run("image", "build-busybox", "-o", archive, "--ref", image2)
	k.run("image", "import", archive)
	all := []string{"n1", "n2", "n3"}

	// A nodeSelector: only the node that holds the Raft seat.
	servers := strings.Fields(strings.ReplaceAll(k.ok("get", "nodes", "-l", "node-role.shoal.dev/server", "-o", "name"), "node/", ""))
	if len(servers) != 1 {
		t.Fatalf("nodes with the server label: %v, want one", servers)
	}
	k.ok("apply", "-f", k.file("seat.yaml", daemonSetManifest("seat", `node-role.shoal.dev/server: ""`)))
	k.waitDaemonPods("the seat daemon set's pod Running on "+servers[0], "seat", func(ps []daemonPod) bool { return onePerNode(ps, servers...) })
	k.eventually("seat's status", kubeRow("seat", "1", "1", "1", "1", "1", `node-role.shoal.dev/server=`).MatchString, "get", "ds", "seat")

	// A label of the user's: a node that gets it gets a pod, one that
	// loses it loses its pod.
	k.ok("label", "node", "n2", "n3", "disk=ssd")
	k.ok("apply", "-f", k.file("ssd.yaml", daemonSetManifest("ssd", "disk: ssd")))
	k.waitDaemonPods("ssd pods on n2 and n3", "ssd", func(ps []daemonPod) bool { return onePerNode(ps, "n2", "n3") })
	k.ok("label", "node", "n2", "disk-")
	k.waitDaemonPods("the ssd pod gone from n2", "ssd", func(ps []daemonPod) bool { return onePerNode(ps, "n3") })
	k.ok("delete", "ds", "ssd", "seat")

	// The README's example through shoal's own CLI.
	if out := k.run("apply", "-f", "../examples/node-agent-ds.yaml"); !strings.Contains(out, "daemonset/node-agent created") {
		t.Fatalf("shoal apply:\n%s", out)
	}
	k.waitDaemonPods("the example's pod on every node", "node-agent", func(ps []daemonPod) bool { return onePerNode(ps, all...) })
	k.ok("delete", "ds", "node-agent")

	// Every node.
	if out := k.ok("apply", "-f", k.file("agent.yaml", daemonSetManifest("agent", ""))); !strings.Contains(out, "daemonset.apps/agent created") {
		t.Fatalf("kubectl apply:\n%s", out)
	}
	k.waitDaemonPods("one agent pod Running on every node", "agent", func(ps []daemonPod) bool { return onePerNode(ps, all...) })
	k.eventually("agent's status", kubeRow("agent", "3", "3", "3", "3", "3", "<none>").MatchString, "get", "daemonsets")

	// Daemon pods tolerate a cordon, not a NoExecute taint of the user's.
	k.ok("cordon", "n2")
	k.ok("taint", "node", "n2", "dedicated=db:NoExecute")
	k.waitDaemonPods("the agent pod gone from the tainted n2", "agent", func(ps []daemonPod) bool { return onePerNode(ps, "n1", "n3") })
	k.eventually("agent's status without n2", kubeRow("agent", "2", "2", "2", "2", "2").MatchString, "get", "ds", "agent")
	k.ok("taint", "node", "n2", "dedicated-")
	k.waitDaemonPods("an agent pod on the cordoned n2 again", "agent", func(ps []daemonPod) bool { return onePerNode(ps, all...) })
	k.ok("uncordon", "n2")
	if out := k.ok("get", "all"); !strings.Contains(out, "daemonset.apps/agent") {
		t.Errorf("kubectl get all does not list the daemon set:\n%s", out)
	}
	// The stored defaults are Kubernetes', so the manifest applies again
	// unchanged.
	if out := k.ok("apply", "-f", k.file("agent.yaml", daemonSetManifest("agent", ""))); !strings.Contains(out, "daemonset.apps/agent unchanged") {
		t.Errorf("kubectl apply again:\n%s", out)
	}
	kubeMatch(t, k.ok("get", "ds", "agent", "-o", "wide"), kubeRow("agent", "3", "3", "3", "3", "3", "<none>", `\S+`, "main", image, "app=agent"))
	if out := k.ok("describe", "ds", "agent"); !strings.Contains(out, "Desired Number of Nodes Scheduled: 3") {
		t.Errorf("kubectl describe ds:\n%s", out)
	}

	// A rolling update with maxUnavailable 1: at every sample at least two
	// nodes have a Ready pod and no node has two.
	var (
		mu       sync.Mutex
		minReady = 1 << 30
		samples  int
		doubled  []daemonPod
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ps, err := k.daemonPods("agent"); err == nil {
				ready, nodes := 0, map[string]bool{}
				mu.Lock()
				for _, p := range ps {
					if p.ready {
						ready++
					}
					if nodes[p.node] {
						doubled = ps
					}
					nodes[p.node] = true
				}
				minReady = min(minReady, ready)
				samples++
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	k.ok("set", "image", "daemonset/agent", "*="+image2)
	out := k.ok("rollout", "status", "daemonset/agent", "--timeout=5m")
	close(stop)
	<-done
	if !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
		t.Fatalf("kubectl rollout status:\n%s", out)
	}
	mu.Lock()
	t.Logf("rolling update: %d samples, fewest Ready pods seen %d", samples, minReady)
	if samples < 3 || minReady < 2 || doubled != nil {
		t.Fatalf("rolling update: %d samples, fewest Ready pods %d (want at least 3 - maxUnavailable = 2), two pods on a node: %+v", samples, minReady, doubled)
	}
	mu.Unlock()
	ps := k.waitDaemonPods("the updated pods", "agent", func(ps []daemonPod) bool { return onePerNode(ps, all...) })
	for _, p := range ps {
		if p.image != image2 {
			t.Fatalf("after the update: %+v", ps)
		}
	}

	// The history is one ControllerRevision per template; undo rolls the
	// previous one out again, under the same maxUnavailable.
	out = k.ok("rollout", "history", "daemonset/agent")
	kubeMatch(t, out, kubeRow("1", "<none>"))
	kubeMatch(t, out, kubeRow("2", "<none>"))
	kubeMatch(t, k.ok("get", "controllerrevisions"), kubeRow(`agent-\S+`, "daemonset.apps/agent", "2"))
	if out := k.ok("rollout", "undo", "daemonset/agent"); !strings.Contains(out, "daemonset.apps/agent rolled back") {
		t.Fatalf("kubectl rollout undo:\n%s", out)
	}
	k.ok("rollout", "status", "daemonset/agent", "--timeout=5m")
	ps = k.waitDaemonPods("the pods rolled back", "agent", func(ps []daemonPod) bool {
		for _, p := range ps {
			if p.image != image {
				return false
			}
		}
		return onePerNode(ps, all...)
	})
	out = k.ok("rollout", "history", "daemonset/agent")
	if kubeRow("1", "<none>").MatchString(out) || !kubeRow("3", "<none>").MatchString(out) {
		t.Fatalf("history after the undo, want revisions 2 and 3:\n%s", out)
	}

	// kubectl drain leaves a node's daemon pod where it is, as it does on
	// Kubernetes.
	if out := k.fails("drain", "n3", "--timeout=60s"); !strings.Contains(out, "DaemonSet-managed Pods") {
		t.Fatalf("kubectl drain without --ignore-daemonsets:\n%s", out)
	}
	if out := k.ok("drain", "n3", "--ignore-daemonsets", "--timeout=60s"); !strings.Contains(out, "node/n3 drained") {
		t.Fatalf("kubectl drain --ignore-daemonsets:\n%s", out)
	}
	k.ok("uncordon", "n3")
	if after := k.waitDaemonPods("the agent pods after the drain", "agent", func(ps []daemonPod) bool { return onePerNode(ps, all...) }); fmt.Sprint(after) != fmt.Sprint(ps) {
		t.Fatalf("the drain moved daemon pods: %+v, were %+v", after, ps)
	}

	// Kill a client node. A replica pinned to it (the control) is deleted
	// by node lifecycle and made again; the DaemonSet's pod stays, Unknown,
	// and is made nowhere else.
	k.ok("apply", "-f", k.file("ctl.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: ctl}
spec:
  replicas: 1
  selector: {matchLabels: {app: ctl}}
  template:
    metadata: {labels: {app: ctl}}
    spec:
      nodeSelector: {kubernetes.io/hostname: n3}
      containers:
      - {name: main, image: `+image+`, command: ["sleep", "100000"]}
`))
	ctl := k.waitDaemonPods("the control replica Running on n3", "ctl", func(ps []daemonPod) bool { return onePerNode(ps, "n3") })
	var onN3 daemonPod
	for _, p := range ps {
		if p.node == "n3" {
			onN3 = p
		}
	}
	f.run("lab", "kill", f.name, "n3", "--state-root", f.stateRoot)
	k.waitDaemonPods("the control replica of n3 replaced", "ctl", func(ps []daemonPod) bool {
		return len(ps) == 1 && ps[0].uid != ctl[0].uid
	})
	ps, err := k.daemonPods("agent")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].node != "n1" || !ps[0].ready || ps[1].node != "n2" || !ps[1].ready ||
		ps[2].uid != onN3.uid || ps[2].phase != "Unknown" {
		t.Fatalf("daemon pods after n3 was lost: %+v (n3's was %+v)", ps, onN3)
	}
	k.eventually("agent's status with n3 lost", kubeRow("agent", "3", "3", "2", "3", "2").MatchString, "get", "ds", "agent")

	// n3 powers back on: its own pod runs there again.
	f.run("lab", "heal", f.name, "n3", "--state-root", f.stateRoot)
	ps = k.waitDaemonPods("n3's pod Running again", "agent", func(ps []daemonPod) bool { return onePerNode(ps, all...) })
	if ps[2].uid != onN3.uid {
		t.Fatalf("n3's pod was replaced: %+v, was %+v", ps[2], onN3)
	}

	k.ok("delete", "daemonset", "agent")
	k.waitDaemonPods("no agent pods left", "agent", func(ps []daemonPod) bool { return len(ps) == 0 })
}
