package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// Issue 18 item 7's last pod fields, through the machine's kubectl on a
// real lab: native sidecars (a Job's pod completes when its app container
// does, its sidecar is then stopped; a Deployment's pod counts its
// sidecar), hostNetwork for a DaemonSet's node agents (the node's IP, the
// node's namespace, a port clash explained), shareProcessNamespace, and
// bad input refused by field path. Each wait's deadline only bounds a broken fleet.
func TestSidecarsAndHostNetwork(t *testing.T) {
	k := startKubectlFleet(t)
	k.t = t

	t.Run("a Job with a sidecar completes when its app container does", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("sidecar-job.yaml", `apiVersion: batch/v1
kind: Job
metadata: {name: with-sidecar}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: shared, emptyDir: {}}]
      initContainers:
      - name: logger
        image: `+image+`
        restartPolicy: Always
        command: ["sh", "-c", "touch /shared/up; trap 'exit 0' TERM; while true; do sleep 1; done"]
        volumeMounts: [{name: shared, mountPath: /shared}]
        startupProbe: {exec: {command: ["test", "-f", "/shared/up"]}, periodSeconds: 1}
      containers:
      - name: work
        image: `+image+`
        command: ["sh", "-c", "test -f /shared/up && echo sidecar was up"]
        volumeMounts: [{name: shared, mountPath: /shared}]
`))
		k.ok("wait", "--for=condition=complete", "job/with-sidecar", "--timeout=120s")
		out := k.eventually("the sidecar stopped", func(out string) bool {
			return strings.Contains(out, "Succeeded") && strings.Contains(out, `"terminated"`)
		}, "get", "pods", "-l", "job-name=with-sidecar", "-o", "jsonpath={.items[0].status.phase} {.items[0].status.initContainerStatuses[0].state}")
		t.Logf("pod: %s", out)
		logs := k.ok("logs", "-l", "job-name=with-sidecar", "-c", "work")
		if !strings.Contains(logs, "sidecar was up") {
			t.Fatalf("the app container ran before its sidecar was up; logs:\n%s", logs)
		}
	})

	t.Run("a pod counts its running sidecar and stays Ready", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("sidecar-pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: proxied}
spec:
  initContainers:
  - name: proxy
    image: `+image+`
    restartPolicy: Always
    command: ["sleep", "100000"]
  containers:
  - name: app
    image: `+image+`
    command: ["sleep", "100000"]
`))
		k.eventually("proxied 2/2 Running", func(out string) bool { return kubeRow("proxied", "2/2", "Running").MatchString(out) }, "get", "pod", "proxied")
		k.ok("wait", "--for=condition=Ready", "pod/proxied", "--timeout=60s")
		k.ok("delete", "pod", "proxied", "--grace-period=1")
	})

	t.Run("a hostNetwork DaemonSet runs in each node's namespace at the node's IP", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("hostnet-ds.yaml", `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
      - name: main
        image: `+image+`
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && httpd -f -p 9100 -h /www"]
        ports: [{containerPort: 9100}]
        readinessProbe: {tcpSocket: {port: 9100}, periodSeconds: 1}
`))
		k.eventually("2 Ready exporters", func(out string) bool {
			return strings.Count(out, "true") == 2
		}, "get", "pods", "-l", "app=exporter", "-o", "jsonpath={range .items[*]}{.status.containerStatuses[0].ready} {end}")
		nodeIPs := map[string]string{}
		var nodes struct {
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
				Status   struct {
					Addresses []struct{ Type, Address string } `json:"addresses"`
				} `json:"status"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(k.ok("get", "nodes", "-o", "json")), &nodes); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == "InternalIP" {
					nodeIPs[n.Metadata.Name] = a.Address
				}
			}
		}
		pods := strings.Fields(k.ok("get", "pods", "-l", "app=exporter", "-o", "jsonpath={range .items[*]}{.metadata.name},{.spec.nodeName},{.status.podIP} {end}"))
		if len(pods) != 2 {
			t.Fatalf("exporter pods: %v", pods)
		}
		for _, row := range pods {
			f := strings.Split(row, ",")
			name, node, ip := f[0], f[1], f[2]
			if ip == "" || ip != nodeIPs[node] {
				t.Fatalf("pod %s on %s has IP %q, want the node's %q", name, node, ip, nodeIPs[node])
			}
			// The container sees the node's address on its own interfaces.
			if addrs := k.ok("exec", name, "--", "ip", "-o", "addr"); !strings.Contains(addrs, " "+ip+"/") {
				t.Fatalf("pod %s does not see its node's address %s:\n%s", name, ip, addrs)
			}
		}
		// From a pod with its own network, each node's port 9100 answers
		// with the name of the node serving it.
		k.ok("run", "client", "--image="+image, "--restart=Never", "--", "sleep", "100000")
		k.ok("wait", "--for=condition=Ready", "pod/client", "--timeout=60s")
		for node, ip := range nodeIPs {
			got := k.eventually("node "+node+" answering on 9100", func(out string) bool { return strings.TrimSpace(out) == node },
				"exec", "client", "--", "timeout", "5", "wget", "-qO-", "http://"+ip+":9100/") // this busybox's wget -T crashes
			t.Logf("%s:9100 -> %s", ip, strings.TrimSpace(got))
		}

		// A second pod wanting port 9100 on a node's network fits nowhere,
		// and says why in kube-scheduler's words.
		k.ok("apply", "-f", k.file("clash.yaml", `apiVersion: v1
kind: Pod
metadata: {name: clash}
spec:
  hostNetwork: true
  containers:
  - name: main
    image: `+image+`
    command: ["sleep", "100000"]
    ports: [{containerPort: 9100}]
`))
		k.eventually("clash unschedulable for its port", kubeContains("didn't have free ports for the requested pod ports"),
			"get", "pod", "clash", "-o", "jsonpath={.status.conditions[?(@.type=='PodScheduled')].message}")
		k.ok("delete", "pod", "clash", "client", "--grace-period=1")
		k.ok("delete", "daemonset", "exporter")
	})

	t.Run("containers of a pod with shareProcessNamespace see each other's processes", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("shared-pids.yaml", `apiVersion: v1
kind: Pod
metadata: {name: shared-pids}
spec:
  shareProcessNamespace: true
  containers:
  - {name: server, image: `+image+`, command: ["sleep", "4242"]}
  - {name: debug, image: `+image+`, command: ["sleep", "100000"]}
`))
		k.ok("wait", "--for=condition=Ready", "pod/shared-pids", "--timeout=60s")
		if out := k.ok("exec", "shared-pids", "-c", "debug", "--", "ps"); !strings.Contains(out, "sleep 4242") {
			t.Fatalf("debug does not see server's process:\n%s", out)
		}
		// The debug container signals the server's process; the server
		// container exits and is restarted.
		k.ok("exec", "shared-pids", "-c", "debug", "--", "sh", "-c", "kill $(ps | awk '/sleep 424[2]/ {print $1}')")
		k.eventually("server restarted", func(out string) bool { return strings.TrimSpace(out) != "" && strings.TrimSpace(out) != "0" },
			"get", "pod", "shared-pids", "-o", "jsonpath={.status.containerStatuses[?(@.name=='server')].restartCount}")
		k.ok("delete", "pod", "shared-pids", "--grace-period=1")
	})

	t.Run("bad input is refused by field path", func(t *testing.T) {
		k.t = t
		for _, c := range []struct{ manifest, want string }{
			{`apiVersion: v1
kind: Pod
metadata: {name: mapped}
spec:
  containers:
  - {name: c, image: ` + image + `, ports: [{containerPort: 80, hostPort: 8080}]}
`, "spec.containers[0].ports[0].hostPort"},
			{`apiVersion: v1
kind: Pod
metadata: {name: never-sidecar}
spec:
  initContainers:
  - {name: s, image: ` + image + `, restartPolicy: Never}
  containers:
  - {name: c, image: ` + image + `}
`, "spec.initContainers[0].restartPolicy"},
		} {
			out := k.fails("apply", "-f", k.file("bad.yaml", c.manifest))
			if !strings.Contains(out, c.want) {
				t.Fatalf("kubectl apply printed:\n%s\nwant the path %s", out, c.want)
			}
		}
	})
}
