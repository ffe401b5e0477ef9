package e2e

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// nodesOf is the nodes the pods matching selector run on, sorted, one
// entry per pod ("" for a pod not yet placed).
func (k *kubectlFleet) nodesOf(selector string) []string {
	k.t.Helper()
	out := k.ok("get", "pods", "-l", selector, "-o", `jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}`)
	nodes := strings.Split(strings.TrimSpace(out), "\n")
	if len(nodes) == 1 && nodes[0] == "" {
		return nil
	}
	sort.Strings(nodes)
	return nodes
}

func avoids(node string) func(string) bool {
	return func(out string) bool { return !strings.Contains(out, node) }
}

// TestNodes drives nodes through the machine's kubectl as an operator
// does: label and annotate, cordon and uncordon, taint NoSchedule and
// NoExecute with and without tolerations, drain, and the node Leases.
func TestNodes(t *testing.T) {
	k := startKubectlFleetOf(t, "nd", 3) // a cordoned, tainted or drained node leaves two others

	// label, annotate.
	k.ok("label", "node", "n3", "disk=ssd")
	k.ok("annotate", "node", "n3", "owner=team-a")
	if out := k.ok("get", "nodes", "-l", "disk=ssd", "-o", "name"); strings.TrimSpace(out) != "node/n3" {
		t.Fatalf("kubectl get nodes -l disk=ssd:\n%s", out)
	}
	if out := k.ok("get", "node", "n3", "-o", "jsonpath={.metadata.annotations.owner}"); out != "team-a" {
		t.Fatalf("annotation owner = %q", out)
	}
	k.ok("label", "node", "n3", "disk-")
	if out := k.ok("get", "nodes", "-l", "disk", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("after kubectl label node n3 disk-:\n%s", out)
	}

	// cordon: a new deployment's pods avoid n3; uncordon.
	if out := k.ok("cordon", "n3"); !strings.Contains(out, "node/n3 cordoned") {
		t.Fatalf("kubectl cordon:\n%s", out)
	}
	kubeMatch(t, k.ok("get", "node", "n3"), kubeRow("n3", "Ready,SchedulingDisabled"))
	k.ok("create", "deployment", "spread", "--image="+image, "--replicas=4", "--", "sleep", "100000")
	k.eventually("4 of 4 ready", kubeRow("spread", "4/4").MatchString, "get", "deployment", "spread")
	if nodes := k.nodesOf("app=spread"); len(nodes) != 4 || strings.Contains(strings.Join(nodes, ","), "n3") {
		t.Fatalf("pods of spread on %v, want 4 off the cordoned n3", nodes)
	}
	k.ok("uncordon", "n3")
	kubeMatch(t, k.ok("get", "node", "n3"), kubeRow("n3", "Ready"))

	// taint NoSchedule: pods without the toleration avoid n1, a pod
	// with it may land there; untaint.
	if out := k.ok("taint", "node", "n1", "dedicated=gpu:NoSchedule"); !strings.Contains(out, "node/n1 tainted") {
		t.Fatalf("kubectl taint:\n%s", out)
	}
	k.ok("create", "deployment", "plain", "--image="+image, "--replicas=4", "--", "sleep", "100000")
	k.eventually("4 of 4 ready", kubeRow("plain", "4/4").MatchString, "get", "deployment", "plain")
	if nodes := k.nodesOf("app=plain"); len(nodes) != 4 || strings.Contains(strings.Join(nodes, ","), "n1") {
		t.Fatalf("pods of plain on %v, want 4 off the tainted n1", nodes)
	}
	pinned := func(name, tolerations string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, labels: {app: pinned}}
spec:
  nodeSelector: {kubernetes.io/hostname: n1}
` + tolerations + `  containers:
  - {name: c, image: ` + image + `, command: [sleep, "100000"]}
`
	}
	k.ok("apply", "-f", k.file("tolerating.yaml", pinned("tolerating", "  tolerations:\n  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}\n")))
	k.ok("apply", "-f", k.file("intolerant.yaml", pinned("intolerant", "")))
	k.eventually("the tolerating pod running on n1", kubeRow("tolerating", "1/1", "Running").MatchString, "get", "pod", "tolerating")
	k.eventually("why the other one waits", kubeContains("node(s) had untolerated taint {dedicated: gpu}"),
		"get", "pod", "intolerant", "-o", `jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}`)
	if out := k.ok("taint", "node", "n1", "dedicated:NoSchedule-"); !strings.Contains(out, "node/n1 untainted") {
		t.Fatalf("kubectl taint ...-:\n%s", out)
	}
	k.eventually("the intolerant pod placed once the taint is gone", kubeRow("intolerant", "1/1", "Running").MatchString, "get", "pod", "intolerant")
	k.ok("delete", "pod", "tolerating", "intolerant", "--grace-period=1")

	// drain n2: its replicas are evicted, re-created on n1 and n3, and
	// n2 stays cordoned. An RC's pods move as a Deployment's do.
	k.ok("apply", "-f", k.file("rc.yaml", `apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 3
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers:
      - {name: c, image: `+image+`, command: [sleep, "100000"]}
`))
	k.eventually("3 of 3 ready", kubeRow("legacy", "3", "3", "3").MatchString, "get", "rc", "legacy")
	out := k.ok("drain", "n2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=3m")
	if !strings.Contains(out, "node/n2 drained") || !strings.Contains(out, "evicted") {
		t.Fatalf("kubectl drain:\n%s", out)
	}
	t.Logf("kubectl drain n2:\n%s", out)
	kubeMatch(t, k.ok("get", "node", "n2"), kubeRow("n2", "Ready,SchedulingDisabled"))
	for _, sel := range []string{"app=spread", "app=plain", "app=legacy"} {
		k.eventually(sel+" pods all off n2", avoids("n2"), "get", "pods", "-l", sel, "-o", `jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}`)
	}
	k.eventually("spread back to 4", kubeRow("spread", "4/4").MatchString, "get", "deployment", "spread")
	k.eventually("plain back to 4", kubeRow("plain", "4/4").MatchString, "get", "deployment", "plain")
	k.eventually("legacy back to 3", kubeRow("legacy", "3", "3", "3").MatchString, "get", "rc", "legacy")

	// NoExecute on n3: the pods there that do not tolerate it are
	// evicted and re-created on n1 (n2 is still cordoned).
	k.ok("taint", "node", "n3", "flaky=yes:NoExecute")
	for _, sel := range []string{"app=spread", "app=plain", "app=legacy"} {
		k.eventually(sel+" pods all off n3", avoids("n3"), "get", "pods", "-l", sel, "-o", `jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}`)
	}
	k.eventually("spread back to 4 on n1", kubeRow("spread", "4/4").MatchString, "get", "deployment", "spread")
	k.ok("taint", "node", "n3", "flaky:NoExecute-")
	k.ok("uncordon", "n2")
	k.ok("delete", "deployment", "spread", "plain")
	k.ok("delete", "rc", "legacy")

	// Leases: one per node in kube-node-lease, renewed by the leader
	// while gossip hears the agent, shown by kubectl describe node.
	k.eventually("a Lease per node", func(out string) bool {
		return kubeRow("n1", "n1").MatchString(out) && kubeRow("n2", "n2").MatchString(out) && kubeRow("n3", "n3").MatchString(out)
	}, "get", "lease", "-n", "kube-node-lease")
	desc := k.ok("describe", "node", "n2")
	kubeMatch(t, desc, regexp.MustCompile(`(?m)^\s+HolderIdentity:\s+n2$`))
	kubeMatch(t, desc, regexp.MustCompile(`(?m)^\s+RenewTime:\s+\w{3}, \d`))
	// A user's Lease is compare-and-set: a write at a stale
	// resourceVersion is refused.
	k.ok("create", "-f", k.file("lease.yaml", `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: lock, resourceVersion: ""}
spec: {holderIdentity: a, leaseDurationSeconds: 15}
`))
	rv := k.ok("get", "lease", "lock", "-o", "jsonpath={.metadata.resourceVersion}")
	k.ok("annotate", "lease", "lock", "touched=yes")
	stale := k.file("stale.yaml", `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: lock, resourceVersion: "`+rv+`"}
spec: {holderIdentity: b, leaseDurationSeconds: 15}
`)
	if out := k.fails("replace", "-f", stale); !strings.Contains(out, "the object has been modified") {
		t.Fatalf("kubectl replace at a stale resourceVersion:\n%s", out)
	}
	if out := k.ok("get", "lease", "lock", "-o", "jsonpath={.spec.holderIdentity}"); out != "a" {
		t.Fatalf("holder after the refused replace = %q, want a", out)
	}
	k.ok("delete", "lease", "lock")
}
